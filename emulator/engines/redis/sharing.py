"""What the processes serving one Redis state tell each other (engine.Sharing): the settings
(agents, phones, providers' own, faults) and the clock, each kept in every partition with a
version; change notices for every process's live viewers; counted faults' hits; units' numbers
for seeded draws.

A change is written to every partition a process reaches (one that does not answer is brought
up to date by the first process that finds it behind), and announced on a channel; the process
that made it answers its caller only once every other live process has taken it in (each says
so in every partition's `heard`, where it also beats every second while it hears the channel).
So a request never has to ask Redis whether something changed: a test that advances through one
replica and sends through another sees the new time, and the send costs no round trip for it. A
process that does not hear the channel (not yet subscribed, its subscription lost, its loop
stalled past its beat) asks before every request instead, as it cannot know; and a process that
stopped beating is waited for no longer (a process killed -9 delays a change by at most LIVE).
No partition is needed by all: a shard's outage stops none of this for the others'.

Versions: settings carry "<number>|<writer>" (the greater wins, in every partition alike); the
clock's fields only move forward (each is kept at the greatest written), and its partitions
count its changes. What a process took in is the pair of numbers "<settings>.<clock>".

Notices go out a batch at a time (a burst of events is one message) and only while some process
listens: PUBLISH says how many did, and with none the next batches wait a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from . import keys
from .codec import pairs
from .keys import CHANNEL, SEP
from .link import Link, Unreachable, cut_connection

log = logging.getLogger("rcs_emulator.state")

NOTICE_BATCH = 0.05  # seconds notices gather before they go out
QUIET = 1.0  # seconds between tries to publish while no process listens
BEAT_EVERY = 1.0  # seconds between a hearing process's beats
LIVE = 5.0  # seconds since its last beat a process is waited for
TRUSTED = LIVE / 2  # seconds since its own last beat a process trusts it heard every change


def _flattened(state: dict[str, Any]) -> list[str]:
    """A clock's state as hash fields and values: its times, and each tenant's lead."""
    fields = []
    for name, value in state.items():
        if isinstance(value, dict):
            for tenant, v in value.items():
                fields += [f"{name}{SEP}{tenant}", repr(float(v))]
        else:
            fields += [name, repr(float(value))]
    return fields


def _unflattened(fields: dict[bytes, bytes]) -> dict[str, Any]:
    state: dict[str, Any] = {"ahead": {}}
    for key, value in fields.items():
        name, _, tenant = key.decode().partition(SEP)
        if tenant:
            state.setdefault(name, {})[tenant] = float(value)
        else:
            state[name] = float(value)
    return state


async def _versions_of(partition: int, client: Any) -> dict[bytes, bytes]:
    """A partition's versions, asked as a plain command (cheaper than a script)."""
    found: dict[bytes, bytes] = await client.hgetall(
        keys.ROOTS[partition] + keys.PARTITION_ROOT["versions"][0]
    )
    return found


def _settings_number(version: bytes | None) -> int:
    return int(version.split(b"|", 1)[0]) if version else 0


def _newer(a: bytes | None, b: bytes | None) -> bool:
    """Settings version a is newer than b."""
    if not a:
        return False
    if not b:
        return True
    (an, aw), (bn, bw) = a.split(b"|", 1), b.split(b"|", 1)
    return (int(an), aw) > (int(bn), bw)


