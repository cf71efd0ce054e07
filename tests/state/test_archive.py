"""The shared log's older commands kept compressed (emulator/state/archive.py), through real
processes: a process that joins late, or was stopped while the log moved on, reads the chunks
and then the stream, and holds the same state as the others; bodies come back byte for byte."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import redis

from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.robustness.process import Served
from tests.state.test_cluster import AGENT, MESSAGE, generic, listed, send

CHUNK = "10"  # the least a chunk may hold: a few dozen commands make several chunks
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4  # every byte value


def archived(url: str, chunks: int, deadline: float = 20.0) -> None:
    """Wait until the archive holds at least `chunks` chunks and the stream less than two
    chunks' worth (archivers look every 2 s)."""
    client = redis.Redis.from_url(url)
    try:
        until = time.monotonic() + deadline
        while client.llen("rcs:chunks") < chunks or client.xlen("rcs:log") >= 2 * int(CHUNK):
            assert time.monotonic() < until, "the log was not archived"
            time.sleep(0.1)
    finally:
        client.close()


def dropped_up_to_the_reset(admin: redis.Redis, deadline: float = 20.0) -> bytes:
    """Wait until an archiver dropped the log up to the newest full reset (they look every
    2 s); that reset's entry id."""
    until = time.monotonic() + deadline
    while (floor := admin.get("rcs:floor")) is None or floor != admin.hget("rcs:checkpoint", "id"):
        assert time.monotonic() < until, "the log was not dropped up to the reset"
        time.sleep(0.1)
    return bytes(floor)


def views(base: str) -> list[object]:
    files = httpx.get(f"{base}/_emulator/files").json()
    contents = [httpx.get(f"{base}/_emulator/files/{f['id']}/content").content
                for f in files["items"]]  # fmt: skip
    hooks = httpx.get(f"{base}/_emulator/webhooks", params={"limit": "1000"}).json()
    return [listed(base), files, contents, hooks]


def traffic(base: str, start: int, count: int) -> None:
    for i in range(start, start + count):
        send(base, f"+467000010{i:02d}")
        if i % 10 == 0:
            answer = httpx.post(base + "/messages/send_rcs.json", headers=SERWERSMS_AUTH,
                                json={"rcs_id": "bot", "phone": f"+485001002{i:02d}",
                                      "message": {"text": "Cześć 👋"}})  # fmt: skip
            assert answer.json()["success"] is True, answer.text


def test_late_and_stopped_processes_read_the_archive_then_the_stream(redis_url, tmp_path, webhook):
    args = ("--state", redis_url, "--clock", "manual", "--seed", "3")
    env = {"RCS_EMULATOR_STATE_CHUNK": CHUNK, "RCS_EMULATOR_WEBHOOK_TIMEOUT": "1"}
    first = Served(tmp_path / "a.log", *args, env=env)
    sleeper = Served(tmp_path / "b.log", *args, env=env)
    later: Served | None = None
    try:
        httpx.put(f"{first.base_url}/_emulator/agents/generic/{AGENT}",
                  json={"webhook_url": webhook.url})  # fmt: skip
        upload = httpx.post(f"{first.base_url}/Rcs/api/v1/UploadFile/{AGENT}",
                            headers=GENERIC_AUTH, files={"file": ("p.png", PNG, "image/png")})  # fmt: skip
        assert upload.status_code == 200, upload.text
        os.kill(sleeper.proc.pid, signal.SIGSTOP)  # stopped while the log moves on
        try:
            traffic(first.base_url, 0, 45)
            httpx.post(f"{first.base_url}/_emulator/clock/advance", json={"seconds": 60},
                       timeout=30).raise_for_status()  # fmt: skip
            traffic(first.base_url, 45, 15)
            archived(redis_url, 3)
        finally:
            os.kill(sleeper.proc.pid, signal.SIGCONT)
        later = Served(tmp_path / "c.log", *args, env=env)
        calls = len(webhook.calls)
        expected = views(first.base_url)
        assert len(expected[0]) == 66 and expected[2] == [PNG]  # type: ignore[arg-type]
        assert views(later.base_url) == expected
        assert views(sleeper.base_url) == expected
        # Each goes on from there alike: a send through the stopped one reaches the others.
        tag = send(sleeper.base_url, "+46700001099")
        assert [m["batch"] for m in listed(later.base_url)][-1] == tag
        assert views(first.base_url) == views(later.base_url) == views(sleeper.base_url)
        time.sleep(0.3)
        assert len(webhook.calls) == calls  # reading the archive sends nothing again
    finally:
        for served in (first, sleeper, later):
            if served is not None:
                served.stop()


def test_a_sender_behind_the_archive_reads_it_before_its_own_command(redis_url, tmp_path):
    """A stopped process's next command (not a read) finds its place archived: it reads the
    chunks, then appends, so its answer and state follow every earlier command."""
    args = ("--state", redis_url, "--clock", "manual")
    env = {"RCS_EMULATOR_STATE_CHUNK": CHUNK}
    first = Served(tmp_path / "a.log", *args, env=env)
    sleeper = Served(tmp_path / "b.log", *args, env=env)
    try:
        os.kill(sleeper.proc.pid, signal.SIGSTOP)
        try:
            traffic(first.base_url, 0, 40)
            archived(redis_url, 2)
        finally:
            os.kill(sleeper.proc.pid, signal.SIGCONT)
        answer = httpx.post(sleeper.base_url + MESSAGE, json=generic("+46700001098"),
                            headers=GENERIC_AUTH, timeout=10)  # fmt: skip
        assert answer.status_code == 200, answer.text
        held = listed(sleeper.base_url)
        assert len(held) == 45 and held[-1]["batch"] == answer.json()["tagId"]
        assert listed(first.base_url) == held
    finally:
        first.stop()
        sleeper.stop()


def test_the_chunk_size_is_each_process_own_setting() -> None:
    """It changes how Redis stores the log, not what the log says: processes with different
    sizes share one state."""
    from emulator import Config
    from emulator.state.cluster import fingerprint

    assert fingerprint(Config(state_chunk=10)) == fingerprint(Config(state_chunk=5000))


def test_a_process_killed_mid_traffic_and_restarted_reads_the_archive(redis_url, tmp_path):
    """kill -9 while sends go through both processes and the log is being archived: the process
    started in its place holds every accepted send, as the survivor does."""
    args = ("--state", redis_url, "--clock", "manual")
    env = {"RCS_EMULATOR_STATE_CHUNK": CHUNK}
    first = Served(tmp_path / "a.log", *args, env=env)
    second = Served(tmp_path / "b.log", *args, env=env)
    accepted: list[str] = []
    lost: list[str] = []

    def sender(index: int) -> None:
        for n in range(60):
            base = (first, second)[n % 2].base_url
            try:
                answer = httpx.post(base + MESSAGE, json=generic(f"+4670002{index}{n:03d}"),
                                    headers=GENERIC_AUTH, timeout=10)  # fmt: skip
            except httpx.HTTPError:
                lost.append(f"{index}:{n}")  # refused, or its answer lost with the process
                continue
            if answer.status_code == 200:
                accepted.append(answer.json()["tagId"])

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(2)]
    replacement: Served | None = None
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(accepted) < 40:
            assert time.monotonic() < deadline, "the sends did not go through"
            time.sleep(0.01)
        second.kill()
        for thread in threads:
            thread.join()
        replacement = Served(tmp_path / "b2.log", *args, env=env)
        archived(redis_url, 3)
        held = listed(first.base_url)
        assert set(accepted) <= {m["batch"] for m in held}
        assert len(held) <= len(accepted) + len(lost)  # nothing appears that was not sent
        assert listed(replacement.base_url) == held
    finally:
        for served in (first, second, replacement):
            if served is not None:
                served.stop()


def test_the_log_before_a_full_reset_is_dropped_and_a_stopped_process_begins_there(
    redis_url, tmp_path, webhook
):
    """Redis keeps only what came since the newest full reset: chunks and stream before it are
    dropped. A process stopped before the reset comes back to the same state as the others, and
    so does one that joins."""
    args = ("--state", redis_url, "--clock", "manual", "--seed", "3")
    env = {"RCS_EMULATOR_STATE_CHUNK": CHUNK, "RCS_EMULATOR_WEBHOOK_TIMEOUT": "1"}
    first = Served(tmp_path / "a.log", *args, env=env)
    sleeper = Served(tmp_path / "b.log", *args, env=env)
    later: Served | None = None
    admin = redis.Redis.from_url(redis_url)
    try:
        os.kill(sleeper.proc.pid, signal.SIGSTOP)
        try:
            traffic(first.base_url, 0, 40)
            archived(redis_url, 2)
            httpx.post(f"{first.base_url}/_emulator/reset", timeout=10).raise_for_status()
            httpx.put(f"{first.base_url}/_emulator/agents/generic/{AGENT}",
                      json={"webhook_url": webhook.url}).raise_for_status()  # fmt: skip
            traffic(first.base_url, 40, 5)
            httpx.post(f"{first.base_url}/_emulator/clock/advance", json={"seconds": 60},
                       timeout=30).raise_for_status()  # fmt: skip
            reset_at = dropped_up_to_the_reset(admin)
        finally:
            os.kill(sleeper.proc.pid, signal.SIGCONT)
        assert admin.llen("rcs:chunks") == 0 and admin.keys("rcs:chunk:*") == []
        assert admin.xrange("rcs:log", count=1)[0][0] == reset_at  # the reset and what followed
        later = Served(tmp_path / "c.log", *args, env=env)
        expected = views(first.base_url)
        assert len(expected[0]) == 6 and expected[3]["items"]  # type: ignore[arg-type,index]
        assert views(sleeper.base_url) == expected
        assert views(later.base_url) == expected
        tag = send(sleeper.base_url, "+46700001097")
        assert [m["batch"] for m in listed(later.base_url)][-1] == tag
        assert views(first.base_url) == views(later.base_url) == views(sleeper.base_url)
    finally:
        admin.close()
        for served in (first, sleeper, later):
            if served is not None:
                served.stop()
