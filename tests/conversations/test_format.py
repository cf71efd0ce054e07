"""The conversation file format: what it accepts, and every refusal naming the file, the step
(number and line) and the key, with the nearest known key when there is one."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.conversations import ConversationError, parse_conversation
from emulator.conversations.format import ExpectStep, TapStep, UserStep, WaitStep
from tests.robustness.process import run_cli

from .conftest import EXAMPLES

HEAD = 'provider: generic\nagent: shop\nphone: "+46701234567"\n'


def problems(text: str) -> list[str]:
    with pytest.raises(ConversationError) as caught:
        parse_conversation(text, "f.convo.yaml")
    return caught.value.problems


def test_the_issue_example_reads_as_written():
    conversation = parse_conversation(
        """\
name: books the first slot
provider: generic            # a registered provider's name
agent: shop_agent            # Generic agentId / SerwerSMS rcs_id
phone: "+46701234567"
timeout: 5                   # seconds to wait for each expectation (default 5)
steps:
  - user: "hi"                                  # the phone types a message
  - expect: {text: "Hello! When shall we come?", suggestions: ["10:00", "12:00"]}
  - tap: "10:00"                                # the phone taps the suggestion with this text
  - expect: {text_contains: "booked"}
""",
        "booking.convo.yaml",
    )
    assert (conversation.name, conversation.provider, conversation.agent) == (
        "books the first slot",
        "generic",
        "shop_agent",
    )
    assert conversation.source == "booking.convo.yaml" and conversation.timeout == 5
    user, expect, tap, booked = conversation.steps
    assert isinstance(user, UserStep) and user.user == "hi" and user.line == 7
    assert isinstance(expect, ExpectStep) and expect.expect.suggestions == ["10:00", "12:00"]
    assert isinstance(tap, TapStep) and tap.tap.label == "10:00" and tap.tap.card is None
    assert isinstance(booked, ExpectStep) and booked.expect.text_contains == "booked"


def test_yaml_guesses_do_not_change_what_was_written():
    # YAML 1.1 reads 10:00 as 600, yes as true and +46701234567 as a number: here they are text.
    conversation = parse_conversation(
        HEAD.replace('"+46701234567"', "+46701234567")
        + """\
name: guesses
timeout: 2m
steps:
  - tap: 10:00
  - user: yes
  - user: 0123
  - expect: {suggestions: [10:00, no, 1e3], timeout: 500ms}
  - wait: 1h
