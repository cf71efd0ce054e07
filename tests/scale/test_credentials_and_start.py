"""What `serve` says of its Redis: never a credential, in any form the URL was given (a password
in userinfo, one holding a raw @, ?password= and ?username= in the query, a mistyped scheme) and
wherever it would show (the start line, the log's lost line, health, readiness, a control call's
and a provider call's 503); and a Redis still loading its data after a restart is waited for
(said once), not a reason to exit."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.redis_server import RedisServer
from tests.robustness.process import Served, run_cli
from tests.scale.deployment import send, until

PASSWORD = "s3cr@t-pw"  # (a raw @: a parser that splits at the first one shows "t-pw")
PIECES = (PASSWORD, quote(PASSWORD, safe=""), "s3cr", "t-pw")


def shown_nowhere(text: str) -> None:
    for piece in PIECES:
        assert piece not in text, f"{piece!r} shown in: {text[:2000]}"


@pytest.fixture
def locked(tmp_path: Path) -> RedisServer:
    """A Redis that asks for a password, and an ACL user of its own (app)."""
    server = RedisServer(tmp_path / "redis").start()
    admin = redis.Redis(port=server.port)
    admin.acl_setuser(
        "app",
        enabled=True,
        passwords=[f"+{PASSWORD}"],
        keys=["*"],
        channels=["*"],
        commands=["+@all"],
    )
    admin.config_set("requirepass", PASSWORD)
    admin.close()
    yield server
    server.stop()


@pytest.mark.parametrize("form", ["userinfo", "query", "user-in-query"])
def test_no_credential_is_shown_in_any_form(locked: RedisServer, tmp_path: Path, form: str):
    at = f"127.0.0.1:{locked.port}"
    url = {
        "userinfo": f"redis://:{PASSWORD}@{at}/0",
        "query": f"redis://{at}/0?password={quote(PASSWORD, safe='')}",
        "user-in-query": f"redis://{at}/0?username=app&password={quote(PASSWORD, safe='')}",
    }[form]
    served = Served(tmp_path / "a.log", "--state", url, "--clock", "manual")
    try:
        assert send(served.base_url, "key-1", "+46701234501").status_code == 200
        seen = [
            httpx.get(served.base_url + path).text
            for path in ("/_emulator/health", "/_emulator/ready")
        ]
        locked.kill()
        down = send(served.base_url, "key-1", "+46701234502")
        assert down.status_code == 503
        control = httpx.get(served.base_url + "/_emulator/messages")
        assert control.status_code == 503
        until(
            lambda: httpx.get(served.base_url + "/_emulator/ready").status_code == 503, "not ready"
        )
        seen += [
            down.text,
            control.text,
            httpx.get(served.base_url + "/_emulator/ready").text,
            httpx.get(served.base_url + "/_emulator/health").text,
        ]
    finally:
        served.stop()
    said = served.text()
    assert "cannot be reached" in said and "***" in said
    for text in [*seen, said]:
        shown_nowhere(text)


@pytest.mark.parametrize(
    "state",
    [
        f"rediss//:{PASSWORD}@127.0.0.1:1/0",
        f"redis:/:{PASSWORD}@127.0.0.1:1/0",
        f"redis://:{PASSWORD}@127.0.0.1:1/0",
        f"redis://127.0.0.1:1/0?password={PASSWORD}",
    ],
)
def test_a_state_that_cannot_be_used_is_refused_without_its_password(state: str) -> None:
    for done in (
        run_cli("serve", "--state", state),
        run_cli("serve", env={"RCS_EMULATOR_STATE": state}),
    ):
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        shown_nowhere(done.stdout + done.stderr)


def test_serve_waits_for_a_redis_loading_its_data(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", extra=("--enable-debug-command", "local")).start()
    admin = redis.Redis(port=server.port)
    try:
        admin.execute_command("DEBUG", "POPULATE", "2000000")  # (a second or more to load)
        admin.bgrewriteaof()
        until(
            lambda: (
                not int(admin.info("persistence")["aof_rewrite_in_progress"])
                and not int(admin.info("persistence")["aof_rewrite_scheduled"])
            ),
            "the AOF rewritten",
        )
        admin.close()
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        server.start(wait=False)  # loading its AOF from now on

        def loading() -> bool:
            probe = redis.Redis(port=server.port, retry=Retry(NoBackoff(), 0))
            try:
                probe.ping()
                return False
            except redis.BusyLoadingError:
                return True
            except redis.ConnectionError:  # (not listening yet)
                return False
            finally:
                probe.close()

        until(loading, "Redis loading its data")
        served = Served(tmp_path / "a.log", "--state", server.url, "--clock", "manual")
        try:
            assert send(served.base_url, "key-1", "+46701234501").status_code == 200
        finally:
            served.stop()
        said = served.text()
        assert said.count("Redis is loading its data into memory; waiting for it") == 1, said
    finally:
        server.stop()
