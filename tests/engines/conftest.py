"""The contract suite's engines: each test of tests/engines/test_contract.py runs on every engine
(the memory engine, strict about what a unit reads; one real redis-server; a real three-master
Redis Cluster), built the way the app builds them (engines.open_engine), with a stand-in for the
service whose state they keep (core/engine.Host)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from emulator import Config
from emulator.core.clock import ManualClock
from emulator.core.engine import Engine, Unit
from emulator.core.models import Channel, EventType, Status
from emulator.core.records import Due, Event, Message, RetryPolicy, StoredFile
from emulator.engines import open_engine
from emulator.engines.memory import MemoryEngine
from tests.redis_server import flush

ENGINES = ["memory", "redis", "cluster"]
POLICY = RetryPolicy(delays=(10.0, 60.0), description="2xx; twice more")


class Host:
    """What an engine may ask of its service (core/engine.Host), recorded for the tests."""

    providers: dict[str, Any] = {"p": object(), "q": object()}

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {"directory": {"agents": [], "phones": []}}
        self.loaded: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []

    def settings_data(self) -> dict[str, Any]:
        return self.settings

    def load_settings(self, data: dict[str, Any]) -> None:
        self.loaded.append(data)

    def show(self, notice: dict[str, Any]) -> None:
        self.shown.append(notice)

    def policy_of(self, provider: str, tenant: str, agent_id: str) -> RetryPolicy:
        return POLICY


@pytest.fixture(params=ENGINES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine_factory(
    request: pytest.FixtureRequest, kind: str
) -> Callable[..., tuple[Engine, ManualClock]]:
    """Engines of this kind over one state (a second one is a second process on it)."""
    url = None
    if kind != "memory":
        server = request.getfixturevalue("redis_server" if kind == "redis" else "redis_cluster")
        url = server.url
        flush(url)
    made: list[Engine] = []

    def make(**config: Any) -> tuple[Engine, ManualClock]:
        settings = Config(clock="manual", **config)
        if url is not None:
            settings = settings.with_overrides(state=url)
        engine, clock = open_engine(settings)
        if isinstance(engine, MemoryEngine):
            engine.strict_units = True  # refuses a read it was not asked to load
        assert isinstance(clock, ManualClock)
        engine.bind(Host())
        made.append(engine)
        return engine, clock

    make.made = made  # type: ignore[attr-defined]
    return make


@pytest.fixture
async def engine(
    engine_factory: Callable[..., tuple[Engine, ManualClock]],
) -> AsyncIterator[Engine]:
    made, _ = engine_factory()
    yield made
    for each in engine_factory.made:  # type: ignore[attr-defined]
        await each.aclose()


_ids = itertools.count(1)


def message(
    tenant: str = "t1",
    *,
    at: float = 1000.0,
    provider: str = "p",
    agent: str = "a",
    phone: str = "+46700000001",
    batch: str | None = None,
    external: str | None = None,
    send_at: float | None = None,
    kind: str = "text",
    text: str = "hi",
) -> Message:
    return Message(
        id=f"m{next(_ids)}",
        provider=provider,
        tenant=tenant,
        agent_id=agent,
        phone=phone,
        channel=Channel.RCS,
        kind=kind,
        text=text,
        created_at=at,
        send_at=at if send_at is None else send_at,
        content={"card": {"title": "T"}} if kind == "richcard" else {},
        batch=batch,
        external_id=external,
    )


def stored_file(tenant: str = "t1", file_id: str = "files/one", at: float = 1000.0) -> StoredFile:
    return StoredFile(file_id, tenant, "a", "a.png", "image/png", 3, at, at + 3600, "nowhere")


async def store(engine: Engine, *messages: Message, sent: bool = True) -> list[Message]:
    """Messages stored in one unit each tenant's, each with its SENT event (as a send does)."""
    for m in messages:
        unit = await engine.begin(m.tenant)
        unit.add(m)
        if sent:
            unit.record(m, Event(EventType.SENT, m.created_at), Status.SENT)
        await engine.commit(unit)
    return list(messages)


def recorder(log: list[tuple[float, Due]]) -> Callable[[Unit, float, Due], None]:
    """An `apply` for run_due that reads the message each due event names and records a
    DELIVERED event on it (what a scenario step does), and logs what ran."""

    def apply(unit: Unit, when: float, task: Due) -> None:
        log.append((when, task))
        assert isinstance(task.ref, str)
        found = unit.message(task.ref)
        if found is not None and unit.alive(found):
            unit.record(found, Event(EventType.DELIVERED, when), Status.DELIVERED)

    return apply
