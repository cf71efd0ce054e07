"""README's Quick start, run as a newcomer pastes it: the emulator (`make run ARGS=...` as
`rcs-emulator serve`), the one-line receiver, then every command of the third terminal in bash,
on free ports. The receiver must print the callbacks the comments promise."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

from tests.ports import free_port
from tests.robustness.process import Served

ROOT = Path(__file__).parent.parent


def quick_start() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()


def test_the_quick_start_works_as_written(tmp_path: Path) -> None:
    lines = quick_start()
    port, hook_port = free_port(), free_port()

    def ported(text: str) -> str:
        return text.replace("8080", str(port)).replace("9000", str(hook_port))

    [run] = [line for line in lines if line.startswith("make run ARGS=")]
    args = shlex.split(shlex.split(run)[2].removeprefix("ARGS="))
    [receiver_line] = [line for line in lines if line.startswith("python3 -c ")]
    receiver = subprocess.Popen(
        ["bash", "-c", ported(receiver_line)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    served = Served(tmp_path / "serve.log", *map(ported, args))
    assert served.port != port  # Served picks its own free port: use it
    port = served.port
    try:
        third = "\n".join(lines[lines.index(receiver_line) + 1 :])
        env = os.environ | {"RCS_EMULATOR_URL": served.base_url}  # ctl's default is 8080
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", ported(third)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        out = done.stdout
        stats = next(json.loads(v) for v in _json_lines(out) if "totalNumberMessages" in v)
        assert stats["totalNumberMessages"] == 1 and stats["rcs"][0]["number"] == "+46701234567"
        assert any(json.loads(line).get("event") == "reply" for line in _json_lines(out))
        assert "true" in out.splitlines()  # Capability, on a line of its own
        report = next(json.loads(line) for line in _json_lines(out) if '"paging"' in line)
        assert report["items"][0]["phone"] == "+48500600700"
        table = [line for line in out.splitlines() if line.startswith(("TIME", "0", "1", "2"))]
        assert table[0].split()[:3] == ["TIME", "PROVIDER", "AGENT"] and len(table) == 3

        # The receiver prints each callback: Generic's DELIVERED, READ, REPLY; SerwerSMS reports.
        seen: list[object] = []
        deadline = time.monotonic() + 30  # the real clock: delivered in 1-3 s, read 2-5 s later
        assert receiver.stdout is not None
        while not _has_every_callback(seen):
            assert time.monotonic() < deadline, f"callbacks seen: {seen}"
            line = receiver.stdout.readline()
            if line.strip():
                seen.append(json.loads(line))
    finally:
        served.stop()
        receiver.kill()
        receiver.communicate(timeout=10)  # closes its pipe too


def _json_lines(out: str) -> list[str]:
    """curl prints no line break after a JSON body: split the output at each top-level value."""
    decoder, found, text, i = json.JSONDecoder(), [], out, 0
    while i < len(text):
        if text[i] in "[{":
            value, end = decoder.raw_decode(text, i)
            found.append(json.dumps(value))
            i = end
        else:
            i += 1
    return found


def _has_every_callback(seen: list[object]) -> bool:
    generic = {c["Type"] for c in seen if isinstance(c, dict)}
    serwersms = {(c[0]["type"], c[0].get("status")) for c in seen if isinstance(c, list)}
    return {"DELIVERED", "READ", "REPLY"} <= generic and ("report", "delivered") in serwersms
