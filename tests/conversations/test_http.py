"""POST /_emulator/conversations/run: the files' text in, results out (JSON, or JUnit), against
the sample bot as a real process; and the bounds that keep a stranger's run from hanging it."""

from __future__ import annotations

import asyncio
import json
import textwrap
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from emulator import Config
from tests.conftest import GENERIC_AUTH, open_client

from .conftest import EXAMPLES, Served

HEAD = """\
provider: generic
agent: booking_agent
phone: "+46701234567"
timeout: 3
"""


def convo(steps: str, head: str = HEAD) -> str:
    return head + "steps:\n" + textwrap.indent(textwrap.dedent(steps), "  ")


def test_the_examples_pass_and_the_failing_one_names_its_step(rcs_conversations: Served):
    files = [
        (str(p.relative_to(EXAMPLES)), p.read_text())
        for p in sorted(EXAMPLES.rglob("*.convo.yaml"))
    ]
    answer = rcs_conversations.run(*files)
    # Each utterance variant is a case; the partial none (it runs only where included).
    assert answer["counts"] == {"passed": 8, "failed": 1, "error": 0}
    assert answer["passed"] is False
    assert answer["summary"] == "9 conversations: 8 passed, 1 failed"
    [failed] = [r for r in answer["results"] if r["outcome"] == "failed"]
    assert failed["source"] == "failing/wrong-greeting.convo.yaml"
    assert failed["failure"] == {
        "step": 2,
        "line": 9,
        "what": 'expect: text "Hi! What time suits you?"',
        "expected": 'text "Hi! What time suits you?"',
        "came": '"Hello! When shall we come?" [10:00] [12:00]',
        "mismatches": [
            'text: expected "Hi! What time suits you?", was "Hello! When shall we come?"'
        ],
        "hints": [],
    }
    assert [s["passed"] for s in failed["steps"]] == [True, False]
    assert failed["transcript"] == [
        {"who": "phone", "text": "hi"},
        {"who": "bot", "text": '"Hello! When shall we come?" [10:00] [12:00]'},
    ]
    booking = next(
        r for r in answer["results"] if r["source"].endswith("generic-booking.convo.yaml")
    )
    assert booking["outcome"] == "passed" and booking["total_steps"] == len(booking["steps"]) == 10
    order = booking["captured"]["order"]
    assert booking["transcript"][6:8] == [
        {"who": "phone", "text": f"status {order}"},
        {"who": "bot", "text": f'"Order #{order}: booked for 10:00." [Cancel]'},
    ]
    # The conversations were ordinary ones: the phone opened the thread, the bot answered.
    messages = rcs_conversations.http.get(
        "/_emulator/messages", params={"phone": "+46701234567"}
    ).json()["items"]
    assert messages[0]["kind"] == "user" and messages[0]["events"][0]["text"] == "hi"
    assert messages[1]["text"] == "Hello! When shall we come?"
    # The ten seconds the conversation let pass delivered and read what the bot had sent by then.
    assert [m["status"] for m in messages[1:3]] == ["read", "read"]


def test_each_part_of_an_expectation_that_does_not_hold_is_named(rcs_conversations: Served):
    answer = rcs_conversations.run(
        (
            "parts.convo.yaml",
            convo("""\
        - user: hi
        - expect: {text_contains: Hello, suggestions: ["10:00", "11:00"], card_title: Slots}
        """),
        )
    )
    [result] = answer["results"]
    assert result["failure"]["came"] == '"Hello! When shall we come?" [10:00] [12:00]'
    assert result["failure"]["expected"] == (
        'text containing "Hello", suggestions [10:00] [11:00], a card titled "Slots"'
    )
    assert result["failure"]["mismatches"] == [
        "suggestions: expected [10:00] [11:00], were [10:00] [12:00]",
        'cards: expected one titled "Slots", had no cards',
    ]


