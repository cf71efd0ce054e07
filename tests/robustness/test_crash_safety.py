"""What survives which kind of stop: kill -9 mid-traffic, a failing disk, and the upload bytes of
processes that were killed."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from emulator import Config, EmulatorServer
from tests.conftest import GENERIC_AUTH
from tests.providers.generic.helpers import PNG
from tests.robustness.process import Served

INTERVAL = 0.2


def _send(client: httpx.Client, n: int) -> str:
    answer = client.post(
        "/Rcs/api/v1/Message",
        headers=GENERIC_AUTH,
        json={
            "agentId": "crash",
            "number": ["+46701234567"],
            "messageType": "TextMessage",
            "text": f"message {n}",
        },
    )
    answer.raise_for_status()
    return str(answer.json()["tagId"])


def test_kill_9_mid_traffic_keeps_everything_acknowledged_before_the_last_save(tmp_path):
    state = tmp_path / "state.json"
    env = {"RCS_EMULATOR_STATE_FILE": str(state), "RCS_EMULATOR_STATE_SAVE_INTERVAL": str(INTERVAL)}
    first = Served(tmp_path / "first.log", "--clock", "manual", env=env)
    acked: list[tuple[float, str]] = []
    stop = threading.Event()

    def traffic(worker: int) -> None:
        with httpx.Client(base_url=first.base_url, timeout=5) as c:
            n = 0
            while not stop.is_set() and n < 5000:
                try:
                    tag = _send(c, worker * 10_000 + n)
                except httpx.HTTPError:
                    return  # the server is gone
                acked.append((time.monotonic(), tag))
                n += 1

    try:
        with httpx.Client(base_url=first.base_url) as c:
            file_id = c.post(
                "/Rcs/api/v1/UploadFile/crash",
                headers=GENERIC_AUTH,
                files={"file": ("a.png", PNG, "image/png")},
            ).json()["fileId"]
            c.put("/_emulator/agents/generic/crash", json={"name": "Crash Bot"}).raise_for_status()
        workers = [threading.Thread(target=traffic, args=(w,)) for w in range(4)]
        for w in workers:
            w.start()
        _wait(lambda: len(acked) >= 600, 30)
        before = list(acked)
        # Two saves end after those were acknowledged: the second began after the first ended
        # (saves take turns), so it holds them all. Traffic goes on: the kill lands mid-stream.
        _next_write(state, _next_write(state, _written(state)))
        first.kill()
        stop.set()
        for w in workers:
            w.join(10)
    finally:
        first.stop()
    must_survive = {tag for _, tag in before}
    assert len(acked) > len(before), "the kill came after the traffic, not in the middle of it"
    assert list((tmp_path / "state.json.files").iterdir()), "the upload's bytes live beside"

    second = Served(tmp_path / "second.log", "--clock", "manual", env=env)
    try:
        with httpx.Client(base_url=second.base_url) as c:
            items = c.get("/_emulator/messages", params={"limit": 10_000}).json()["items"]
            restored = {m["batch"] for m in items}
            assert must_survive <= restored, f"{len(must_survive - restored)} acknowledged lost"
            assert restored <= {tag for _, tag in acked}, "nothing invented"
            assert c.get(f"/_emulator/files/{file_id}/content").content == PNG
            agent = c.get("/_emulator/agents").json()["items"]
            assert {"provider": "generic", "agent_id": "crash"}.items() <= agent[0].items()
            assert agent[0]["name"] == "Crash Bot"
    finally:
        second.stop()
    first_lines = second.text().splitlines()[:3]
    assert any("previous stop was unclean" in line for line in first_lines), first_lines
    assert any("saved at" in line and "messages" in line for line in first_lines)


def test_a_graceful_stop_is_not_reported_as_unclean(tmp_path):
    env = {"RCS_EMULATOR_STATE_FILE": str(tmp_path / "state.json")}
    first = Served(tmp_path / "first.log", "--clock", "manual", env=env)
    with httpx.Client(base_url=first.base_url) as c:
        _send(c, 1)
    first.stop()  # SIGTERM: uvicorn's graceful shutdown
    second = Served(tmp_path / "second.log", "--clock", "manual", env=env)
    second.stop()
    assert "unclean" not in second.text()
    assert "restored state saved at" in second.text()


def _upload_folders(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"rcs-emulator-files-{pid}-*"))


def test_upload_bytes_of_killed_processes_do_not_pile_up_in_tmp(tmp_path):
    first = Served(tmp_path / "first.log", "--clock", "manual")
    with httpx.Client(base_url=first.base_url) as c:
        c.post(
            "/Rcs/api/v1/UploadFile/a",
            headers=GENERIC_AUTH,
            files={"file": ("a.png", PNG, "image/png")},
        ).raise_for_status()
    assert _upload_folders(first.proc.pid)
    first.kill()
    assert _upload_folders(first.proc.pid), "kill -9 leaves them; the next start removes them"
    second = Served(tmp_path / "second.log", "--clock", "manual")
    try:
        assert not _upload_folders(first.proc.pid)
        with httpx.Client(base_url=second.base_url) as c:
            c.post(
                "/Rcs/api/v1/UploadFile/a",
                headers=GENERIC_AUTH,
                files={"file": ("a.png", PNG, "image/png")},
            ).raise_for_status()
        assert _upload_folders(second.proc.pid)
    finally:
        second.stop()
    assert not _upload_folders(second.proc.pid), "a graceful stop removes its own"


def test_a_save_that_fails_keeps_the_previous_state_and_the_uploads(tmp_path, caplog):
    state = tmp_path / "state.json"
    config = Config(port=0, clock="manual", state_file=str(state), state_save_interval=0.05)
    with caplog.at_level(logging.ERROR), EmulatorServer(config) as server:
        c = httpx.Client(base_url=server.base_url)
        c.post(
            "/Rcs/api/v1/UploadFile/a",
            headers=GENERIC_AUTH,
            files={"file": ("a.png", PNG, "image/png")},
        ).raise_for_status()
        first_tag = _send(c, 1)
        _wait(lambda: state.exists() and first_tag.encode() in state.read_bytes())
        saved = state.read_bytes()
        (tmp_path / "state.json.tmp").mkdir()  # the next write cannot create its temp file
        _send(c, 2)
        _wait(lambda: "state not saved" in caplog.text)
        assert state.read_bytes() == saved, "a failed save leaves the previous state whole"
        assert len(list((tmp_path / "state.json.files").iterdir())) == 1
        (tmp_path / "state.json.tmp").rmdir()  # the disk recovers: the next save goes through
        _wait(lambda: state.read_bytes() != saved)
        c.close()
    with EmulatorServer(config) as again, httpx.Client(base_url=again.base_url) as c:
        assert c.get("/_emulator/messages").json()["total"] == 2
        assert c.get("/_emulator/files").json()["total"] == 1


def _written(path: Path) -> tuple[int, int] | None:
    """Which write of the file is there now (each save replaces it with a new one)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _next_write(path: Path, after: tuple[int, int] | None) -> tuple[int, int] | None:
    """Wait for a write of the file after `after`; which one it is."""
    _wait(lambda: _written(path) != after, 30)
    return _written(path)


