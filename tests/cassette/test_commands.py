"""`rcs-emulator record` and `rcs-emulator serve --replay` as a user runs them, each in its own
process: a session recorded until Ctrl-C, then replayed strictly; and every mistake one line."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.fake_provider import SERWERSMS_BOT, SERWERSMS_TOKEN, real_provider
from tests.ports import free_port
from tests.robustness.process import BIN, Served, run_cli

AUTH = {"Authorization": f"Bearer {SERWERSMS_TOKEN}"}
SEND = {
    "rcs_id": SERWERSMS_BOT,
    "phone": "+48500600700",
    "message": {"text": "Hi"},
    "details": True,
}


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_record_until_ctrl_c_then_replay_strictly(tmp_path: Path) -> None:
    cassette = tmp_path / "session.yaml"
    port = free_port()
    log = tmp_path / "record.log"
    with real_provider() as real:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    str(BIN / "rcs-emulator"),
                    "record",
                    "--provider",
                    "serwersms",
                    "--upstream",
                    real.base_url,
                    "--cassette",
                    str(cassette),
                    "--port",
                    str(port),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )
        try:
            proxy = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{proxy}/_emulator/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            sent = httpx.post(f"{proxy}/messages/send_rcs.json", json=SEND, headers=AUTH)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(20)
    assert proc.returncode == 0, log.read_text()
    lines = log.read_text().splitlines()
    assert lines[0] == f"recording SerwerSMS.pl on {proxy} -> {real.base_url}"
    assert lines[-1] == (
        f"cassette {cassette}: 1 exchanges, 0 callbacks; replay it with: "
        f"rcs-emulator serve --replay {cassette}"
    )
    assert sent.json()["queued"] == 1
    assert SERWERSMS_TOKEN not in cassette.read_text()

    served = Served(tmp_path / "serve.log", "--replay", str(cassette), "--replay-strict")
    try:
        again = httpx.post(
            f"{served.base_url}/messages/send_rcs.json",
            json=SEND,
            headers={"Authorization": "Bearer whoever"},
        )
        other = httpx.post(
            f"{served.base_url}/messages/send_rcs.json", json={**SEND, "phone": "1"}, headers=AUTH
        )
    finally:
        served.stop()
    assert again.content == sent.content and again.headers["x-rcs-emulator-replay"] == "recorded 1"
    assert other.status_code == 501
    assert f"replaying {cassette}; anything else refused" in served.text()
    assert "not in the cassette, refused: POST /messages/send_rcs.json" in served.text()


def test_a_bad_cassette_stops_the_start_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cassette: 1\nprovider: nobody\nupstream: u\nrecorded: r\n")
    done = run_cli("serve", "--port", "0", "--replay", str(bad))
    assert done.returncode == 2
    assert _one_line(done) == (
        "rcs-emulator: a cassette of 'nobody': no such provider to replay "
        "(one of generic, serwersms)"
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["serve", "--replay", "none.yaml"],
            "rcs-emulator: --replay none.yaml: no such cassette: none.yaml",
        ),
        (
            ["serve", "--replay-strict"],
            "rcs-emulator: --replay-strict: replay_strict goes with replay: name the cassettes to replay",
        ),
        (
            [
                "record",
                "--provider",
                "generic",
                "--upstream",
                "https://x.example",
                "--cassette",
                "c.txt",
            ],
            "rcs-emulator: cassette c.txt: name it .yaml, .yml or .json",
        ),
        (
            [
                "record",
                "--provider",
                "generic",
                "--upstream",
                "ftp://x.example",
                "--cassette",
                "c.yaml",
            ],
            "rcs-emulator: --upstream: 'ftp://x.example' is not an http(s) URL with a host, such as https://host/Rcs/api/v1",
        ),
        (
            [
                "record",
                "--provider",
                "generic",
                "--upstream",
                "https://x.example",
                "--cassette",
                "c.yaml",
                "--forward-callbacks",
                "localhost:9000/hook",
            ],
            "rcs-emulator: --forward-callbacks localhost:9000/hook: 'localhost:9000/hook' is not an http:// or https:// URL with a host (did you mean 'http://localhost:9000/hook'?)",
        ),
        (
            [
                "record",
                "--provider",
                "generic",
                "--upstream",
                "https://x.example",
                "--cassette",
                "old.yaml",
            ],
            "rcs-emulator: cassette old.yaml exists: name another, or replace it with --overwrite",
        ),
        (
            ["record", "--provider", "nope", "--upstream", "u", "--cassette", "c.yaml"],
            "rcs-emulator: argument --provider: invalid choice: 'nope' (choose from 'generic', 'serwersms')",
        ),
    ],
)
def test_every_mistake_is_one_line(tmp_path: Path, args: list[str], line: str) -> None:
    (tmp_path / "old.yaml").write_text("a session recorded before")
    done = subprocess.run(
        [str(BIN / "rcs-emulator"), *args], capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert done.returncode == 2
    assert _one_line(done) == line