@pytest.mark.parametrize(
    ("expect", "mismatch"),
    [
        (
            '{text_matches: "^Hi"}',
            'text: expected it to match /^Hi/, was "Hello! When shall we come?"',
        ),
        ("{file: true}", "file: expected a media message, it had no file"),
        ("{suggestions: []}", "suggestions: expected none, were [10:00] [12:00]"),
        (
            '{text: "hello! when shall we come?"}',
            'text: expected "hello! when shall we come?", was "Hello! When shall we come?"',
        ),
    ],
)
def test_expectations(rcs_conversations: Served, expect: str, mismatch: str):
    answer = rcs_conversations.run(("e.convo.yaml", convo(f"- user: hi\n- expect: {expect}\n")))
    assert answer["results"][0]["failure"]["mismatches"] == [mismatch]


def test_cards_and_files_as_the_phone_sees_them(rcs_conversations: Served):
    answer = rcs_conversations.run(
        (
            "c.convo.yaml",
            convo("""\
        - user: prices
        - expect: {card_title: Haircut}
        - user: brochure
        - expect: {file: true}
        """),
        )
    )
    [result] = answer["results"]
    assert result["transcript"][1]["text"] == (
        'carousel: card "Haircut" "30 EUR" [Book]; card "Colour" "60 EUR" [Book] | [Menu]'
    )
    # Generic has no file message: the bot sends its brochure as a card, which is no file.
    assert result["failure"]["came"] == 'card "Our brochure"'
    serwersms = HEAD.replace("generic", "serwersms").replace("booking_agent", "booking-bot")
    answer = rcs_conversations.run(
        (
            "f.convo.yaml",
            convo(
                """\
        - user: brochure
        - expect: {file: {name: brochure.pdf, type: application/pdf, url: "https://example.com/x"}}
        """,
                serwersms.replace("+46701234567", "+48500600700"),
            ),
        )
    )
    failure = answer["results"][0]["failure"]
    assert failure["came"] == "file brochure.pdf (application/pdf)"
    assert failure["mismatches"] == [
        'file url: expected "https://example.com/x", was "https://example.com/brochure.pdf"'
    ]


def test_taps(rcs_conversations: Served):
    answer = rcs_conversations.run(
        (
            "t.convo.yaml",
            convo("""\
        - user: hi
        - expect: {text_contains: Hello}
        - tap: "11:00"
        """),
        )
    )
    failure = answer["results"][0]["failure"]
    assert (failure["step"], failure["what"]) == (3, "tap: [11:00]")
    assert failure["expected"] == "a chip [11:00] on the bot's newest message"
    assert failure["came"] == '"Hello! When shall we come?" [10:00] [12:00]'
    # A tap with nothing to tap on waits for the bot's first message, then says so.
    quiet = HEAD.replace("+46701234567", "+46701234599").replace("timeout: 3", "timeout: 0.3")
    answer = rcs_conversations.run(("n.convo.yaml", convo("- tap: Yes\n", quiet)))
    failure = answer["results"][0]["failure"]
    assert (failure["expected"], failure["came"]) == (
        "a message with a chip [Yes] within 0.3 s",
        "nothing",
    )


def test_expect_none_fails_when_the_bot_speaks(rcs_conversations: Served):
    answer = rcs_conversations.run(("q.convo.yaml", convo("- user: hi\n- expect_none: 3\n")))
    failure = answer["results"][0]["failure"]
    assert failure["expected"] == "no message for 3 s"
    assert failure["came"].startswith('"Hello! When shall we come?" [10:00] [12:00] (after ')


def test_a_wait_moves_the_manual_clock_of_its_own_tenants_only(rcs_conversations: Served):
    http = rcs_conversations.http

    def epoch(tenant: str | None = None) -> float:
        return float(
            http.get("/_emulator/clock", params={"tenant": tenant} if tenant else {}).json()[
                "epoch"
            ]
        )

    before = {t: epoch(t) for t in (None, "default", "booking-bot-key", "someone-else")}
    answer = rcs_conversations.run(
        (
            "w.convo.yaml",
            convo("""\
        - user: hi
        - expect: {text_contains: Hello}
        - wait: 2h
        """),
        )
    )
    assert answer["results"][0]["transcript"][-1] == {"who": "clock", "text": "7200 s pass"}
    # The phone's thread (opened in 'default') and the bot's answers (its key's tenant) moved;
    # every one else's time, and the shared time, stayed.
    moved = {t: epoch(t) - b for t, b in before.items()}
    assert moved == {None: 0, "default": 7200, "booking-bot-key": 7200, "someone-else": 0}
    # What the bot sent by then was delivered and read on the way.
    [greeting] = [m for m in http.get("/_emulator/messages").json()["items"] if m["kind"] == "text"]
    assert greeting["status"] == "read"