""",
        "x.convo.yaml",
    )
    tap, yes, number, expect, wait = conversation.steps
    assert conversation.phone == "+46701234567" and conversation.timeout == 120
    assert isinstance(tap, TapStep) and tap.tap.label == "10:00"
    assert isinstance(yes, UserStep) and yes.user == "yes"
    assert isinstance(number, UserStep) and number.user == "0123"
    assert isinstance(expect, ExpectStep) and expect.expect.suggestions == ["10:00", "no", "1e3"]
    assert expect.expect.timeout == 0.5
    assert isinstance(wait, WaitStep) and wait.wait == 3600


def test_the_name_defaults_to_the_files():
    assert (
        parse_conversation(HEAD + "steps: [wait: 1]\n", "a/b/tapping.convo.yml").name == "tapping"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEAD + "stpes: [user: hi]\n",
            ["f.convo.yaml: unknown key 'stpes' (did you mean 'steps'?)"],
        ),
        (  # a key a whole conversation must name, misspelt: one mistake, said once
            HEAD.replace("agent: shop", "agnet: shop") + "steps: [wait: 1]\n",
            ["f.convo.yaml: unknown key 'agnet' (did you mean 'agent'?)"],
        ),
        (HEAD + "steps: []\n", ["f.convo.yaml: steps: a conversation needs at least one step"]),
        (
            HEAD + "steps:\n  - usr: hi\n",
            ["f.convo.yaml: step 1 (line 5): unknown step 'usr' (did you mean 'user'?)"],
        ),
        (
            HEAD + "steps:\n  - jump: hi\n",
            [
                "f.convo.yaml: step 1 (line 5): unknown step 'jump' (known: user, tap, expect, "
                "expect_none, wait, include)"
            ],
        ),
        (
            HEAD + "steps:\n  - wait: 1\n  - expect: {text: a, suggestons: [b]}\n",
            [
                "f.convo.yaml: step 2 (expect, line 6): unknown key 'suggestons' (did you mean "
                "'suggestions'?)"
            ],
        ),
        (
            HEAD + "steps:\n  - expect: {file: {nme: menu.pdf}}\n",
            [
                "f.convo.yaml: step 1 (expect, line 5): file: unknown key 'nme' (did you mean 'name'?)"
            ],
        ),
        (
            HEAD + "steps:\n  - tap: {label: Buy, crd: 2}\n",
            ["f.convo.yaml: step 1 (tap, line 5): unknown key 'crd' (did you mean 'card'?)"],
        ),
        (
            HEAD + "steps:\n  - tap: {label: Buy, card: 0}\n",
            ["f.convo.yaml: step 1 (tap, line 5): card: must be greater than or equal to 1"],
        ),
        (
            HEAD + "steps:\n  - user: {a: b}\n",
            [
                "f.convo.yaml: step 1 (user, line 5): user: must be a text (quote it if it looks like "
                "something else)"
            ],
        ),
        (
            HEAD + "steps:\n  - user: ''\n",
            ["f.convo.yaml: step 1 (user, line 5): user: must not be empty"],
        ),
        (
            HEAD + "steps:\n  - expect: hello\n",
            [
                "f.convo.yaml: step 1 (expect, line 5): expect: a mapping of what the message must "
                "show, as {text: ...}"
            ],
        ),
        (
            HEAD + "steps:\n  - expect: {text_matches: '('}\n",
            [
                "f.convo.yaml: step 1 (expect, line 5): text_matches: not a regular expression: "
                "missing ), unterminated subpattern at position 0"
            ],
        ),
        (
            HEAD + "steps:\n  - expect: {file: false}\n",
            [
                "f.convo.yaml: step 1 (expect, line 5): file: must be true (any media message), or "
                "the name, type or url the file must have, as {name: menu.pdf}"
            ],
        ),
        (
            HEAD + "steps:\n  - expect: {timeout: 0}\n",
            ["f.convo.yaml: step 1 (expect, line 5): timeout: must be above 0 seconds"],
        ),
        (
            HEAD + "steps:\n  - expect_none: -1\n",
            ["f.convo.yaml: step 1 (expect_none, line 5): expect_none: cannot be negative"],
        ),
        (
            HEAD + "steps:\n  - wait: soon\n",
            [
                "f.convo.yaml: step 1 (wait, line 5): wait: must be seconds: a number, or as '500ms', "
                "'2s', '5m', '1h'"
            ],
        ),
        (
            HEAD + "steps:\n  - {user: hi, expect: {}}\n",
            [
                "f.convo.yaml: step 1 (line 5): a step is one mapping of one of user, tap, expect, "
                "expect_none, wait, include, as `- user: hi`; it names 'user', 'expect'"
            ],
        ),
        (
            HEAD + "steps:\n  - hi\n",
            [
                "f.convo.yaml: step 1 (line 5): a step is one mapping of one of user, tap, expect, "
                "expect_none, wait, include, as `- user: hi`; it is not a mapping"
            ],
        ),
        (
            "provider: generik\nagent: ''\nphone: '12'\nwebhook_url: ftp://x\ntimeout: 0\nsteps: [wait: 1]\n",
            [
                "f.convo.yaml: provider: unknown provider 'generik' (did you mean 'generic'?); one of generic, serwersms",
                "f.convo.yaml: agent: must not be empty",
                "f.convo.yaml: phone: '12' is not a phone number in E.164 format, with its country code, as +46701234567",
                "f.convo.yaml: webhook_url: 'ftp://x' is not an http:// or https:// URL with a host",
                "f.convo.yaml: timeout: must be above 0 seconds",
            ],
        ),
        (
            HEAD.replace('"+46701234567"', "500600700") + "steps: [wait: 1]\n",
            [
                "f.convo.yaml: phone: '500600700' is not a phone number in E.164 format, with its "
                "country code, as +46701234567"
            ],
        ),
        (
            "agent: a\nsteps:\n  - usr: x\n",
            [
                "f.convo.yaml: provider is required",
                "f.convo.yaml: phone is required",
                "f.convo.yaml: step 1 (line 3): unknown step 'usr' (did you mean 'user'?)",
            ],
        ),
        (
            HEAD + "agent: again\nsteps: [wait: 1]\n",
            ["f.convo.yaml: not valid YAML: line 4, column 1: the key 'agent' is given twice"],
        ),
        (
            HEAD + "steps:\n  - user: &a hi\n  - user: *a\n",
            [
                "f.convo.yaml: not valid YAML: line 6, column 11: aliases (*name) are not allowed in a "
                "conversation"
            ],
        ),
        (
            HEAD + "steps: [\n",
            [
                "f.convo.yaml: not valid YAML: line 5, column 1: expected the node content, but found "
                "'<stream end>'"
            ],
        ),
        (
            "- user: hi\n",
            ["f.convo.yaml: a conversation is a mapping with provider, agent, phone and steps"],
        ),
        ("", ["f.convo.yaml: a conversation is a mapping with provider, agent, phone and steps"]),
        (
            "name: \x1f\n",
            ["f.convo.yaml: not valid YAML: character #x001f at position 6 cannot be in YAML"],
        ),
        (
            "[" * 50_000,
            ["f.convo.yaml: not valid YAML: line 1, column 21: nested deeper than 20 levels"],
        ),
    ],
)
def test_refusals_name_the_file_the_step_and_the_key(text: str, expected: list[str]):
    assert problems(text) == expected


def test_validate_from_the_shell(tmp_path: Path):
    bad = tmp_path / "bad.convo.yaml"
    bad.write_text(HEAD + "steps:\n  - user: hi\n  - expect: {txt: Hello}\n")
    latin = tmp_path / "latin.convo.yaml"
    latin.write_bytes(HEAD.encode() + b"steps: [user: caf\xe9]\n")
    done = run_cli("conversations", "validate", str(EXAMPLES), str(bad), str(latin))
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"FAIL {bad}: step 2 (expect, line 6): unknown key 'txt' (did you mean 'text'?)",
        f"FAIL {latin}: not UTF-8 text",
    ]
    assert f"ok   {EXAMPLES}/failing/wrong-greeting.convo.yaml: conversation 'Generic - " in (
        done.stdout
    )
    assert len(done.stdout.splitlines()) == 7
    good = run_cli("conversations", "validate", str(EXAMPLES / "conversations"))
    assert good.returncode == 0 and len(good.stdout.splitlines()) == 6
    assert (
        f"ok   {EXAMPLES}/conversations/partials/greeting.convo.yaml: partial 'greeting', "
        "2 steps" in good.stdout.splitlines()
    )
    assert (
        f"ok   {EXAMPLES}/conversations/generic-greetings.convo.yaml: conversation 'Generic "
        "- any greeting gets the two slots', 2 steps in 4 variants" in good.stdout.splitlines()
    )
    empty = run_cli("conversations", "validate", str(tmp_path / "nothing"))
    assert empty.returncode == 1
    assert (
        empty.stderr.strip()
        == f"FAIL {tmp_path / 'nothing'}: cannot be read: No such file or directory"
    )
    folder = tmp_path / "folder"
    folder.mkdir()
    none = run_cli("conversations", "validate", str(folder))
    assert none.returncode == 2
    assert none.stderr.strip() == (
        f"rcs-emulator: {folder}: holds no conversation files (.convo.yaml, .convo.yml)"
    )


# -- v2: what spans files (includes, utterances, captures), checked as files are planned ----------


def planned(*files: tuple[str, str]) -> list[object]:
    from emulator.conversations import plan

    loaded: list[object] = []
    for name, text in files:
        try:
            loaded.append(parse_conversation(text, name))
        except ConversationError as exc:
            loaded.append(exc)
    return plan(loaded)  # type: ignore[arg-type]


def plan_problems(*files: tuple[str, str]) -> list[str]:
    return [
        p for item in planned(*files) if isinstance(item, ConversationError) for p in item.problems
    ]


PARTIAL = "name: greet\npartial: true\nsteps:\n  - user: hi\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            [HEAD + "steps:\n  - include: gret\n", PARTIAL],
            [
                "f0.convo.yaml: step 1 (include, line 5): no conversation is named 'gret' (did you mean "
                "'greet'?)"
            ],
        ),
        (
            [HEAD + "steps:\n  - include: greet\n", PARTIAL, PARTIAL],
            [
                "f0.convo.yaml: step 1 (include, line 5): 'greet' is the name of f1.convo.yaml and "
                "f2.convo.yaml: rename one"
            ],
        ),
        (
            [HEAD + "name: loop\nsteps:\n  - user: hi\n  - include: loop\n"],
            [
                "f0.convo.yaml: step 2 (include, line 7): includes go round in a cycle: 'loop' -> "
                "'loop'"
            ],
        ),
        (
            [HEAD + "utterances: {HELLO: [hi]}\nsteps:\n  - user: $HELO\n"],
            [
                "f0.convo.yaml: step 1 (user, line 6): no utterance list is named HELO (did you mean "
                "'HELLO'?)"
            ],
        ),
        (
            [HEAD + "steps:\n  - expect: {capture: {order: '\\d+'}}\n  - user: ${ordr} ${x}\n"],
            [
                "f0.convo.yaml: step 2 (user, line 6): ${ordr} is captured by no earlier step (did you "
                "mean 'order'?)",
                "f0.convo.yaml: step 2 (user, line 6): ${x} is captured by no earlier step (captured so "
                "far: order)",
            ],
        ),
        (
            [HEAD + "steps:\n  - user: ${order}\n  - expect: {capture: {order: '\\d+'}}\n"],
            [
                "f0.convo.yaml: step 1 (user, line 5): ${order} is captured by no earlier step "
                "(captured so far: nothing)"
            ],
        ),
        (
            [
                HEAD + "utterances: {A: [1, 2, 3, 4, 5, 6, 7, 8], B: [1, 2, 3, 4, 5, 6, 7, 8, 9]}\n"
                "steps:\n  - user: $A\n  - user: $B\n"
            ],
            ["f0.convo.yaml: utterances: 8 (A) x 9 (B) make 72 variants; a file runs at most 64"],
        ),
        (
            [PARTIAL.replace("steps", 'phone: "+46701234567"\nsteps')],
            [
                "f0.convo.yaml: phone: a partial conversation takes the phone of the file that "
                "includes it (leave it out)"
            ],
        ),
        (
            [HEAD + "steps:\n  - tap: {label: A, postback: a}\n  - tap: {message: 0, label: A}\n"],
            [
                "f0.convo.yaml: step 1 (tap, line 5): tap: names the chip by its label or by its "
                "postback (one of them)",
                "f0.convo.yaml: step 2 (tap, line 6): message: must be less than or equal to -1",
            ],
        ),
        (
            [HEAD + "steps:\n  - expect: {capture: {2x: a}, ignore_case: maybe}\n"],
            [
                "f0.convo.yaml: step 1 (expect, line 5): ignore_case: must be a valid boolean, unable "
                "to interpret input",
                "f0.convo.yaml: step 1 (expect, line 5): capture: '2x' is not a name: letters, digits "
                "and _, not first a digit",
            ],
        ),
    ],
)
def test_what_spans_files_is_one_line_per_problem(files: list[str], expected: list[str]):
    named = [(f"f{i}.convo.yaml", text) for i, text in enumerate(files)]
    problems = plan_problems(*named)
    assert sorted(problems) == sorted(expected)


def test_files_valid_before_mean_what_they_meant():
    # `$word` and `${word}` are text as written in a file with no utterances and no captures.
    [case] = planned(("f.convo.yaml", HEAD + "steps:\n  - user: $5 off ${code}\n  - user: $HI\n"))
    assert [p.step.user for p in case.steps] == ["$5 off ${code}", "$HI"]  # type: ignore[attr-defined]


def test_validate_names_each_problem_of_each_file(tmp_path: Path):
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "greet.convo.yaml").write_text(PARTIAL)
    good = tmp_path / "good.convo.yaml"
    good.write_text(HEAD + "steps:\n  - include: greet\n  - expect: {}\n")
    bad = tmp_path / "bad.convo.yaml"
    bad.write_text(HEAD + "steps:\n  - include: greeet\n  - tap: {labl: x}\n")
    done = run_cli("conversations", "validate", str(good), str(bad))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"ok   {good}: conversation 'good', 2 steps"]
    assert done.stderr.splitlines() == [
        f"FAIL {bad}: step 2 (tap, line 6): unknown key 'labl' (did you mean 'label'?)",
    ]
    bad.write_text(HEAD + "steps:\n  - include: greeet\n")
    done = run_cli("conversations", "validate", str(bad))
    assert done.stderr.splitlines() == [
        f"FAIL {bad}: step 1 (include, line 5): no conversation is named 'greeet' (did you mean "
        "'greet'?)"
    ]