class RedisSharing:
    def __init__(self, link: Link, process: str) -> None:
        self.link = link
        self.process = process  # this process, among those that hear changes
        self._settings: bytes | None = None  # the settings version taken in
        self._clock = 0  # the clock's count of changes taken in
        self._load_settings: Callable[[dict[str, Any]], None] | None = None
        self._load_clock: Callable[[dict[str, Any]], None] | None = None
        self._show: Callable[[dict[str, Any]], None] | None = None
        self._outbox: list[dict[str, Any]] = []
        self._quiet_until = 0.0
        self._flushing: asyncio.Task[None] | None = None
        self.origin = secrets.token_hex(8)  # its own notices come back: it skips them
        self.hearing = False  # subscribed, and caught up since
        self._beat_at = -LIVE  # (monotonic) when its newest beat that Redis took was sent
        self._catching_up: asyncio.Lock | None = None
        self._repairs: set[asyncio.Task[None]] = set()
        link.on_new_generation.append(self._forget)  # (another copy: load it afresh)
        link.on_back.append(self.caught_up_soon)

    def _forget(self, partition: int) -> None:
        self._settings, self._clock = None, 0

    def bind(
        self,
        settings: Callable[[dict[str, Any]], None],
        clock: Callable[[dict[str, Any]], None],
        notice: Callable[[dict[str, Any]], None],
    ) -> None:
        self._load_settings, self._load_clock, self._show = settings, clock, notice

    # -- settings and the clock -------------------------------------------------------------

    async def _versions(self) -> dict[int, dict[bytes, bytes]]:
        """Every partition's versions (those that answer); Unreachable if none does."""
        found = await self.link.fan_run("VERSIONS", lambda _: [])
        answered = {p: pairs(a) for p, a in found.items() if not isinstance(a, Unreachable)}
        if not answered:
            raise next(a for a in found.values() if isinstance(a, Unreachable))
        return answered

    async def refresh(self) -> None:
        if self.hearing and time.monotonic() - self._beat_at < TRUSTED:
            return  # every change is taken in here before its writer answers
        # Every change is written to every partition that answers (one that did not is brought
        # up to date when it answers again): the first that answers has them all.
        for partition in sorted(range(keys.PARTITIONS), key=lambda p: not self.link.reachable(p)):
            try:
                held = await self.link.on(partition, partial(_versions_of, partition))
            except Unreachable:
                continue
            if self._behind({partition: held}):
                await self.catch_up()
            return
        raise Unreachable(self.link.error_of(0))

    def caught_up_soon(self) -> None:
        """A node answers again: what it missed meanwhile is brought up to date (catch_up)."""
        with contextlib.suppress(RuntimeError):  # (no loop: nothing to catch up yet)
            task = asyncio.get_running_loop().create_task(self._catch_up_quietly())
            self._repairs.add(task)
            task.add_done_callback(self._repairs.discard)

    async def _catch_up_quietly(self) -> None:
        with contextlib.suppress(Unreachable):
            await self.catch_up()

    def _behind(self, versions: dict[int, dict[bytes, bytes]]) -> bool:
        newest = max(
            (v.get(b"settings") for v in versions.values()), key=_settings_number, default=None
        )
        clock = max((int(v.get(b"clock", 0)) for v in versions.values()), default=0)
        return _newer(newest, self._settings) or clock > self._clock

    async def catch_up(self) -> None:
        """Take in whatever changed since this process last looked (one catch-up at a time,
        each reading the versions itself: two at once could load an older value last), and
        bring a partition that missed a change (it was down) up to date."""
        if self._catching_up is None:
            self._catching_up = asyncio.Lock()
        async with self._catching_up:
            await self._take_in(await self._versions())

    async def _take_in(self, versions: dict[int, dict[bytes, bytes]]) -> None:
        newest: tuple[int, bytes] | None = None
        for partition, held in versions.items():
            version = held.get(b"settings")
            if version and (newest is None or _newer(version, newest[1])):
                newest = (partition, version)
        clocks = {p: int(v.get(b"clock", 0)) for p, v in versions.items()}
        fullest = max(clocks, key=lambda p: clocks[p])
        settings_raw = clock_raw = None
        if newest is not None and _newer(newest[1], self._settings):
            settings_raw, _, _ = await self.link.run("SHARED", newest[0], "")
            if settings_raw and self._load_settings is not None:
                self._load_settings(orjson.loads(settings_raw))
            self._settings = newest[1]
        if clocks[fullest] > self._clock:
            _, clock_raw, _ = await self.link.run("SHARED", fullest, "")
            if clock_raw and self._load_clock is not None:
                self._load_clock(_unflattened(pairs(clock_raw)))
            self._clock = clocks[fullest]
        # A partition that missed a change while it was down, brought up to date.
        for partition, held in versions.items():
            if newest is not None and _newer(newest[1], held.get(b"settings")):
                if settings_raw is None:
                    settings_raw, _, _ = await self.link.run("SHARED", newest[0], "")
                with contextlib.suppress(Unreachable):
                    await self.link.run("SHARE_SETTINGS", partition, "", newest[1], settings_raw)
            if clocks[partition] < clocks[fullest]:
                if clock_raw is None:
                    _, clock_raw, _ = await self.link.run("SHARED", fullest, "")
                with contextlib.suppress(Unreachable):
                    fields = [part.decode() for pair in pairs(clock_raw).items() for part in pair]
                    if fields:
                        await self.link.run("SHARE_CLOCK", partition, "", *fields)
                    await self.link.run("CLOCK_CAUGHT_UP", partition, "", str(clocks[fullest]))

    async def settings_changed(self, data: dict[str, Any]) -> None:
        versions = await self._versions()
        number = (
            max((_settings_number(v.get(b"settings")) for v in versions.values()), default=0) + 1
        )
        version = f"{number}|{self.process}".encode()
        raw = orjson.dumps(data)
        written = await self.link.fan_run("SHARE_SETTINGS", lambda _: [version, raw])
        self._written(written)
        await self._announce("settings")

    async def clock_changed(self, data: dict[str, Any]) -> None:
        """A clock's times only move forward: each field is kept at the latest any process
        wrote (two tenants advanced at once through two processes both hold)."""
        fields = _flattened(data)
        written = await self.link.fan_run("SHARE_CLOCK", lambda _: fields)
        self._written(written)
        await self._announce("clock")

    def _written(self, written: dict[int, Any]) -> None:
        """A change reached at least one partition (the others are brought up to date when
        they answer again); Unreachable if none."""
        if all(isinstance(a, Unreachable) for a in written.values()):
            raise next(iter(written.values()))

    async def _announce(self, name: str) -> None:
        said = orjson.dumps({"changed": name, "o": self.origin})
        with contextlib.suppress(RedisError, OSError):
            await asyncio.wait_for(self.link.any_node().client.publish(CHANNEL, said), 2.0)
        await self.catch_up()  # this process's own view, with what anyone else changed meanwhile
        await self._taken_everywhere()

    def _taken(self) -> str:
        return f"{_settings_number(self._settings)}.{self._clock}"

    async def _taken_everywhere(self) -> None:
        """Wait until every other live process took the change in (or stopped beating)."""
        pause = 0.001
        started = time.monotonic()
        settings, clock = str(_settings_number(self._settings)), str(self._clock)
        while True:
            found = await self.link.fan_run(
                "UNHEARD", lambda _: [self.process, settings, clock, str(int(LIVE * 1000))]
            )
            waiting = {t for a in found.values() if not isinstance(a, Unreachable) for t in a}
            if not waiting:
                return
            if time.monotonic() - started > 2 * LIVE:  # (beating, yet deaf: never seen so)
                log.warning(
                    "%d processes did not take in a change of the shared settings or "
                    "clock; going on without them",
                    len(waiting),
                )
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    async def _say_heard(self) -> None:
        """Beat: this process hears the channel and took in every change up to its versions
        (read first: a notice lost while the subscription silently reconnected is caught up
        here, not acknowledged unseen). A beat taken by any partition counts (one whose shard
        is down cannot be read by the others either)."""
        sent = time.monotonic()
        await self.catch_up()
        found = await self.link.fan_run("BEAT", lambda _: [self.process, self._taken()])
        if any(not isinstance(a, Unreachable) for a in found.values()):
            self._beat_at = sent

    # -- notices ----------------------------------------------------------------------------

    def notice(self, notice: dict[str, Any]) -> None:
        if time.monotonic() < self._quiet_until:
            return  # nobody listened a moment ago
        self._outbox.append(notice)
        if self._flushing is None or self._flushing.done():
            with contextlib.suppress(RuntimeError):  # no loop: nobody to tell
                self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(NOTICE_BATCH)
        batch, self._outbox = self._outbox, []
        if not batch:
            return
        node = self.link.any_node()
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            heard = await asyncio.wait_for(
                node.client.publish(
                    CHANNEL, orjson.dumps({"notices": batch[-1000:], "o": self.origin})
                ),
                2.0,
            )
            if heard <= 1:  # only this process's own subscriber: no viewer anywhere else
                self._quiet_until = time.monotonic() + QUIET

    async def listen(self, stop: asyncio.Event) -> None:
        """Take in others' changes and notices as they are announced (on any node that answers:
        every node of a cluster hears every PUBLISH), reconnecting, and catching up on what went
        by meanwhile, after Redis comes back."""
        while not stop.is_set():
            node = self.link.any_node()
            pubsub = node.client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                await self.catch_up()
                self.hearing = True
                await self._say_heard()
                while not stop.is_set():
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=BEAT_EVERY
                    )
                    changed = message is not None and await self._heard(
                        orjson.loads(message["data"])
                    )
                    if changed or time.monotonic() - self._beat_at >= BEAT_EVERY:
                        await self._say_heard()  # (after a change: it was taken in)
            except (Unreachable, OSError, Exception) as exc:  # Redis lost: look again soon
                if stop.is_set():
                    return
                if isinstance(exc, (Unreachable, OSError, RedisError)):
                    log.debug("notices: %r", exc)  # (the link says Redis is lost, once)
                    if isinstance(exc, (OSError, RedisConnectionError)):
                        self.link.lost(node, exc)  # (another node is subscribed to next)
                else:
                    log.error("notices from other processes are not heard", exc_info=exc)
            finally:
                self.hearing = False
                try:
                    await self._deaf()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(pubsub.aclose(), 1.0)
                finally:  # (a stop's second cancellation, or a close past its second)
                    cut_connection(pubsub.connection)
                pause = 0.05 if self.link.any_node() is not node else 1.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)

    async def _deaf(self) -> None:
        """Heard by nobody now: no writer waits for this process's acknowledgements (it asks
        before every request instead, until it hears again)."""
        if self._beat_at < 0:
            return
        self._beat_at = -LIVE
        deaf = asyncio.ensure_future(self.link.fan_run("GONE", lambda _: [self.process]))
        await asyncio.wait([deaf], timeout=1.0)

    async def _heard(self, said: dict[str, Any]) -> bool:
        """Take in what another process announced; True for a change of settings or clock."""
        if said.get("o") == self.origin:
            return False
        if "changed" in said:
            await self.catch_up()
            return True
        if self._show is not None:
            for notice in said.get("notices", ()):
                self._show(notice)
        return False

    async def aclose(self) -> None:
        """Stopping: nobody need wait for this process any more (if it ever beat)."""
        if self._beat_at < 0:
            return
        gone = asyncio.ensure_future(self.link.fan_run("GONE", lambda _: [self.process]))
        await asyncio.wait([gone], timeout=1.0)  # (what is left is the link's to cut off)

    # -- counted faults, units' numbers -----------------------------------------------------

    async def take_fault(self, fault_id: int, count: int) -> bool:
        return bool(
            await self.link.run(
                "TAKE_FAULT", fault_id % keys.PARTITIONS, "", str(fault_id), str(count)
            )
        )

    async def unit_number(self, tenant: str, seed: int) -> int | None:
        partition = keys.partition_of(tenant)
        return int(
            await self.link.run("UNIT_NUMBER", partition, keys.tenant_tag(tenant), str(seed))
        )