def _wait(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not come true in time")
        time.sleep(0.02)


def test_saves_happen_only_when_something_changed(tmp_path):
    state = tmp_path / "state.json"
    config = Config(port=0, clock="manual", state_file=str(state), state_save_interval=0.05)
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as c:
        _send(c, 1)
        _wait(lambda: state.exists())
        saver = server.emulator.engine.saver
        _wait(lambda: saver.saved_revision == server.emulator.engine.revision)
        before = os.stat(state).st_mtime_ns, saver.saves
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:  # ten intervals with nothing new
            c.get("/_emulator/messages")
            time.sleep(0.05)
        assert (os.stat(state).st_mtime_ns, saver.saves) == before


def test_a_save_that_fails_midway_leaves_the_last_good_state(tmp_path):
    """A disk that fills up in the middle of a write (a file-size limit: EFBIG after 6 KB): the
    previous state file stays whole and loads, the half-written temp file is gone, the server
    goes on, and after a kill -9 the restart has the last good state."""
    import resource
    import signal

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, no kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (6_000, 6_000))

    state = tmp_path / "state.json"
    env = {"RCS_EMULATOR_STATE_FILE": str(state), "RCS_EMULATOR_STATE_SAVE_INTERVAL": "0.05"}
    first = Served(tmp_path / "first.log", "--clock", "manual", env=env, preexec_fn=limited)
    try:
        with httpx.Client(base_url=first.base_url) as c:
            sent = _send(c, 1)
            _wait(lambda: state.exists() and sent.encode() in state.read_bytes())
            good = state.read_bytes()
            for n in range(2, 40):  # the state outgrows what the disk takes
                _send(c, n)
            assert c.get("/_emulator/health").status_code == 200  # it goes on serving
            _wait(lambda: "state not saved" in first.text())
        assert state.read_bytes() == good
        assert not (tmp_path / "state.json.tmp").exists()
        assert "File too large" in first.text()
    finally:
        first.kill()
    second = Served(
        tmp_path / "second.log", "--clock", "manual", env={"RCS_EMULATOR_STATE_FILE": str(state)}
    )
    try:
        with httpx.Client(base_url=second.base_url) as c:
            items = c.get("/_emulator/messages").json()["items"]
            assert [m["batch"] for m in items] == [sent]
    finally:
        second.stop()
