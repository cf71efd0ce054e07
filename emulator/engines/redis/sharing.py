"""What the processes serving one Redis state tell each other (engine.Sharing): the settings
(agents, phones, providers' own, faults) and the clock, each a value in Redis with a version;
change notices for every process's live viewers; counted faults' hits; units' numbers for
seeded draws.

A change is written, its version bumped, and announced on a channel: every process takes it in
at once. A request on a manual clock (a test's) also compares the versions first, one round
trip, so that a setting or an advance made through another process a moment ago is never missed
(a test that advances through one replica and sends through another sees the new time); on a
running clock the announcement alone keeps the processes within milliseconds of each other.

Notices go out a batch at a time (a burst of events is one message) and only while some process
listens: PUBLISH says how many did, and with none the next batches wait a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from redis.exceptions import RedisError

from ...core.clock import Clock, ManualClock
from .keys import CHANNEL, CLOCK, FAULT_COUNTS, SEP, SETTINGS, VERSIONS, TenantKeys
from .link import Link, Unreachable

log = logging.getLogger("rcs_emulator.state")

NOTICE_BATCH = 0.05  # seconds notices gather before they go out
QUIET = 1.0  # seconds between tries to publish while no process listens

# Each field of a clock's state (a hash) kept at the greater of what it holds and what is given.
LATER = """
for i = 1, #ARGV, 2 do
  local held = redis.call('HGET', KEYS[1], ARGV[i])
  if not held or tonumber(held) < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
"""


def _flattened(state: dict[str, Any]) -> list[tuple[str, str]]:
    """A clock's state as hash fields: its times, and each tenant's lead ("ahead\x1fT")."""
    fields = []
    for name, value in state.items():
        if isinstance(value, dict):
            fields += [(f"{name}{SEP}{tenant}", repr(float(v))) for tenant, v in value.items()]
        else:
            fields.append((name, repr(float(value))))
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


TAKE_FAULT = """
local left = redis.call('HGET', KEYS[1], ARGV[1])
if not left then left = tonumber(ARGV[2]) else left = tonumber(left) end
if left <= 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], left - 1)
return 1
"""


class RedisSharing:
    def __init__(self, link: Link, clock: Clock) -> None:
        self.link = link
        self.client = link.client
        self.clock = clock
        self._versions: dict[bytes, bytes] = {}
        self._load_settings: Callable[[dict[str, Any]], None] | None = None
        self._load_clock: Callable[[dict[str, Any]], None] | None = None
        self._show: Callable[[dict[str, Any]], None] | None = None
        self._outbox: list[dict[str, Any]] = []
        self._quiet_until = 0.0
        self._flushing: asyncio.Task[None] | None = None
        self._take = self.client.register_script(TAKE_FAULT)
        self._later = self.client.register_script(LATER)
        self.origin = id(self)  # this process's own notices come back: it skips them

    def bind(
        self,
        settings: Callable[[dict[str, Any]], None],
        clock: Callable[[dict[str, Any]], None],
        notice: Callable[[dict[str, Any]], None],
    ) -> None:
        self._load_settings, self._load_clock, self._show = settings, clock, notice

    # -- settings and the clock -------------------------------------------------------------

    async def refresh(self) -> None:
        if not isinstance(self.clock, ManualClock):
            return  # a running clock's processes keep up by the announcements
        found = await self.link.call(self.client.hgetall(VERSIONS))
        if found != self._versions:
            await self.catch_up(found)

    async def catch_up(self, versions: dict[bytes, bytes] | None = None) -> None:
        """Take in whatever changed since this process last looked."""
        if versions is None:
            versions = await self.link.call(self.client.hgetall(VERSIONS))
        if versions.get(b"settings") != self._versions.get(b"settings"):
            raw = await self.link.call(self.client.get(SETTINGS))
            if raw and self._load_settings is not None:
                self._load_settings(orjson.loads(raw))
        if versions.get(b"clock") != self._versions.get(b"clock"):
            fields = await self.link.call(self.client.hgetall(CLOCK))
            if fields and self._load_clock is not None:
                self._load_clock(_unflattened(fields))
        self._versions = dict(versions)

    async def settings_changed(self, data: dict[str, Any]) -> None:
        await self._announce(b"settings", self.client.set(SETTINGS, orjson.dumps(data)))

    async def clock_changed(self, data: dict[str, Any]) -> None:
        """A clock's times only move forward: each field is kept at the latest any process
        wrote (two tenants advanced at once through two processes both hold)."""
        args = [part for pair in _flattened(data) for part in pair]
        await self._announce(b"clock", self._later(keys=[CLOCK], args=args))

    async def _announce(self, name: bytes, write: Any) -> None:
        await self.link.call(write)
        await self.link.call(self.client.hincrby(VERSIONS, name.decode(), 1))
        # (this process's own view is read back at its next refresh, with anyone else's)
        said = orjson.dumps({"changed": name.decode(), "o": self.origin})
        await self.link.call(self.client.publish(CHANNEL, said))

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
        with contextlib.suppress(Unreachable):
            heard = await self.link.call(self.client.publish(
                CHANNEL, orjson.dumps({"notices": batch[-1000:], "o": self.origin})))  # fmt: skip
            if heard <= 1:  # only this process's own subscriber: no viewer anywhere else
                self._quiet_until = time.monotonic() + QUIET

    async def listen(self, stop: asyncio.Event) -> None:
        """Take in others' changes and notices as they are announced (reconnecting, and
        catching up on what went by meanwhile, after Redis comes back)."""
        while not stop.is_set():
            if self.link.joined.cluster:  # (a cluster client knows its nodes once initialised)
                with contextlib.suppress(Unreachable):
                    await self.link.call(self.client.initialize())
            pubsub = self.client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                await self.catch_up()
                while not stop.is_set():
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=1.0)  # fmt: skip
                    if message is not None:
                        await self._heard(orjson.loads(message["data"]))
            except (Unreachable, OSError, Exception) as exc:  # Redis lost: look again soon
                if stop.is_set():
                    return
                if isinstance(exc, (Unreachable, OSError, RedisError)):
                    log.debug("notices: %r", exc)  # (the link says Redis is lost, once)
                else:
                    log.error("notices from other processes are not heard", exc_info=exc)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), 1.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

    async def _heard(self, said: dict[str, Any]) -> None:
        if said.get("o") == self.origin:
            return
        if "changed" in said:
            await self.catch_up()
        elif self._show is not None:
            for notice in said.get("notices", ()):
                self._show(notice)

    # -- counted faults, units' numbers -----------------------------------------------------

    async def take_fault(self, fault_id: int, count: int) -> bool:
        return bool(await self.link.call(self._take(keys=[FAULT_COUNTS],
                                                    args=[str(fault_id), str(count)])))  # fmt: skip

    async def unit_number(self, tenant: str, seed: int) -> int | None:
        return int(await self.link.run("UNIT_NUMBER", TenantKeys(tenant).base, str(seed)))
