"""A real redis-server (Debian's package) on a free loopback port in a temporary folder, with
AOF on and fsync'd on every write: what the emulator's shared state is tested against."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from bench.common import free_port, redis_argv


class RedisServer:
    def __init__(self, folder: Path, port: int | None = None, snapshots_only: bool = False) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.snapshots_only = snapshots_only  # as Debian's default: no AOF, SAVE writes dump.rdb
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("the shared-state tests need redis-server: apt-get install redis-server "
                        "(make test installs it)")  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True)
        argv = redis_argv(self.port, self.folder, binary)
        if self.snapshots_only:
            argv[argv.index("--appendonly") + 1] = "no"
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        client.close()
        return self

    def kill(self) -> None:
        """kill -9: what the AOF holds is all that survives."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def flush(url: str) -> None:
    """Forget everything a Redis holds: the next emulator on it begins a new state."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
