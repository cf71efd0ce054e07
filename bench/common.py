"""Shared pieces of the benchmarks: servers pinned to one core, wrk pinned to the other,
medians, and the machine they ran on."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_CPU, LOAD_CPU = "0", "1"
BOTH_CORES = "0,1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_argv(
    port: int, folder: Path, binary: str = "redis-server", fsync: str = "always"
) -> list[str]:
    """A redis-server as the scale example ships it: loopback only, AOF fsync'd on every write
    (or once a second, `fsync="everysec"`, Redis's own default for AOF)."""
    return [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(folder),
        "--appendonly",
        "yes",
        "--appendfsync",
        fsync,
        "--save",
        "",
        "--loglevel",
        "warning",
    ]


def pinned(cpu: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if shutil.which("taskset") else argv


def wait_healthy(url: str, timeout: float = 15.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


@contextlib.contextmanager
def serving(
    argv: list[str], port: int, health: str, cpu: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A server process pinned to `cpu`, its base URL once `health` answers, stopped after."""
    proc = subprocess.Popen(pinned(cpu, argv), env={**os.environ, **(env or {})}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base + health)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def emulator(
    *flags: str, env: dict[str, str] | None = None, cpu: str = SERVER_CPU
) -> contextlib.AbstractContextManager[str]:
    port = free_port()
    argv = [
        str(BIN / "rcs-emulator"),
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *flags,
    ]
    return serving(argv, port, "/_emulator/health", cpu, env)


def uvicorn_app(target: str, cpu: str = SERVER_CPU) -> contextlib.AbstractContextManager[str]:
    port = free_port()
    return serving(uvicorn_argv(target, port), port, "/count", cpu)


def uvicorn_argv(target: str, port: int) -> list[str]:
    """uvicorn's fastest settings: the strongest honest baseline (the emulator runs the same
    httptools + uvloop stack, with its own bounds on top)."""
    return [
        str(BIN / "uvicorn"),
        target,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
    ]


def wrk(url: str, script: Path, seconds: int = 4, connections: int = 16) -> float:
    """Requests per second that wrk reached; non-2xx answers make it fail loudly."""
    argv = pinned(
        LOAD_CPU, ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url]
    )
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(out)
    return float(match.group(1))


def server_pid(base: str) -> int:
    """The pid of the emulator serving `base` (found by its port in /proc)."""
    port = base.rsplit(":", 1)[1].encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"serve" in argv and port in argv and not argv[0].endswith(b"taskset"):
                return int(entry.name)
    raise RuntimeError(f"no emulator process serves {base}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{platform.node() or 'host'}: {cpu}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )
