"""`rcs-emulator ctl` against a live emulator, as someone testing from a shell or another language
runs it: tables, --json, the control token, one-line mistakes, a tail stopped with Ctrl-C.

Most commands are run by `main` in this process, as the console script calls it; the exit codes
a shell sees, the token from the environment and the tail run `rcs-emulator` as a process of
its own."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from emulator import Config, EmulatorServer
from emulator.testing import WebhookReceiver
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH, Done
from tests.robustness.process import BIN, run_cli

PHONE = "+46701234567"
BOT = "54c53be2-cbb8-11ec-9d64-0242ac120002"


@pytest.fixture
def rcs_live() -> Iterator[EmulatorServer]:
    with EmulatorServer(Config(port=0, clock="manual", seed=7)) as server:
        yield server


@pytest.fixture
def ctl(cli_main: Callable[..., Done]) -> Callable[..., Done]:
    """`rcs-emulator ctl ARGS --url` the server's, run in this process."""

    def run(server: EmulatorServer, *args: str) -> Done:
        return cli_main("ctl", *args, "--url", server.base_url)

    return run


def send_generic(server: EmulatorServer, text: str = "Hello!", phone: str = PHONE) -> str:
    body = {
        "agentId": "shop",
        "number": [phone],
        "messageType": "TextMessage",
        "text": text,
        "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
    }
    response = httpx.post(f"{server.base_url}/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
    response.raise_for_status()
    return str(response.json()["tagId"])


def send_serwersms(server: EmulatorServer, text: str) -> None:
    body = {"rcs_id": BOT, "phone": "500600700", "message": {"text": text}}
    httpx.post(
        f"{server.base_url}/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH
    ).raise_for_status()


def one_line(done: Done | subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_messages_as_a_table_and_as_json(rcs_live, ctl) -> None:
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


def test_messages_shows_the_newest_and_says_when_there_are_none(rcs_live, ctl) -> None:
    assert ctl(rcs_live, "messages").stdout.strip() == "(none)"
    for i in range(5):
        send_generic(rcs_live, f"text {i}")
    rows = ctl(rcs_live, "messages", "--limit", "2").stdout.splitlines()[1:]
    assert ["text 3" in rows[0], "text 4" in rows[1]] == [True, True]


def test_advance_runs_the_timeline_and_webhooks_show_the_callbacks(rcs_live, ctl) -> None:
    with WebhookReceiver() as receiver:
        httpx.put(
            f"{rcs_live.base_url}/_emulator/agents/generic/shop", json={"webhook_url": receiver.url}
        ).raise_for_status()
        send_generic(rcs_live)
        done = ctl(rcs_live, "advance", "1m")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("advanced 60 s: now ")
        assert done.stdout.rstrip().endswith("events ran")
        assert [c["json"]["Type"] for c in receiver.calls] == ["DELIVERED", "READ"]
    webhooks = ctl(rcs_live, "webhooks").stdout.splitlines()
    assert webhooks[0].split() == [
        "TIME",
        "ID",
        "PROVIDER",
        "CALLBACK",
        "PHONE",
        "STATE",
        "TRIES",
        "ANSWER",
        "URL",
    ]
    assert [row.split()[3] for row in webhooks[1:]] == ["DELIVERED", "READ"]
    assert all(row.split()[5:8] == ["delivered", "1", "200"] for row in webhooks[1:])
    messages = json.loads(ctl(rcs_live, "messages", "--json").stdout)
    assert messages[0]["status"] == "read"


def test_inbound_answers_the_newest_message_to_the_phone(rcs_live, ctl) -> None:
    send_generic(rcs_live)
    done = ctl(rcs_live, "inbound", PHONE, "yes", "--postback")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{PHONE} -> generic shop: reply on message ")
    done = ctl(rcs_live, "inbound", PHONE, "Thanks!", "--json")
    assert json.loads(done.stdout)["event"] == "message"
    [message] = json.loads(ctl(rcs_live, "messages", "--json").stdout)
    said = [(e["type"], e["text"], e["postback"]) for e in message["events"] if e["text"]]
    assert said == [("reply", "Yes", "yes"), ("message", "Thanks!", None)]


def test_reset_forgets_and_can_keep_settings(rcs_live, ctl) -> None:
    send_generic(rcs_live)
    done = ctl(rcs_live, "reset", "--keep-settings")
    assert done.stdout.strip() == "reset everything (settings kept)"
    assert ctl(rcs_live, "messages").stdout.strip() == "(none)"
    assert ctl(rcs_live, "reset").stdout.strip() == "reset everything (settings back to the config)"


def test_mistakes_are_one_line(rcs_live, ctl) -> None:
    done = ctl(rcs_live, "inbound", PHONE, "hi")
    assert done.returncode == 2
    assert one_line(done) == (
        f"rcs-emulator: no message was sent to {PHONE} yet, so there is "
        "nothing to answer: name it with --provider and --agent"
    )
    done = ctl(rcs_live, "advance", "soon")
    assert done.returncode == 2
    assert one_line(done) == (
        "rcs-emulator: advance soon: must be seconds: a number, or as '500ms', '2s', '5m', '1h'"
    )
    done = ctl(rcs_live, "advance", "-5")
    assert done.returncode == 2
    assert one_line(done) == "rcs-emulator: advance -5: cannot be negative"
    done = ctl(rcs_live, "messages", "--phone", "12")
    assert done.returncode == 2
    assert one_line(done).startswith("rcs-emulator: GET /_emulator/messages: 400 ")
    done = ctl(rcs_live, "mesages")
    assert done.returncode == 2
    assert one_line(done).endswith("(did you mean 'messages'?)")


def test_an_emulator_that_is_not_there_is_one_line_and_exit_1() -> None:
    """As a process of its own: the exit code a shell sees."""
    done = run_cli("ctl", "messages", "--url", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert one_line(done).startswith(
        "rcs-emulator: cannot reach the emulator at http://127.0.0.1:9 ("
    )


def test_a_url_without_its_scheme_is_read_as_http(rcs_live) -> None:
    host_port = rcs_live.base_url.removeprefix("http://")
    send_generic(rcs_live)
    done = run_cli("ctl", "messages", "--url", host_port)
    assert done.returncode == 0, done.stderr
    assert "Hello!" in done.stdout
    done = run_cli("ctl", "advance", "5m", env={"RCS_EMULATOR_URL": host_port})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("advanced 300 s: now ")


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (
            ["--url", "ftp://127.0.0.1:8080"],
            {},
            "--url ftp://127.0.0.1:8080: 'ftp://127.0.0.1:8080' is not an emulator's URL (ftp:// is not http:// or https://), as http://127.0.0.1:8080",
        ),
        (
            ["--url", "127.0.0.1:80800"],
            {},
            "--url 127.0.0.1:80800: '127.0.0.1:80800' is not an emulator's URL (port out of range 0-65535), as http://127.0.0.1:8080",
        ),
        (
            [],
            {"RCS_EMULATOR_URL": "http://"},
            "RCS_EMULATOR_URL=http://: 'http://' is not an emulator's URL (it names no host), as http://127.0.0.1:8080",
        ),
    ],
)
def test_a_url_that_is_none_is_one_line_naming_where_it_came_from(args, env, line) -> None:
    done = run_cli("ctl", "messages", *args, env=env)
    assert done.returncode == 2
    assert one_line(done) == f"rcs-emulator: {line}"


def test_a_mistyped_variable_is_warned_before_what_it_causes() -> None:
    done = run_cli("ctl", "messages", env={"RCS_EMULATOR_ULR": "http://127.0.0.1:9"})
    assert done.stderr.splitlines()[0] == (
        "WARNING:  RCS_EMULATOR_ULR is not a setting of rcs-emulator (did you mean "
        "RCS_EMULATOR_URL?); it is ignored"
    )


def test_an_unreachable_emulator_is_named_with_where_its_url_came_from() -> None:
    done = run_cli("ctl", "messages", env={"RCS_EMULATOR_URL": "127.0.0.1:9"})
    assert done.returncode == 1
    said = "rcs-emulator: cannot reach the emulator at http://127.0.0.1:9 (RCS_EMULATOR_URL; "
    assert one_line(done).startswith(said)


def test_the_control_token_from_the_flag_or_the_variable() -> None:
    """As a process of its own: the environment a shell hands over."""
    with EmulatorServer(Config(port=0, clock="manual", control_token="s3cret")) as server:
        done = run_cli("ctl", "messages", "--url", server.base_url)
        assert done.returncode == 2
        assert one_line(done) == (
            "rcs-emulator: GET /_emulator/messages: 401 the control API needs its token "
            "(X-Emulator-Token header or ?token=) (ctl sends the one of --token or "
            "$RCS_EMULATOR_CONTROL_TOKEN)"
        )
        done = run_cli("ctl", "messages", "--url", server.base_url, "--token", "stale")
        assert done.returncode == 2
        assert one_line(done) == (  # a wrong token is said apart from none
            "rcs-emulator: GET /_emulator/messages: 401 the control API refuses this token: it "
            "is not the emulator's control_token (ctl sends the one of --token or "
            "$RCS_EMULATOR_CONTROL_TOKEN)"
        )
        inbox = httpx.get(server.base_url + "/", params={"token": "stale"})
        assert (inbox.status_code, inbox.json()["error"]) == (
            401,
            "the inbox refuses this token: it is not the emulator's control_token",
        )
        assert (
            run_cli("ctl", "--token", "s3cret", "messages", "--url", server.base_url).returncode
            == 0
        )
        env = {"RCS_EMULATOR_CONTROL_TOKEN": "s3cret", "RCS_EMULATOR_URL": server.base_url}
        done = run_cli("ctl", "reset", env=env)
        assert done.returncode == 0 and done.stdout.startswith("reset everything")


def test_tail_follows_changes_until_ctrl_c(rcs_live) -> None:
    for json_flag in ([], ["--json"]):
        with Tail(rcs_live.base_url, *json_flag) as tail:
            wanted = '"kind": "message"' if json_flag else "Watch me"
            seen = tail.line_after(lambda: send_generic(rcs_live, "Watch me"), wanted)
            err = tail.interrupt()
        assert tail.proc.returncode == 0, err
        assert "Traceback" not in err
        if json_flag:
            assert json.loads(seen) | {"message_id": None} == {
                "kind": "message",
                "provider": "generic",
                "agent_id": "shop",
                "phone": PHONE,
                "message_id": None,
            }
        else:
            assert f'sent     generic shop {PHONE}: "Watch me" [Yes] (' in seen


def test_tail_says_what_each_event_is_about(rcs_live) -> None:
    """A receipt names the message it is about as the phone shows it (never an empty ''), a
    tap its chip and postback."""
    phone = "+46700000003"  # delivered after 2 s, never read
    base = rcs_live.base_url
    tap = {"provider": "generic", "agent_id": "shop", "phone": phone, "postback": "yes"}

    def advance() -> None:
        httpx.post(f"{base}/_emulator/clock/advance", json={"seconds": 10}).raise_for_status()

    with Tail(base) as tail:
        sent = tail.line_after(lambda: send_generic(rcs_live, "Watch me", phone), "sent ")
        delivered = tail.line_after(advance, "delivered")
        tapped = tail.line_after(lambda: httpx.post(f"{base}/_emulator/inbound", json=tap), "reply")
        tail.interrupt()
    assert f'sent     generic shop {phone}: "Watch me" [Yes] (' in sent
    assert f'delivered generic shop {phone}: "Watch me" [Yes] (message delivered)' in delivered
    assert f"reply    generic shop {phone}: taps [Yes] (postback 'yes') (message read)" in tapped


HANG = 60.0  # seconds after which a tail that says nothing is taken to hang (not a measure)


class Tail:
    """`rcs-emulator ctl tail` as a process of its own; a thread reads its lines as they come
    (none waits in a buffer that a select() on the pipe cannot see). Never left running."""

    def __init__(self, url: str, *flags: str) -> None:
        argv = [str(BIN / "rcs-emulator"), "ctl", "tail", "--url", url, *flags]
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def line_after(self, act: Callable[[], object], wanted: str) -> str:
        """Act until tail shows it is connected (its first line), then the line that has
        `wanted`."""
        deadline = time.monotonic() + HANG
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (
                f"tail ended: {self.proc.stderr and self.proc.stderr.read()}"
            )
            act()  # the stream may not be open yet: act again until a line comes
            try:
                line = self.lines.get(timeout=1.0)
            except queue.Empty:
                continue
            while wanted not in line:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            return line
        raise AssertionError(f"tail printed nothing in {HANG} s")

    def interrupt(self) -> str:
        """Ctrl-C; what it said on stderr once it ended."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(HANG)
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def __enter__(self) -> Tail:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:  # a failure on the way: it is killed, not left behind
            self.proc.kill()
        self.proc.wait()
        self.reader.join()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
