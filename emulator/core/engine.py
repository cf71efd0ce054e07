"""The storage contract the rules run over: what an engine keeps and how a rule reaches it.

An engine keeps the records (messages with their events, uploaded files' records), the indexes
that answer every read without a scan, the schedule of due events, and counters. The rules never
touch its structures: each runs synchronously over a `Unit` of work, one tenant's records that the
engine loads before the rule (`begin`, naming what the rule will look up) and commits after it
(`commit`, atomically). An engine whose data lives in memory hands the live records and commits
nothing; one whose data lives in an external store loads copies, collects the writes the unit
makes (each a delta: a new message, an appended event, a status moved forward, a due event, a
callback to make), and applies them in one step. So the same rule runs over both unchanged.

Due events are data (`Due`), never code: an engine can keep, share and claim them; running them
is a unit of work of its own (`run_due`). Reads are
async (an external store answers over the network) and answer pages (`Found`) rather than live
views, so paging a million messages costs what the page costs.

Both engines (emulator/engines/) pass one contract suite (tests/engines/test_contract.py), which
is where these semantics are defined; what it says, every engine does:

- A unit reads only what it named (`Wants`) or made: a read of anything else is a UnitMisuse.
- A unit whose tenant was reset after it began writes nothing.
- Due events run once each, earliest first, equal times in the order they were scheduled, even
  with two processes running one tenant's events at once.
- Every tenant's messages (a `None` tenant) come in the order they were stored (tenants' manual
  clocks may stand apart, so creation times do not order them); `max_messages` bounds the whole
  state (not each tenant), evicting the oldest stored message of any tenant first;
  `max_webhook_log` bounds the whole webhook log alike, dropping the oldest finished delivery of
  any tenant first (one still owed to its receiver is never dropped: the log waits behind it).
- Reads of every tenant (a `None` tenant: messages, conversations, stats, deliveries, uploads,
  counts) go through indexes across tenants: what they cost never grows with the number of
  tenants.
- A delivery's callbacks to one recipient go out in event order; a refused one is retried once
  its tenant's time passes the retry's (run_due, then drain, make it on every engine). Each
  tenant's attempts to one receiver are bounded on their own (`webhook_per_host`): a tenant's
  hung receiver holds its own attempts only, whatever receiver others share with it.
- `ready(tenant)` says whether the store that holds the tenant answers (a stopping engine serves
  none); `ready()` whether any does.

Where engines differ, by design:
- The memory engine's units act on the live records at once and its commit does nothing; the
  rules run synchronously between `begin` and `commit`, so no one sees a unit half done. An
  engine over an external store loads copies and applies deltas at commit. So a unit that
  raises midway leaves what it did on the memory engine, and nothing on the others.
- The memory engine moves a message's creation time forward to its tenant's latest one stored
  (a few milliseconds at most, on a running clock under concurrent sends): its time-range reads
  bisect.
- An upload's bytes come back as a file (memory) or as bytes (an external store).
- The memory engine checks `Wants` only when strict (`strict_units`, as in the contract suite):
  the check would cost its hot path, and the other engines check it always.
- The Redis engine's "engine's sequence" across tenants is the wall time the process made a
  record at (each tenant's sequence is its own, and no counter is shared by every tenant), and
  its deliveries across tenants come by the wall time they were made at, then id (the memory
  engine's by id: its ids are one counter).
- The Redis engine keeps a global bound in steps (reaching it, the state is brought to 1% under
  it, one pass of every partition per 1% of sends instead of one per send), and a process counts
  other processes' sends of the last second late; with a bound under 100 it is exact.
- Stats: the memory engine counts over the messages held on each call; the Redis engine keeps
  the figures as messages change, each latency rounded to three significant digits (its mean
  is exact): a read of every tenant's stats costs what its figures take, not its messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar

from .clock import Clock
from .models import Status
from .records import (
    Attempt,
    Delivery,
    DeliveryState,
    Due,
    Event,
    Message,
    RetryPolicy,
    StoredFile,
    TimelineEntry,
)
from .stats import Figures
from .surprises import SurpriseKind

T = TypeVar("T")


class StateUnavailable(Exception):
    """The state cannot answer now (an engine's store is unreachable, or full); the caller
    hears why in a 503 of its own form, and may try again."""


class UnitMisuse(AssertionError):
    """A rule read a message its unit was not asked to load (`Wants`): an engine that loads
    copies could not answer it, so every engine refuses it (the memory engine when strict, as in
    the contract suite: checking costs its hot path)."""


class StateRefused(Exception):
    """The state cannot be used at all (a saved state that does not load, a shared state that
    cannot be joined): said in one line, and the process does not start."""


@dataclass(slots=True)
class Found(Generic[T]):
    """One page of what matched, and how many matched in all."""

    items: list[T]
    total: int


@dataclass(frozen=True, slots=True)
class Conversation:
    """An agent's exchange with one phone, in one tenant: how many messages it holds, and its
    newest (its id and creation time)."""

    tenant: str
    provider: str
    agent_id: str
    phone: str
    messages: int
    latest_id: str
    latest_at: float


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Messages of which provider, agent, phone and status (None: any)."""

    provider: str | None = None
    agent: str | None = None
    phone: str | None = None
    status: Status | None = None


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    """Deliveries of which provider, agent, phone, message and state (None: any); `failing`:
    only those not accepted (yet)."""

    provider: str | None = None
    agent_id: str | None = None
    phone: str | None = None
    message_id: str | None = None
    state: DeliveryState | None = None
    failing: bool = False

    def matches(self, d: Delivery) -> bool:
        return (
            (self.provider is None or d.provider == self.provider)
            and (self.agent_id is None or d.agent_id == self.agent_id)
            and (self.phone is None or d.phone == self.phone)
            and (self.message_id is None or d.message_id == self.message_id)
            and (self.state is None or d.state is self.state)
            and (not self.failing or d.state.failing)
        )


@dataclass(slots=True)
class Wants:
    """What a unit of work will look up, so that an engine can load it before the rule runs."""

    messages: list[str] = field(default_factory=list)  # by id


class Unit(Protocol):
    """One tenant's records as a rule sees them: reads of what was named when it began, and
    writes that the engine commits together."""

    tenant: str

    def message(self, message_id: str) -> Message | None:
        """A message of this tenant that the unit was asked to load, or made (None: none such,
        or gone). UnitMisuse: one it was not asked for."""

    def alive(self, message: Message) -> bool:
        """Whether the message is still held (not reset or evicted since it was loaded)."""

    def add(self, message: Message) -> None:
        """A new message: stored and indexed (its `seq` set)."""

    def record(self, message: Message, event: Event, status: Status | None = None) -> bool:
        """An event appended, and the status moved forward; False if the status stayed."""

    def set_status(self, message: Message, status: Status) -> None:
        """The status set as given (a scheduled send becoming queued)."""

    def schedule(self, due: float, task: Due) -> None:
        """Something to happen at an emulator time."""

    def add_file(self, stored: StoredFile) -> None:
        """An uploaded file's record (its bytes are already kept)."""

    def deliver(self, delivery: Delivery) -> None:
        """A callback to make once the unit is committed (the queue gives it its id)."""


class SurpriseLog(Protocol):
    """What a test did not ask for (refused requests, webhooks not accepted), newest kept."""

    def note(self, kind: SurpriseKind, **details: Any) -> None: ...

    def webhook_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        """A delivery listener: an attempt the receiver did not accept is a surprise."""

    async def items(self) -> list[dict[str, Any]]:
        """Oldest first."""

    async def forget(self, tenant: str | None = None) -> None: ...


class DeliveryQueue(Protocol):
    """The webhook deliveries an engine keeps: made by its workers (delivery/), logged with
    every attempt, read and steered through these."""

    listeners: list[Callable[[Delivery, Attempt], None]]  # told of every attempt's outcome
    max_log: int

    async def find(
        self,
        tenant: str | None,
        where: DeliveryFilter,
        *,
        offset: int,
        limit: int | None,
        matching: Callable[[Delivery], bool] | None = None,
    ) -> Found[Delivery]:
        """Deliveries matching `where` (and `matching`), oldest first."""

    async def get(self, delivery_id: int) -> Delivery | None: ...

    async def redeliver(self, delivery_id: int) -> Delivery:
        """A finished delivery sent once more, now (KeyError: unknown; ValueError: under way)."""

    async def drain(self, tenant: str | None = None) -> None:
        """Wait until no attempt (of the tenant's, or of anyone's) is due and unmade."""

    async def backlog(self) -> dict[str, int]:
        """How many deliveries stand in each state, and how many the log dropped."""

    async def aclose(self) -> None: ...


class Host(Protocol):
    """What an engine may ask of the service whose state it keeps (the Emulator): the settings
    every process holds alike, as data, and where a change notice from elsewhere goes. An engine
    that shares its state hands the settings and the clock to other processes; one that saves
    its state saves them with the records, and gives them back when it restores."""

    @property
    def providers(self) -> Mapping[str, Any]:
        """The providers it serves, by name."""

    def settings_data(self) -> dict[str, Any]:
        """The settings as data, now."""

    def load_settings(self, data: dict[str, Any]) -> None:
        """Settings given as data (another process changed them, or a saved state holds them)."""

    def show(self, notice: dict[str, Any]) -> None:
        """A change notice another process made, for this one's live viewers."""

    def policy_of(self, provider: str, tenant: str, agent_id: str) -> RetryPolicy:
        """The retry policy the agent's callbacks get now (for deliveries saved without theirs,
        by versions before policies were kept with their deliveries)."""


class Sharing(Protocol):
    """What the processes serving one state tell each other: settings and the clock when they
    change, change notices for live viewers, counted faults' hits. An engine of one process
    shares nothing: every call is a no-op."""

    async def refresh(self) -> None:
        """Before a request: take in what another process changed (settings, the clock) and
        this one may not have heard of yet."""

    async def settings_changed(self, data: dict[str, Any]) -> None:
        """This process changed the settings: every other takes them."""

    async def clock_changed(self, data: dict[str, Any]) -> None:
        """This process moved the clock: every other takes its time."""

    def notice(self, notice: dict[str, Any]) -> None:
        """A change notice for every process's live viewers."""

    async def unit_number(self, tenant: str, seed: int) -> int | None:
        """The next number in a tenant's order of units of work under a seed (processes sharing
        a state draw a seeded unit's ids by it; a reset or a new seed begins it again); None for
        one process, whose draws are in order."""

    async def take_fault(self, fault_id: int, count: int) -> bool:
        """One hit of a fault counted to `count` hits, if it has any left (across processes)."""


class Engine(Protocol):
    """Where the state lives. See the module's docstring."""

    name: str
    clock: Clock  # the emulator's time it keeps (a shared state's: read alike by its processes)
    poll: float  # seconds a running clock's ticker sleeps at most (others' work comes unasked)

    @property
    def deliveries(self) -> DeliveryQueue:
        """Its webhook deliveries."""

    @property
    def sharing(self) -> Sharing:
        """What it shares with other processes."""

    @property
    def surprises(self) -> SurpriseLog:
        """What a test did not ask for."""

    def bind(self, host: Host) -> None:
        """The service it keeps the state of (called once, as the service is built; an engine
        that saves its state restores it now: StateRefused if it cannot)."""

    def describe(self) -> dict[str, Any]:
        """Where the state lives, for the health and readiness endpoints."""

    async def ready(self, tenant: str | None = None) -> bool:
        """Whether it can serve the tenant now (the store that holds it answers), or any tenant
        at all when None; a process that is stopping serves none."""

    async def start(self) -> None:
        """Begin its own background work (a served process's)."""

    async def aclose(self) -> None: ...

    async def keep_file(self, tenant: str, file_id: str, source: IO[bytes]) -> str:
        """An upload's bytes, kept; where they are (what StoredFile.path names)."""

    async def file_content(self, stored: StoredFile) -> bytes | Path | None:
        """An upload's bytes (or the file holding them); None when they are gone."""

    async def poll_due(self) -> None:
        """Learn what other processes scheduled (an engine shared by processes)."""

    # -- units of work ----------------------------------------------------------------------

    async def begin(self, tenant: str, wants: Wants | None = None) -> Unit:
        """A unit of work over one tenant's records, with what `wants` names loaded."""

    async def commit(self, unit: Unit) -> None:
        """Apply what the unit wrote, all of it or nothing."""

    # -- reads ------------------------------------------------------------------------------

    async def message(self, tenant: str | None, message_id: str) -> Message | None:
        """A message by id (of any tenant when `tenant` is None)."""

    async def batch(self, tenant: str, batch: str) -> Sequence[Message]:
        """The messages of one request (its batch or tag id), in recipient order."""

    async def by_external(self, tenant: str, provider: str, external_id: str) -> list[Message]:
        """Messages the client named with its own id, oldest first."""

    async def latest_to(
        self, tenant: str | None, provider: str, agent_id: str, phone: str
    ) -> Message | None:
        """The newest message sent (not merely scheduled) to a phone by an agent (of any
        tenant when None)."""

    async def sent_between(
        self,
        tenant: str,
        provider: str,
        since: float | None,
        until: float | None,
        *,
        newest_first: bool,
        offset: int,
        limit: int,
    ) -> Found[Message]:
        """A provider's messages sent (created) in [since, until], threads phones opened left
        out: one page, in the order asked."""

    async def query(
        self,
        tenant: str | None,
        where: MessageFilter,
        *,
        offset: int,
        limit: int | None,
        matching: Callable[[Message], bool] | None = None,
    ) -> Found[Message]:
        """Messages matching every given filter, and `matching` (a test of each, a search),
        oldest first (of every tenant when None)."""

    async def timeline(
        self,
        tenant: str,
        provider: str,
        agent_id: str,
        phone: str | None,
        since: float | None,
        until: float | None,
        newest: int | None,
    ) -> list[TimelineEntry]:
        """An agent's events (with one phone, or all) in [since, until], oldest first; with
        `newest`, only the newest that many."""

    async def file(self, tenant: str | None, file_id: str) -> StoredFile | None:
        """An uploaded file's record (of any tenant when None)."""

    async def files(self, tenant: str | None) -> list[StoredFile]:
        """Uploaded files' records, oldest first (of every tenant when None)."""

    async def file_index(self, tenant: str) -> Mapping[str, StoredFile]:
        """A tenant's uploaded files' records by id (what a card's fileId names)."""

    async def counts(self) -> dict[str, Any]:
        """What it holds: messages, tenants, scheduled events, retention's evictions."""

    async def conversations(
        self, tenant: str | None, where: MessageFilter, *, offset: int, limit: int | None
    ) -> Found[Conversation]:
        """Conversations (of one tenant, or of every tenant when None) of the filter's provider,
        agent and phone (its status is not one of theirs), the one with the oldest newest
        message first."""

    async def stats(
        self, tenant: str | None, provider: str | None = None, agent: str | None = None
    ) -> Figures:
        """Statuses and latencies of the messages agents sent (of one tenant, or of every
        tenant), of a provider, of an agent of it."""

    # -- the schedule -----------------------------------------------------------------------

    def next_due(self, tenant: str | None = None) -> float | None:
        """The earliest time something of a tenant is due (of anyone when None; None:
        nothing scheduled)."""

    def due_tenants(self) -> list[str]:
        """The tenants with something scheduled."""

    def on_schedule(self, wake: Callable[[float], None] | None) -> None:
        """Call `wake` with the due time of everything scheduled from now on (a running
        clock's ticker sleeps until then); None stops it."""

    async def run_due(
        self, tenant: str, until: float, apply: Callable[[Unit, float, Due], None], limit: int
    ) -> int:
        """Up to `limit` of a tenant's events due at or before `until` (its time), earliest
        first (then in the order they were scheduled), each applied by `apply(unit, when,
        task)` over one unit that holds the records they name, then committed with their
        removal from the schedule, atomically: an event is applied once, and never lost to a
        process that stopped halfway. Returns how many ran (0: none was due). (Retries of
        deliveries are the queue's own: an engine that schedules them runs them itself, never
        through `apply`.)"""

    # -- forgetting -------------------------------------------------------------------------

    async def reset(self, tenants: Iterable[str] | None) -> None:
        """Forget these tenants' records, files, due events and deliveries (every tenant's
        when None)."""
