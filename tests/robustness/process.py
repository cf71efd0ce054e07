"""The emulator as a user runs it: `rcs-emulator serve` in its own process, killed as an OOM
killer or `docker kill` would kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.ports import free_port

BIN = Path(sys.executable).parent  # the console scripts installed beside the tests' Python


class Served:
    def __init__(
        self,
        log: Path,
        *args: str,
        env: dict[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,  # e.g. limits set in the child
        cwd: Path | None = None,
        wait: bool = True,  # False: started, not yet answering (see ready())
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        argv = [str(BIN / "rcs-emulator"), "serve", "--port", str(self.port), *args]
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=os.environ | (env or {}),
                preexec_fn=preexec_fn,
                cwd=cwd,
            )
        if wait:
            self.ready()

    def ready(self) -> Served:
        """Wait until it answers its health check (several processes start side by side)."""
        log = self.log
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(self.base_url + "/_emulator/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the emulator did not start:\n{log.read_text()}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)

    @staticmethod
    def stop_all(*served: Served) -> None:
        """Stopped side by side, as a deployment stops its replicas."""
        for each in served:
            if each.proc.poll() is None:
                each.proc.terminate()
        for each in served:
            each.proc.wait(20)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A command that must end by itself (a refused start, a validation). A `serve` that gets as
    far as listening before it is refused takes a free port, not 8080 (`make run` may hold it),
    unless its flags or `env` say otherwise."""
    free = {"RCS_EMULATOR_PORT": "0"} if args[:1] == ("serve",) else {}
    return subprocess.run(
        [str(BIN / "rcs-emulator"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=os.environ | free | (env or {}),
    )