def test_when_nothing_comes_the_failure_says_why(rcs_conversations: Served):
    # The bot's send to a number SerwerSMS does not serve here is refused.
    head = HEAD.replace("generic", "serwersms").replace("booking_agent", "booking-bot")
    answer = rcs_conversations.run(
        (
            "r.convo.yaml",
            convo("- user: hi\n- expect: {}\n", head.replace("timeout: 3", "timeout: 1")),
        )
    )
    failure = answer["results"][0]["failure"]
    assert (failure["expected"], failure["came"]) == ("any message", "nothing within 1 s")
    assert failure["hints"][0] == (
        "the bot accepted step 1's callback (status 200) and has sent this phone nothing since"
    )
    assert failure["hints"][1].startswith(
        'the emulator refused POST /messages/send_rcs.json -> 200: {"error": {"code": 6317,'
    )
    # The bot answers as another tenant (its own API key) than the file says.
    other = HEAD.replace("timeout: 3", "timeout: 1") + "tenant: someone-else\n"
    answer = rcs_conversations.run(("o.convo.yaml", convo("- user: hi\n- expect: {}\n", other)))
    assert answer["results"][0]["failure"]["hints"][-1] == (
        "this phone got a message from tenant booking-bot-key, not "
        "someone-else: "
        '"Hello! When shall we come?" [10:00] [12:00]'
    )
    # A callback nobody takes.
    down = HEAD + 'webhook_url: "http://127.0.0.1:9/webhook"\n'
    answer = rcs_conversations.run(
        ("d.convo.yaml", convo("- user: hi\n- expect: {timeout: 0.5}\n", down))
    )
    [hint] = answer["results"][0]["failure"]["hints"]
    assert hint.startswith("step 1's callback to http://127.0.0.1:9/webhook was not accepted (")
    assert hint.endswith("; retrying)")


@pytest.mark.anyio
async def test_an_agent_without_a_webhook_url_is_named(mode, redis_url):
    # In every mode: on a shared state the run itself is no command; the calls it makes are.
    steps = "- user: hi\n- wait: 5\n- expect: {timeout: 0.2}\n"
    async with open_client(mode, Config(clock="manual"), redis_url) as client:
        answer = await client.post(
            "/_emulator/conversations/run",
            json={"files": [{"name": "x.convo.yaml", "text": convo(steps)}]},
        )
        assert answer.status_code == 422, answer.text
        [opened] = (await client.get("/_emulator/messages")).json()["items"]
        assert (opened["kind"], opened["tenant"]) == ("user", "default")
    assert answer.json()["results"][0]["transcript"][1] == {"who": "clock", "text": "5 s pass"}
    [hint] = answer.json()["results"][0]["failure"]["hints"]
    assert hint == (
        "step 1 made no callback: agent booking_agent has no webhook URL (give "
        "webhook_url in the file, in the emulator's config, or through PUT "
        "/_emulator/agents/...)"
    )


def test_a_phone_without_rcs_cannot_write(rcs_conversations: Served):
    head = HEAD.replace("+46701234567", "+46700000001")
    answer = rcs_conversations.run(("x.convo.yaml", convo("- user: hi\n", head)))
    failure = answer["results"][0]["failure"]
    assert failure["expected"] == "the emulator to take the phone's message"
    assert (
        failure["came"] == "refused: +46700000001 has no RCS capability: it cannot write over RCS"
    )


def test_a_file_that_cannot_run_is_an_error_naming_the_step_and_key(rcs_conversations: Served):
    bad = convo("- user: hi\n- expect: {txt: Hello}\n- tapp: x\n")
    answer = rcs_conversations.run(("bad.convo.yaml", bad), ("ok.convo.yaml", convo("- wait: 1\n")))
    bad_result, ok_result = answer["results"]
    assert bad_result["outcome"] == "error" and ok_result["outcome"] == "passed"
    assert bad_result["error"] == (
        "bad.convo.yaml: step 2 (expect, line 7): unknown key 'txt' (did you mean 'text'?)\n"
        "bad.convo.yaml: step 3 (line 8): unknown step 'tapp' (did you mean 'tap'?)"
    )
    assert answer["counts"] == {"passed": 1, "failed": 0, "error": 1}


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x1f",
        "[" * 60_000,
        "steps: &a [*a]",
        "a: " + "{b: " * 30 + "c" + "}" * 30,
        HEAD + "steps:\n" + "  - user: \ud800\n",
    ],
)
def test_hostile_text_gets_an_answer(rcs_conversations: Served, text: str):
    body = json.dumps({"files": [{"name": "h\x00<x>.convo.yaml", "text": text}]})  # \\u escapes
    answer = rcs_conversations.http.post(
        "/_emulator/conversations/run", content=body, headers={"content-type": "application/json"}
    )
    if "\ud800" in text:  # JSON cannot carry a lone surrogate as text: refused as JSON
        assert answer.status_code == 400
        assert answer.json()["error"].startswith("the body is not valid JSON")
        return
    assert answer.status_code == 422, answer.text
    [result] = answer.json()["results"]
    assert result["outcome"] == "error" and result["error"].startswith("h\x00<x>.convo.yaml: ")


def test_an_agent_id_of_any_characters(rcs_conversations: Served):
    head = HEAD.replace("booking_agent", "'a/../?#% b'") + 'webhook_url: "http://127.0.0.1:9/x"\n'
    answer = rcs_conversations.run(("o.convo.yaml", convo("- wait: 1\n", head)))
    assert answer["results"][0]["outcome"] == "passed", answer
    agents = rcs_conversations.http.get("/_emulator/agents").json()["items"]
    assert {"a/../?#% b": "http://127.0.0.1:9/x"}.items() <= {
        a["agent_id"]: a["webhook_url"] for a in agents
    }.items()


def test_reset_forgets_the_files_tenant_and_nothing_shared(rcs_conversations: Served):
    http = rcs_conversations.http
    bots = {"Earlier": "booking-bot-key", "Another tenant's": "someone-else"}
    for text, key in bots.items():
        sent = http.post(
            "/Rcs/api/v1/Message",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "agentId": "booking_agent",
                "number": ["+46701234567"],
                "messageType": "TextMessage",
                "text": text,
            },
        )
        assert sent.status_code == 200
    # A file naming its tenant: that tenant's state is forgotten first, no one else's.
    steps = "- user: hi\n- expect: {text_contains: Hello}\n"
    named = convo(steps, HEAD + "tenant: booking-bot-key\n")
    answer = rcs_conversations.run(("a.convo.yaml", named), reset=True)
    assert answer["passed"], answer
    kept = [m["text"] for m in http.get("/_emulator/messages").json()["items"]]
    assert "Earlier" not in kept and "Another tenant's" in kept
    # A file naming none forgets nothing (others may be reading it); it reads only what
    # happens to its phone from its start, so what came before does not confuse it.
    answer = rcs_conversations.run(("b.convo.yaml", convo(steps)), reset=True)
    assert answer["passed"], answer
    kept = [m["text"] for m in http.get("/_emulator/messages").json()["items"]]
    assert kept.count("Hello! When shall we come?") == 2 and "Another tenant's" in kept


