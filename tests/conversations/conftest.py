"""The sample bot (examples/bot/bot.py) as a real process, answering an emulator's callbacks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import Config, EmulatorServer
from tests.ports import free_port

EXAMPLES = Path(__file__).parents[2] / "examples" / "bot"
BOT = EXAMPLES / "bot.py"


class Bot:
    """examples/bot/bot.py on a free port, sending to `emulator_url`."""

    def __init__(self, emulator_url: str, log: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.webhook_url = f"http://127.0.0.1:{self.port}/webhook"
        self.log = log
        env = os.environ | {"EMULATOR_URL": emulator_url, "PORT": str(self.port)}
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(BOT)], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start:\n{log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Served:
    """A live emulator (manual clock) whose callbacks go to a bot process."""

    def __init__(self, server: EmulatorServer, bot: Bot) -> None:
        self.server = server
        self.bot = bot
        self.base_url = server.base_url
        self.http = httpx.Client(base_url=server.base_url, timeout=60)

    def run(self, *files: tuple[str, str], status: int | None = None, **options: Any) -> Any:
        """POST /_emulator/conversations/run with these (name, text) files; its status is 200
        when every conversation passed, 422 when one did not (or `status`, when given)."""
        body = {"files": [{"name": n, "text": t} for n, t in files], **options}
        answer = self.http.post("/_emulator/conversations/run", json=body)
        if not answer.headers["content-type"].startswith("application/json"):
            assert status is None or answer.status_code == status, answer.text
            return answer.text
        found = answer.json()
        expected = status or (200 if found.get("passed") else 422)
        assert answer.status_code == expected, answer.text
        assert found.get("status") == ("passed" if answer.status_code == 200 else "failed")
        return found


@pytest.fixture(scope="module")
def rcs_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One emulator and one bot for a module's tests (reset before each test). SerwerSMS takes
    only +48 numbers here, so a bot's send elsewhere is refused."""
    port = free_port()
    config = Config(
        clock="manual",
        port=0,
        webhook_url=f"http://127.0.0.1:{port}/webhook",
        serwersms={"networks": ["+48"]},
    )
    with EmulatorServer(config) as server:
        bot = Bot(server.base_url, tmp_path_factory.mktemp("bot") / "bot.log", port)
        served = Served(server, bot)
        try:
            yield served
        finally:
            served.http.close()
            bot.stop()


@pytest.fixture
def rcs_conversations(rcs_served: Served) -> Served:
    assert rcs_served.http.post("/_emulator/reset").status_code == 200
    return rcs_served
