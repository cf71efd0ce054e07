"""Shared fixtures: every provider and control test runs in every mode, through the same HTTP
client API: in-process on the memory engine (ASGITransport), and against a live server (uvicorn
in a thread, one per test worker, reset before and after each test) on the memory engine, on the
Redis engine over one redis-server and over a three-master Redis Cluster. Tests that need their
own config build a fresh app in any mode with open_client."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emulator import Config, EmulatorServer, create_app
from emulator.cli import main
from emulator.testing import WebhookReceiver
from tests.redis_server import RedisCluster, RedisServer, flush

GENERIC_KEY = "90be0b2c-b218-4070-a890-152821090464"
GENERIC_AUTH = {"Authorization": f"Bearer {GENERIC_KEY}"}
SERWERSMS_AUTH = {"Authorization": "Bearer test-token"}
TEST_CONFIG = Config(clock="manual", seed=1234)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def live_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(TEST_CONFIG.with_overrides(port=0)) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server per test worker; each test that uses it starts from a flushed one."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """One real three-master Redis Cluster per test worker, flushed before each test on it."""
    cluster = RedisCluster(tmp_path_factory.mktemp("cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """The `client` fixture's redis mode: one live emulator per test worker over a Redis of its
    own (other tests flush theirs), reset before and after each test as the live mode is."""
    redis = RedisServer(tmp_path_factory.mktemp("redis-live")).start()
    try:
        with EmulatorServer(TEST_CONFIG.with_overrides(port=0, state=redis.url)) as server:
            yield server
    finally:
        redis.stop()


@pytest.fixture(scope="session")
def cluster_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """The `client` fixture's cluster mode: as `redis_live`, over a three-master Redis Cluster."""
    cluster = RedisCluster(tmp_path_factory.mktemp("cluster-live")).start()
    try:
        with EmulatorServer(TEST_CONFIG.with_overrides(port=0, state=cluster.url)) as server:
            yield server
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rec:
        yield rec


@pytest.fixture
def webhook(receiver: WebhookReceiver) -> WebhookReceiver:
    receiver.clear()
    return receiver


@contextlib.asynccontextmanager
async def open_client(
    mode: str, config: Config = TEST_CONFIG, redis_url: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh emulator with `config`: in-process, live, or in-process on a shared
    state in Redis or a Redis Cluster (`redis_url`, flushed first)."""
    if mode in ("asgi", *SHARED):
        if mode in SHARED:
            assert redis_url is not None, f"the {mode} mode needs the redis_url fixture"
            flush(redis_url)
            config = config.with_overrides(state=redis_url)
        app = create_app(config)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
                yield c
        finally:
            await app.state.emulator.aclose()
    else:
        server = EmulatorServer(config.with_overrides(port=0)).start()
        try:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                yield client
        finally:
            server.stop()


MODES = ["asgi", "live", "redis", "cluster"]
SHARED = ("redis", "cluster")  # the modes on the Redis engine


def redis_url_for(request: pytest.FixtureRequest, mode: str) -> str | None:
    """The Redis of a shared mode (started once per test worker; open_client flushes it)."""
    if mode not in SHARED:
        return None
    fixture = "redis_server" if mode == "redis" else "redis_cluster"
    server: RedisServer | RedisCluster = request.getfixturevalue(fixture)
    return server.url


SERVED = {"live": "live_server", "redis": "redis_live", "cluster": "cluster_live"}


@pytest.fixture(params=MODES)
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """The default emulator (manual clock, seeded), fresh state for every test: in-process on
    the memory engine, and served (one server per test worker, reset before and after each
    test) on the memory engine, on Redis and on a Redis Cluster."""
    if request.param == "asgi":
        async with open_client("asgi") as c:
            yield c
        return
    server: EmulatorServer = request.getfixturevalue(SERVED[request.param])
    async with httpx.AsyncClient(base_url=server.base_url) as c:
        (await c.post("/_emulator/reset")).raise_for_status()
        yield c
        await c.post("/_emulator/reset")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """For tests that need their own config: open_client(mode, config, redis_url)."""
    return str(request.param)


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, mode: str) -> str | None:
    """With `mode`: the Redis of a shared mode, else None."""
    return redis_url_for(request, mode)


async def advance(client: httpx.AsyncClient, seconds: float) -> dict[str, Any]:
    response = await client.post("/_emulator/clock/advance", json={"seconds": seconds})
    response.raise_for_status()
    return dict(response.json())


async def set_agent(client: httpx.AsyncClient, provider: str, agent: str, **fields: Any) -> None:
    response = await client.put(f"/_emulator/agents/{provider}/{agent}", json=fields)
    response.raise_for_status()


@dataclass
class Done:
    """How a command ended: as subprocess.CompletedProcess says it."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_main(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Done]:
    """`rcs-emulator ARGS` run by main() in this process, as the console script calls it (with
    `env` set for the call): for commands that end by themselves and serve nothing."""
    logger = logging.getLogger("rcs_emulator")

    def run(*args: str, env: dict[str, str] | None = None) -> Done:
        with monkeypatch.context() as patched:
            for name, value in (env or {}).items():
                patched.setenv(name, value)
            patched.setattr(logger, "level", logger.level)  # main() sets it: put back after
            capsys.readouterr()
            code = main(list(args))
        said = capsys.readouterr()
        return Done(code, said.out, said.err)

    return run
