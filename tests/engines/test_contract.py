"""The storage contract (emulator/core/engine.py), tested as the contract: every test runs on
every engine (tests/engines/conftest.py), through the Engine interface alone (no HTTP, no
Emulator). Where engines may differ, the difference is written in core/engine.py's docstring and
a test here says which way each goes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emulator.core.clock import ManualClock
from emulator.core.engine import DeliveryFilter, Engine, MessageFilter, UnitMisuse, Wants
from emulator.core.models import EventType, Status
from emulator.core.records import Delivery, DeliveryState, Due, DueKind, Event
from emulator.testing import WebhookReceiver
from tests.engines.conftest import POLICY, message, recorder, store, stored_file

pytestmark = pytest.mark.anyio


# -- units of work --------------------------------------------------------------------------------


async def test_a_committed_unit_is_read_back_whole(engine: Engine):
    (m,) = await store(engine, message(kind="richcard", batch="b1", external="ext-1"))
    found = await engine.message("t1", m.id)
    assert found is not None
    assert (found.id, found.text, found.kind, found.batch, found.external_id) == (
        m.id,
        "hi",
        "richcard",
        "b1",
        "ext-1",
    )
    assert dict(found.content) == {"card": {"title": "T"}}
    assert found.status is Status.SENT and [e.type for e in found.events] == [EventType.SENT]
    assert await engine.message(None, m.id) is not None  # of any tenant
    assert await engine.message("t2", m.id) is None  # not another tenant's


async def test_an_event_moves_the_status_forward_only(engine: Engine):
    (m,) = await store(engine, message())
    unit = await engine.begin("t1", Wants(messages=[m.id]))
    held = unit.message(m.id)
    assert held is not None
    assert unit.record(held, Event(EventType.READ, 1001.0), Status.READ) is True
    assert unit.record(held, Event(EventType.DELIVERED, 1002.0), Status.DELIVERED) is False
    await engine.commit(unit)
    found = await engine.message("t1", m.id)
    assert found is not None and found.status is Status.READ
    assert [e.type for e in found.events] == [EventType.SENT, EventType.READ, EventType.DELIVERED]
    by_status = await engine.query("t1", MessageFilter(status=Status.READ), offset=0, limit=None)
    assert [x.id for x in by_status.items] == [m.id]


async def test_a_unit_reads_only_what_it_was_asked_to_load(engine: Engine):
    """A rule that reads a message it did not name fails alike on every engine (one that loads
    copies could not answer it)."""
    first, second = await store(engine, message(), message())
    unit = await engine.begin("t1", Wants(messages=[first.id, "missing"]))
    assert unit.message(first.id) is not None
    assert unit.message("missing") is None  # named, and not there
    with pytest.raises(UnitMisuse):
        unit.message(second.id)
    made = message()
    unit.add(made)
    assert unit.message(made.id) is made  # what it made, it reads


async def test_a_unit_begun_before_its_tenant_was_reset_writes_nothing(engine: Engine):
    (m,) = await store(engine, message())
    unit = await engine.begin("t1", Wants(messages=[m.id]))
    held = unit.message(m.id)
    assert held is not None
    await engine.reset(["t1"])
    assert not unit.alive(held) or await engine.message("t1", m.id) is None
    unit.add(message())
    unit.schedule(2000.0, Due(DueKind.STEP, "t1", m.id))
    await engine.commit(unit)
    assert (await engine.query("t1", MessageFilter(), offset=0, limit=None)).total == 0
    assert engine.next_due("t1") is None


async def test_a_tenants_reset_leaves_the_others(engine: Engine):
    await store(engine, message("t1"), message("t2"))
    unit = await engine.begin("t1")
    unit.schedule(5000.0, Due(DueKind.SEND, "t1", "x"))
    unit.add_file(stored_file("t1"))
    await engine.commit(unit)
    await engine.reset(["t1"])
    assert (await engine.query(None, MessageFilter(), offset=0, limit=None)).total == 1
    assert [
        m.tenant for m in (await engine.query(None, MessageFilter(), offset=0, limit=None)).items
    ] == ["t2"]
    assert await engine.files("t1") == []
    assert engine.next_due("t1") is None
    await engine.reset(None)
    assert (await engine.query(None, MessageFilter(), offset=0, limit=None)).total == 0


# -- reads ----------------------------------------------------------------------------------------


async def test_reads_by_batch_client_id_and_conversation(engine: Engine):
    a, b, c = await store(
        engine,
        message(batch="b", external="e", at=1000.0),
        message(batch="b", phone="+46700000002", at=1001.0),
        message(external="e", at=1002.0),
    )
    assert [m.id for m in await engine.batch("t1", "b")] == [a.id, b.id]
    assert [m.id for m in await engine.by_external("t1", "p", "e")] == [a.id, c.id]
    assert await engine.by_external("t1", "q", "e") == []
    latest = await engine.latest_to("t1", "p", "a", "+46700000001")
    assert latest is not None and latest.id == c.id
    assert await engine.latest_to("t2", "p", "a", "+46700000001") is None


async def test_the_latest_message_to_a_phone_is_one_sent_not_one_scheduled(engine: Engine):
    (sent,) = await store(engine, message(at=1000.0))
    later = message(at=1001.0, send_at=9000.0)
    unit = await engine.begin("t1")
    unit.add(later)
    unit.set_status(later, Status.SCHEDULED)
    await engine.commit(unit)
    latest = await engine.latest_to(None, "p", "a", "+46700000001")
    assert latest is not None and latest.id == sent.id


async def test_query_filters_pages_and_tests_each_message(engine: Engine):
    made = await store(
        engine,
        *(
            message(at=1000.0 + i, phone=f"+4670000000{i % 2}", agent="a" if i < 4 else "b")
            for i in range(6)
        ),
    )
    everything = await engine.query("t1", MessageFilter(), offset=0, limit=None)
    assert [m.id for m in everything.items] == [m.id for m in made] and everything.total == 6
    page = await engine.query("t1", MessageFilter(), offset=2, limit=2)
    assert [m.id for m in page.items] == [m.id for m in made[2:4]] and page.total == 6
    agent = await engine.query("t1", MessageFilter(provider="p", agent="b"), offset=0, limit=None)
    assert [m.id for m in agent.items] == [m.id for m in made[4:]]
    unnamed = await engine.query("t1", MessageFilter(agent="b"), offset=0, limit=None)
    assert [m.id for m in unnamed.items] == [m.id for m in made[4:]]
    phone = await engine.query("t1", MessageFilter(phone="+46700000001"), offset=1, limit=1)
    assert [m.id for m in phone.items] == [made[3].id] and phone.total == 3
    tested = await engine.query(
        "t1",
        MessageFilter(),
        offset=0,
        limit=1,
        matching=lambda m: m.id in (made[1].id, made[5].id),
    )
    assert [m.id for m in tested.items] == [made[1].id] and tested.total == 2


async def test_across_tenants_the_order_is_the_order_stored(engine: Engine):
    """Every tenant's messages in the order they were stored, whatever their creation times
    (tenants' manual clocks may stand apart)."""
    made = await store(
        engine,
        message("t2", at=1000.0),
        message("t1", at=1009.0),
        message("t3", at=1002.0),
        message("t1", at=1010.0),
    )
    every = await engine.query(None, MessageFilter(), offset=0, limit=None)
    assert [m.id for m in every.items] == [m.id for m in made] and every.total == 4
    page = await engine.query(None, MessageFilter(), offset=1, limit=2)
    assert [m.id for m in page.items] == [made[1].id, made[2].id] and page.total == 4


async def test_sent_between_leaves_out_threads_phones_opened(engine: Engine):
    made = await store(engine, *(message(at=1000.0 + 10 * i) for i in range(5)))
    opened = message(at=1025.0, kind="user")
    await store(engine, opened, sent=False)
    window = await engine.sent_between(
        "t1", "p", 1010.0, 1030.0, newest_first=False, offset=0, limit=10
    )
    assert [m.id for m in window.items] == [m.id for m in made[1:4]] and window.total == 3
    newest = await engine.sent_between("t1", "p", None, None, newest_first=True, offset=1, limit=2)
    assert [m.id for m in newest.items] == [made[3].id, made[2].id] and newest.total == 5


async def test_a_timeline_holds_every_event_in_time_order(engine: Engine):
    a, b = await store(engine, message(at=1000.0), message(at=1005.0, phone="+46700000002"))
    unit = await engine.begin("t1", Wants(messages=[a.id]))
    held = unit.message(a.id)
    assert held is not None
    unit.record(held, Event(EventType.READ, 1010.0), Status.READ)
    await engine.commit(unit)
    every = await engine.timeline("t1", "p", "a", None, None, None, None)
    assert [(e.message.id, e.event.type) for e in every] == [
        (a.id, EventType.SENT),
        (b.id, EventType.SENT),
        (a.id, EventType.READ),
    ]
    one_phone = await engine.timeline("t1", "p", "a", "+46700000001", 1001.0, None, None)
    assert [(e.message.id, e.event.type) for e in one_phone] == [(a.id, EventType.READ)]
    newest = await engine.timeline("t1", "p", "a", None, None, None, 2)
    assert [e.time for e in newest] == [1005.0, 1010.0]


async def test_files_are_kept_per_tenant_with_their_bytes(engine: Engine, tmp_path: Path):
    source = tmp_path / "upload"
    source.write_bytes(b"png")
    with source.open("rb") as f:
        path = await engine.keep_file("t1", "files/one", f)
    unit = await engine.begin("t1")
    kept = stored_file("t1")
    kept.path = path
    unit.add_file(kept)
    await engine.commit(unit)
    found = await engine.file("t1", "files/one")
    assert found is not None and (found.name, found.mime, found.size) == ("a.png", "image/png", 3)
    assert await engine.file(None, "files/one") is not None
    assert await engine.file("t2", "files/one") is None
    assert [f.id for f in await engine.files(None)] == ["files/one"]
    assert list(await engine.file_index("t1")) == ["files/one"]
    content = await engine.file_content(found)
    assert (content.read_bytes() if isinstance(content, Path) else content) == b"png"


async def test_counts_say_what_is_held(engine: Engine):
    await store(engine, message("t1"), message("t2"), message("t2"))
    unit = await engine.begin("t2")
    unit.schedule(5000.0, Due(DueKind.SEND, "t2", "x"))
    await engine.commit(unit)
    counts = await engine.counts()
    assert (counts["messages"], counts["tenants"], counts["scheduled_events"]) == (3, 2, 1)
    assert counts["evicted_messages"] == 0


async def test_conversations_count_their_messages_the_newest_last(engine: Engine):
    """Each agent's exchange with one phone in one tenant: its messages and its newest; across
    tenants through the same order (the one whose newest message is oldest first)."""
    first = await store(
        engine,
        message("t1", at=1000.0, phone="+46700000001"),
        message("t1", at=1001.0, phone="+46700000001"),
        message("t2", at=1002.0, phone="+46700000002"),
        message("t1", at=1003.0, phone="+46700000001", agent="b"),
        message("t1", at=1004.0, phone="+46700000003", provider="q"),
    )
    every = await engine.conversations(None, MessageFilter(), offset=0, limit=None)
    assert [
        (c.tenant, c.provider, c.agent_id, c.phone, c.messages, c.latest_id) for c in every.items
    ] == [
        ("t1", "p", "a", "+46700000001", 2, first[1].id),
        ("t2", "p", "a", "+46700000002", 1, first[2].id),
        ("t1", "p", "b", "+46700000001", 1, first[3].id),
        ("t1", "q", "a", "+46700000003", 1, first[4].id),
    ]
    assert every.total == 4 and every.items[0].latest_at == 1001.0
    page = await engine.conversations(None, MessageFilter(), offset=1, limit=2)
    assert [c.latest_id for c in page.items] == [first[2].id, first[3].id] and page.total == 4
    mine = await engine.conversations("t1", MessageFilter(provider="p"), offset=0, limit=None)
    assert [(c.agent_id, c.phone) for c in mine.items] == [
        ("a", "+46700000001"),
        ("b", "+46700000001"),
    ]
    one = await engine.conversations(
        None, MessageFilter(phone="+46700000002"), offset=0, limit=None
    )
    assert [c.tenant for c in one.items] == ["t2"] and one.total == 1
    await engine.reset(["t2"])
    assert (await engine.conversations(None, MessageFilter(), offset=0, limit=None)).total == 3


async def test_stats_count_statuses_and_latencies_of_what_agents_sent(engine: Engine):
    """Statuses and each latency (first event of one type to the first of the other) of the
    messages agents sent, of one tenant or every one, of a provider or one of its agents;
    threads a phone opened are not counted, and a reset tenant's no longer are."""
    made = await store(
        engine,
        message("t1", at=1000.0),
        message("t1", at=1000.0, agent="b"),
        message("t2", at=1000.0, provider="q"),
    )
    await store(engine, message("t2", at=1000.0, kind="user"), sent=False)
    for m, delivered, read in (
        (made[0], 1002.0, 1062.0),
        (made[1], 1004.0, None),
        (made[2], 1002.0, 1003.0),
    ):
        unit = await engine.begin(m.tenant, Wants(messages=[m.id]))
        held = unit.message(m.id)
        assert held is not None
        unit.record(held, Event(EventType.DELIVERED, delivered), Status.DELIVERED)
        if read is not None:
            unit.record(held, Event(EventType.READ, read), Status.READ)
        await engine.commit(unit)
    every = (await engine.stats(None)).result()
    assert every["total"] == 3
    assert (every["statuses"]["read"], every["statuses"]["delivered"]) == (2, 1)
    assert every["latency"]["sent_to_delivered"] == {
        "count": 3,
        "min": 2.0,
        "mean": round(8 / 3, 6),
        "p50": 2.0,
        "p90": 3.6,
        "p95": 3.8,
        "p99": 3.96,
        "max": 4.0,
    }
    assert every["latency"]["delivered_to_read"]["count"] == 2
    assert every["latency"]["delivered_to_read"]["max"] == 60.0
    assert (await engine.stats("t1")).result()["total"] == 2
    assert (await engine.stats(None, provider="q")).result()["latency"]["sent_to_read"] == {
        "count": 1,
        "min": 3.0,
        "mean": 3.0,
        "p50": 3.0,
        "p90": 3.0,
        "p95": 3.0,
        "p99": 3.0,
        "max": 3.0,
    }
    agent = (await engine.stats(None, agent="b")).result()
    assert agent["total"] == 1 and agent["statuses"]["delivered"] == 1
    await engine.reset(["t1"])
    assert (await engine.stats(None)).result()["total"] == 1


# -- the schedule ---------------------------------------------------------------------------------


async def test_due_events_run_once_in_time_order_each_at_its_time(engine: Engine):
    a, b = await store(engine, message(), message())
    unit = await engine.begin("t1")
    for due, ref in ((1030.0, a.id), (1010.0, b.id), (1020.0, a.id), (5000.0, b.id)):
        unit.schedule(due, Due(DueKind.STEP, "t1", ref))
    await engine.commit(unit)
    assert engine.next_due("t1") == 1010.0 and engine.due_tenants() == ["t1"]
    log: list[tuple[float, Due]] = []
    assert await engine.run_due("t1", 1030.0, recorder(log), limit=2) == 2
    assert await engine.run_due("t1", 1030.0, recorder(log), limit=100) == 1
    assert await engine.run_due("t1", 1030.0, recorder(log), limit=100) == 0
    assert [(when, task.ref) for when, task in log] == [
        (1010.0, b.id),
        (1020.0, a.id),
        (1030.0, a.id),
    ]
    assert engine.next_due("t1") == 5000.0
    found = await engine.message("t1", a.id)
    assert found is not None and [e.type for e in found.events].count(EventType.DELIVERED) == 2


async def test_equal_times_run_in_the_order_they_were_scheduled(engine: Engine):
    made = await store(engine, *(message() for _ in range(5)))
    unit = await engine.begin("t1")
    for m in made:
        unit.schedule(1010.0, Due(DueKind.STEP, "t1", m.id))
    await engine.commit(unit)
    log: list[tuple[float, Due]] = []
    await engine.run_due("t1", 1010.0, recorder(log), limit=100)
    assert [task.ref for _, task in log] == [m.id for m in made]


async def test_two_processes_running_one_tenants_events_apply_each_once(engine_factory, kind):
    """Two engines over one state (two processes; on the memory engine, one process running
    twice at once): every due event is applied exactly once."""
    first, _ = engine_factory()
    second = engine_factory()[0] if kind != "memory" else first
    made = await store(first, *(message() for _ in range(20)))
    unit = await first.begin("t1")
    for i, m in enumerate(made):
        for step in range(5):
            unit.schedule(1001.0 + i + step * 0.01, Due(DueKind.STEP, "t1", m.id))
    await first.commit(unit)
    log: list[tuple[float, Due]] = []

    async def run(engine: Engine) -> int:
        ran = 0
        while done := await engine.run_due("t1", 2000.0, recorder(log), limit=7):
            ran += done
            await asyncio.sleep(0)
        return ran

    ran = await asyncio.gather(run(first), run(second))
    assert sum(ran) == 100 and len(log) == 100
    for m in made:
        found = await first.message("t1", m.id)
        assert found is not None
        assert [e.type for e in found.events].count(EventType.DELIVERED) == 5
    for each in engine_factory.made:
        await each.aclose()


# -- deliveries -----------------------------------------------------------------------------------


def _delivery(url: str, m_id: str, event: str = "delivered", at: float = 1000.0) -> Delivery:
    return Delivery(
        "p", "t1", "a", "+46700000001", m_id, event, url, {"event": event, "id": m_id}, POLICY, at
    )


@pytest.fixture
def receiver() -> WebhookReceiver:
    with WebhookReceiver() as receiver:
        yield receiver


async def test_a_delivery_is_made_in_order_logged_and_read_back(engine: Engine, receiver):
    (m,) = await store(engine, message())
    unit = await engine.begin("t1")
    for event in ("sent", "delivered", "read"):
        unit.deliver(_delivery(receiver.url, m.id, event))
    await engine.commit(unit)
    await engine.deliveries.drain("t1")
    assert [c["json"]["event"] for c in receiver.calls] == ["sent", "delivered", "read"]
    found = await engine.deliveries.find("t1", DeliveryFilter(), offset=0, limit=None)
    assert [d.event for d in found.items] == ["sent", "delivered", "read"] and found.total == 3
    first = found.items[0]
    assert first.state is DeliveryState.DELIVERED and first.policy == POLICY
    assert [(a.number, a.status, a.accepted) for a in first.attempts] == [(1, 200, True)]
    assert (await engine.deliveries.get(first.id)) is not None
    by_event = await engine.deliveries.find(
        None, DeliveryFilter(message_id=m.id), offset=1, limit=1
    )
    assert [d.event for d in by_event.items] == ["delivered"] and by_event.total == 3
    backlog = await engine.deliveries.backlog()
    assert backlog["delivered"] == 3 and backlog["pending"] == backlog["in_flight"] == 0


async def test_a_refused_delivery_is_retried_at_its_time_and_redelivered_on_demand(
    engine: Engine, receiver
):
    (m,) = await store(engine, message())
    receiver.answer(status=500, times=1)
    unit = await engine.begin("t1")
    unit.deliver(_delivery(receiver.url, m.id, at=engine.clock.now()))
    await engine.commit(unit)
    await engine.deliveries.drain("t1")
    (retrying,) = (await engine.deliveries.find("t1", DeliveryFilter(), offset=0, limit=None)).items
    assert retrying.state is DeliveryState.RETRYING and retrying.next_attempt_at is not None
    failing = await engine.deliveries.find("t1", DeliveryFilter(failing=True), offset=0, limit=None)
    assert failing.total == 1
    with pytest.raises(ValueError, match="not finished"):
        await engine.deliveries.redeliver(retrying.id)
    # Its tenant's time passes the retry's: it is made (on the memory engine, from its schedule).
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    clock.advance(10.0)
    await engine.run_due("t1", clock.now(), recorder([]), limit=100)
    await engine.deliveries.drain("t1")
    done = await engine.deliveries.get(retrying.id)
    assert done is not None and done.state is DeliveryState.DELIVERED
    assert [a.accepted for a in done.attempts] == [False, True]
    again = await engine.deliveries.redeliver(retrying.id)
    assert again.id == retrying.id
    await engine.deliveries.drain("t1")
    redone = await engine.deliveries.get(retrying.id)
    assert redone is not None and len(redone.attempts) == 3 and len(receiver.calls) == 3
    with pytest.raises(KeyError):
        await engine.deliveries.redeliver(10**9)


async def test_a_tenants_reset_forgets_its_deliveries(engine: Engine, receiver):
    (m,) = await store(engine, message("t1"))
    (other,) = await store(engine, message("t2"))
    for tenant, ref in (("t1", m.id), ("t2", other.id)):
        unit = await engine.begin(tenant)
        delivery = _delivery(receiver.url, ref)
        delivery.tenant = tenant
        unit.deliver(delivery)
        await engine.commit(unit)
    await engine.deliveries.drain(None)
    await engine.reset(["t1"])
    left = await engine.deliveries.find(None, DeliveryFilter(), offset=0, limit=None)
    assert [d.tenant for d in left.items] == ["t2"]


# -- retention ------------------------------------------------------------------------------------


async def test_max_messages_bounds_every_tenants_messages_evicting_the_oldest(engine_factory, kind):
    """One bound for the whole state, not one per tenant: past it, the oldest message of any
    tenant leaves first, and the count of evictions says so."""
    engine, _ = engine_factory(max_messages=4)
    made = await store(
        engine,
        message("t1", at=1000.0),
        message("t2", at=1001.0),
        message("t1", at=1002.0),
        message("t3", at=1003.0),
        message("t2", at=1004.0),
        message("t3", at=1005.0),
    )
    held = await engine.query(None, MessageFilter(), offset=0, limit=None)
    assert [m.id for m in held.items] == [m.id for m in made[2:]]
    counts = await engine.counts()
    assert (counts["messages"], counts["evicted_messages"], counts["max_messages"]) == (4, 2, 4)
    for each in engine_factory.made:
        await each.aclose()


async def _delivered(engine: Engine, url: str, tenant: str, at: float) -> str:
    """A message of the tenant's with one callback, made."""
    (m,) = await store(engine, message(tenant, at=at))
    unit = await engine.begin(tenant)
    delivery = _delivery(url, m.id, at=at)
    delivery.tenant = tenant
    unit.deliver(delivery)
    await engine.commit(unit)
    await engine.deliveries.drain(tenant)
    return m.id


async def test_max_webhook_log_bounds_every_tenants_log_dropping_the_oldest(engine_factory, kind):
    """One bound for the whole webhook log, not one per tenant: past it, the oldest finished
    delivery of any tenant leaves first; one still owed to its receiver never does, and the
    log waits behind it."""
    engine, clock = engine_factory(max_webhook_log=3)
    now = clock.now()  # (a retry is due 10 s after its first attempt: later than now)
    with WebhookReceiver() as receiver:
        made = [
            await _delivered(engine, receiver.url, tenant, now - 10 + i)
            for i, tenant in enumerate(("t1", "t2", "t1", "t3", "t2"))
        ]
        held = await engine.deliveries.find(None, DeliveryFilter(), offset=0, limit=None)
        assert [d.message_id for d in held.items] == made[2:] and held.total == 3
        backlog = await engine.deliveries.backlog()
        assert (backlog["delivered"], backlog["dropped_from_log"]) == (3, 2)
        receiver.answer(status=500, times=1)  # refused: owed, it waits for its retry
        owed = await _delivered(engine, receiver.url, "t3", now)
        later = [
            await _delivered(engine, receiver.url, tenant, now + 1 + i)
            for i, tenant in enumerate(("t1", "t2", "t3"))
        ]
        held = await engine.deliveries.find(None, DeliveryFilter(), offset=0, limit=None)
        assert [d.message_id for d in held.items] == [owed, *later]
        assert held.items[0].state is DeliveryState.RETRYING
        backlog = await engine.deliveries.backlog()
        assert (backlog["retrying"], backlog["dropped_from_log"]) == (1, 5)
    for each in engine_factory.made:
        await each.aclose()


async def test_surprises_are_kept_per_tenant_and_forgotten_with_it(engine: Engine):
    engine.surprises.note("request", tenant="t1", status=401)
    engine.surprises.note("request", tenant="t2", status=403)
    engine.surprises.note("request", tenant=None, status=400)
    kept = await engine.surprises.items()
    assert [s["status"] for s in kept] == [401, 403, 400]
    await engine.reset(["t1"])
    await engine.surprises.forget("t1")
    assert sorted(s["status"] for s in await engine.surprises.items()) == [400, 403]
    await engine.reset(None)
    await engine.surprises.forget()
    assert await engine.surprises.items() == []
