"""`rcs-emulator ctl`, run as a subprocess against a live emulator, as someone testing from a
shell or another language runs it: tables, --json, the control token, one-line mistakes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from emulator import Config, EmulatorServer
from emulator.testing import WebhookReceiver
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.robustness.process import BIN, run_cli

PHONE = "+46701234567"
BOT = "54c53be2-cbb8-11ec-9d64-0242ac120002"


@pytest.fixture
def rcs_live() -> Iterator[EmulatorServer]:
    with EmulatorServer(Config(port=0, clock="manual", seed=7)) as server:
        yield server


def ctl(server: EmulatorServer, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_cli("ctl", *args, "--url", server.base_url, env=env)


def send_generic(server: EmulatorServer, text: str = "Hello!", phone: str = PHONE) -> str:
    body = {"agentId": "shop", "number": [phone], "messageType": "TextMessage", "text": text,
            "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}]}  # fmt: skip
    response = httpx.post(f"{server.base_url}/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
    response.raise_for_status()
    return str(response.json()["tagId"])


def send_serwersms(server: EmulatorServer, text: str) -> None:
    body = {"rcs_id": BOT, "phone": "500600700", "message": {"text": text}}
    httpx.post(f"{server.base_url}/messages/send_rcs.json", json=body,
               headers=SERWERSMS_AUTH).raise_for_status()  # fmt: skip


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_messages_as_a_table_and_as_json(rcs_live) -> None:
    send_generic(rcs_live, "Hello!\nSecond line")
    send_serwersms(rcs_live, "Cześć")
    done = ctl(rcs_live, "messages")
    assert done.returncode == 0, done.stderr
    header, generic, serwersms = done.stdout.splitlines()
    assert header.split() == ["TIME", "PROVIDER", "AGENT", "PHONE", "KIND", "STATUS", "TEXT", "ID"]
    assert generic.split()[1:6] == ["generic", "shop", PHONE, "text", "sent"]
    assert "Hello!\\nSecond line" in generic  # one row per message, whatever its text
    assert serwersms.split()[1:6] == ["serwersms", BOT, "+48500600700", "text", "sent"]
    assert "Cześć" in serwersms

    done = ctl(rcs_live, "messages", "--phone", PHONE, "--json")
    [message] = json.loads(done.stdout)
    assert (message["provider"], message["text"]) == ("generic", "Hello!\nSecond line")
    assert "exchange" not in message  # the listing leaves each request out


def test_messages_shows_the_newest_and_says_when_there_are_none(rcs_live) -> None:
    assert ctl(rcs_live, "messages").stdout.strip() == "(none)"
    for i in range(5):
        send_generic(rcs_live, f"text {i}")
    rows = ctl(rcs_live, "messages", "--limit", "2").stdout.splitlines()[1:]
    assert ["text 3" in rows[0], "text 4" in rows[1]] == [True, True]


def test_advance_runs_the_timeline_and_webhooks_show_the_callbacks(rcs_live) -> None:
    with WebhookReceiver() as receiver:
        httpx.put(f"{rcs_live.base_url}/_emulator/agents/generic/shop",
                  json={"webhook_url": receiver.url}).raise_for_status()  # fmt: skip
        send_generic(rcs_live)
        done = ctl(rcs_live, "advance", "1m")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("advanced 60 s: now ")
        assert done.stdout.rstrip().endswith("events ran")
        assert [c["json"]["Type"] for c in receiver.calls] == ["DELIVERED", "READ"]
    webhooks = ctl(rcs_live, "webhooks").stdout.splitlines()
    assert webhooks[0].split() == ["TIME", "ID", "PROVIDER", "CALLBACK", "PHONE", "STATE",
                                   "TRIES", "ANSWER", "URL"]  # fmt: skip
    assert [row.split()[3] for row in webhooks[1:]] == ["DELIVERED", "READ"]
    assert all(row.split()[5:8] == ["delivered", "1", "200"] for row in webhooks[1:])
    messages = json.loads(ctl(rcs_live, "messages", "--json").stdout)
    assert messages[0]["status"] == "read"


def test_inbound_answers_the_newest_message_to_the_phone(rcs_live) -> None:
    send_generic(rcs_live)
    done = ctl(rcs_live, "inbound", PHONE, "yes", "--postback")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{PHONE} -> generic shop: reply on message ")
    done = ctl(rcs_live, "inbound", PHONE, "Thanks!", "--json")
    assert json.loads(done.stdout)["event"] == "message"
    [message] = json.loads(ctl(rcs_live, "messages", "--json").stdout)
    said = [(e["type"], e["text"], e["postback"]) for e in message["events"] if e["text"]]
    assert said == [("reply", "Yes", "yes"), ("message", "Thanks!", None)]


def test_reset_forgets_and_can_keep_settings(rcs_live) -> None:
    send_generic(rcs_live)
    done = ctl(rcs_live, "reset", "--keep-settings")
    assert done.stdout.strip() == "reset everything (settings kept)"
    assert ctl(rcs_live, "messages").stdout.strip() == "(none)"
    assert ctl(rcs_live, "reset").stdout.strip() == "reset everything (settings back to the config)"


def test_mistakes_are_one_line(rcs_live) -> None:
    done = ctl(rcs_live, "inbound", PHONE, "hi")
    assert done.returncode == 2
    assert one_line(done) == (f"rcs-emulator: no message was sent to {PHONE} yet, so there is "
                              "nothing to answer: name it with --provider and --agent")  # fmt: skip
    done = ctl(rcs_live, "advance", "soon")
    assert done.returncode == 2
    assert one_line(done).startswith("rcs-emulator: advance soon: a delay is a number of seconds")
    done = ctl(rcs_live, "messages", "--phone", "12")
    assert done.returncode == 2
    assert one_line(done).startswith("rcs-emulator: GET /_emulator/messages: 400 ")
    done = ctl(rcs_live, "mesages")
    assert done.returncode == 2
    assert one_line(done).endswith("(did you mean 'messages'?)")


def test_an_emulator_that_is_not_there_is_one_line_and_exit_1() -> None:
    done = run_cli("ctl", "messages", "--url", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert one_line(done).startswith("rcs-emulator: cannot reach the emulator at "
                                     "http://127.0.0.1:9 (")  # fmt: skip


def test_the_control_token_from_the_flag_or_the_variable() -> None:
    with EmulatorServer(Config(port=0, clock="manual", control_token="s3cret")) as server:
        done = run_cli("ctl", "messages", "--url", server.base_url)
        assert done.returncode == 2
        assert "401" in one_line(done) and "--token or $RCS_EMULATOR_CONTROL_TOKEN" in done.stderr
        assert run_cli("ctl", "--token", "s3cret", "messages", "--url",
                       server.base_url).returncode == 0  # fmt: skip
        env = {"RCS_EMULATOR_CONTROL_TOKEN": "s3cret", "RCS_EMULATOR_URL": server.base_url}
        done = run_cli("ctl", "reset", env=env)
        assert done.returncode == 0 and done.stdout.startswith("reset everything")


def test_tail_follows_changes_until_ctrl_c(rcs_live) -> None:
    for json_flag in ([], ["--json"]):
        tail = subprocess.Popen(
            [str(BIN / "rcs-emulator"), "ctl", "tail", "--url", rcs_live.base_url, *json_flag],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ,
        )  # fmt: skip
        try:
            seen = _lines_after(tail, lambda: send_generic(rcs_live, "Watch me"), "Watch me"
                                if not json_flag else '"kind": "message"')  # fmt: skip
        finally:
            tail.send_signal(signal.SIGINT)
            out, err = tail.communicate(timeout=10)
        assert tail.returncode == 0, err
        assert "Traceback" not in err
        if json_flag:
            assert json.loads(seen) | {"message_id": None} == {
                "kind": "message", "provider": "generic", "agent_id": "shop", "phone": PHONE,
                "message_id": None}  # fmt: skip
        else:
            assert f"sent     generic shop {PHONE}: 'Watch me'" in seen


def _lines_after(tail: subprocess.Popen[str], act, wanted: str, timeout: float = 20.0) -> str:  # type: ignore[no-untyped-def]
    """Act once tail is connected (retrying until its output shows it), then the line that has
    `wanted`."""
    import selectors

    assert tail.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(tail.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    next_act = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= next_act:  # the stream may not be open yet: act again later
            act()
            next_act = time.monotonic() + 1.0
        if selector.select(timeout=0.2):
            line = tail.stdout.readline()
            if wanted in line:
                return line
    raise AssertionError(f"tail never printed {wanted!r}")