def test_junit_is_well_formed_whatever_the_bot_sent(rcs_conversations: Served):
    evil = 'bell\x07 escape\x1b nul\x00 <tag> & "quotes" ]]> end'
    sent = rcs_conversations.http.post(
        "/Rcs/api/v1/Message",
        headers=GENERIC_AUTH,
        json={
            "agentId": "booking_agent",
            "number": ["+46701234567"],
            "messageType": "TextMessage",
            "text": evil,
            "suggestedReplies": [{"text": "A\x01", "postbackData": "a"}],
        },
    )
    assert sent.status_code == 200, sent.text
    report = rcs_conversations.run(
        ("j.convo.yaml", convo("- tap: Nope\n")), report="junit", status=422
    )
    root = ET.fromstring(report.encode())
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == "1"
    case = suite.find("testcase")
    assert case is not None and case.get("classname") == "j"
    failure = case.find("failure")
    assert failure is not None
    message = failure.get("message") or ""
    assert message.startswith("step 1 (line 6): expected a chip [Nope] on the bot's newest message")
    assert 'bell\\u0007 escape\\u001b nul\\u0000 <tag> & \\"quotes\\" ]]> end' in message
    assert "[A\\u0001]" in message


def test_bounds(rcs_conversations: Served):
    too_many = convo("- wait: 1\n" * 201)
    long_wait = convo("- expect_none: 61\n")
    answer = rcs_conversations.run(("many.convo.yaml", too_many), ("long.convo.yaml", long_wait))
    assert [r["error"] for r in answer["results"]] == [
        "201 steps: a run here takes at most 200 a conversation",
        "step 1 expect_none 61 s: a run here waits at most 60 s at a time",
    ]
    files = [{"name": f"{i}.convo.yaml", "text": convo("- wait: 1\n")} for i in range(21)]
    refused = rcs_conversations.http.post("/_emulator/conversations/run", json={"files": files})
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "files: List should have at most 20 items after validation, not 21",
        "field": "files",
    }
    huge = {"files": [{"name": "h.convo.yaml", "text": "#" * (64 * 1024 + 1)}]}
    refused = rcs_conversations.http.post("/_emulator/conversations/run", json=huge)
    assert refused.status_code == 400 and refused.json()["field"] == "files.0.text"
    refused = rcs_conversations.http.post(
        "/_emulator/conversations/run",
        json={"files": [{"name": "a", "text": "x"}], "report": "xml"},
    )
    assert refused.status_code == 400
    assert refused.json() == {"error": "report: must be 'json' or 'junit'", "field": "report"}


@pytest.mark.anyio
async def test_a_real_clock_wait_past_the_bound_fails_at_once():
    async with open_client("asgi", Config(clock="real")) as client:
        answer = await client.post(
            "/_emulator/conversations/run",
            json={"files": [{"name": "x.convo.yaml", "text": convo("- wait: 61\n")}]},
        )
    failure = answer.json()["results"][0]["failure"]
    assert failure["expected"] == "at most 60 s of real waiting here"
    assert (
        failure["came"]
        == "a wait of 61 s on the emulator's real clock (a manual clock moves at once)"
    )


@pytest.mark.anyio
async def test_runs_queue_for_their_turn_and_say_failure(rcs_conversations: Served):
    # Twenty runs at once (two run, the others wait their turn): none is refused, each answers
    # for itself, 200 when it passed and 422 when it did not.
    def body(i: int) -> dict[str, Any]:
        phone = f"+4670123{4600 + i}"
        greeting = "Hello! When shall we come?" if i % 5 else "Hi!"
        steps = f"- user: hi\n- expect: {{text: {greeting!r}}}\n- expect_none: 0.3\n"
        text = convo(steps, HEAD.replace("+46701234567", phone))
        return {"files": [{"name": f"{i}.convo.yaml", "text": text}]}

    url = rcs_conversations.base_url + "/_emulator/conversations/run"
    async with httpx.AsyncClient(timeout=120) as client:
        answers = await asyncio.gather(*(client.post(url, json=body(i)) for i in range(20)))
    statuses = [a.status_code for a in answers]
    assert statuses == [422 if i % 5 == 0 else 200 for i in range(20)], [a.text for a in answers]
    assert {a.json()["status"] for a in answers} == {"passed", "failed"}
    failed = answers[0].json()["results"][0]["failure"]
    assert failed["mismatches"] == ['text: expected "Hi!", was "Hello! When shall we come?"']
