"""What the processes serving one Redis state tell each other (engine.Sharing): the settings
(agents, phones, providers' own, faults) and the clock, each a value in Redis with a version;
change notices for every process's live viewers; counted faults' hits; units' numbers for
seeded draws.

A change is written, its version bumped, and announced on a channel; the process that made it
answers its caller only once every other live process has taken it in (each says so in
`rcs:heard`, where it also beats every second while it hears the channel). So a request never
has to ask Redis whether something changed: a test that advances through one replica and sends
through another sees the new time, and the send costs no round trip for it. A process that does
not hear the channel (not yet subscribed, its subscription lost, its loop stalled past its
beat) asks before every request instead, as it cannot know; and a process that stopped beating
is waited for no longer (a process killed -9 delays a change by at most LIVE).

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
from typing import Any

import orjson
from redis.exceptions import RedisError

from . import keys
from .keys import CHANNEL, CLOCK, FAULT_COUNTS, HEARD, SEP, SETTINGS, VERSIONS
from .link import Link, Unreachable

log = logging.getLogger("rcs_emulator.state")

NOTICE_BATCH = 0.05  # seconds notices gather before they go out
QUIET = 1.0  # seconds between tries to publish while no process listens
BEAT_EVERY = 1.0  # seconds between a hearing process's beats
LIVE = 5.0  # seconds since its last beat a process is waited for
TRUSTED = LIVE / 2  # seconds since its own last beat a process trusts it heard every change

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


# A change: its thing's version and the count of every change, moved on; answers the count.
# The count begins at Redis's time in microseconds: a state flushed or lost begins above every
# count a process took in before, so an old acknowledgement never passes for a new one.
BUMP = """
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if not redis.call('HGET', KEYS[1], 'changes') then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'changes', t[1] .. string.format('%06d', tonumber(t[2])))
end
return redis.call('HINCRBY', KEYS[1], 'changes', 1)
"""

# A process hears the channel, and has taken in every change up to ARGV[2] (its beat is Redis's
# time: processes on other machines compare it with the same clock).
BEAT = """
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'b:' .. ARGV[1], t[1] * 1000 + math.floor(t[2] / 1000),
  'a:' .. ARGV[1], ARGV[2])
return 1
"""

# The processes other than ARGV[1] that beat within ARGV[3] ms and have not taken in change
# ARGV[2] (those silent for a minute are forgotten).
UNHEARD = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local held = redis.call('HGETALL', KEYS[1])
local beats, taken = {}, {}
for i = 1, #held, 2 do
  local token = string.sub(held[i], 3)
  if string.sub(held[i], 1, 1) == 'b' then beats[token] = tonumber(held[i + 1])
  else taken[token] = tonumber(held[i + 1]) end
end
local out = {}
for token, beat in pairs(beats) do
  if now - beat > 60000 then
    redis.call('HDEL', KEYS[1], 'b:' .. token, 'a:' .. token)
  elseif token ~= ARGV[1] and now - beat <= tonumber(ARGV[3])
      and (taken[token] or 0) < tonumber(ARGV[2]) then
    out[#out + 1] = token
  end
end
return out
"""

TAKE_FAULT = """
local left = redis.call('HGET', KEYS[1], ARGV[1])
if not left then left = tonumber(ARGV[2]) else left = tonumber(left) end
if left <= 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], left - 1)
return 1
"""


class RedisSharing:
    def __init__(self, link: Link) -> None:
        self.link = link
        self.client = link.client
        self._versions: dict[bytes, bytes] = {}
        self._load_settings: Callable[[dict[str, Any]], None] | None = None
        self._load_clock: Callable[[dict[str, Any]], None] | None = None
        self._show: Callable[[dict[str, Any]], None] | None = None
        self._outbox: list[dict[str, Any]] = []
        self._quiet_until = 0.0
        self._flushing: asyncio.Task[None] | None = None
        self._take = self.client.register_script(TAKE_FAULT)
        self._later = self.client.register_script(LATER)
        self._bump = self.client.register_script(BUMP)
        self._beat = self.client.register_script(BEAT)
        self._unheard = self.client.register_script(UNHEARD)
        self.origin = secrets.token_hex(8)  # its own notices come back: it skips them
        self.token = secrets.token_hex(8)  # this process, among those that hear changes
        self.hearing = False  # subscribed, and caught up since
        self._beat_at = -LIVE  # (monotonic) when its newest beat that Redis took was sent
        self._catching_up: asyncio.Lock | None = None
        link.on_new_generation.append(self._versions.clear)  # (another state: load it afresh)

    def bind(
        self,
        settings: Callable[[dict[str, Any]], None],
        clock: Callable[[dict[str, Any]], None],
        notice: Callable[[dict[str, Any]], None],
    ) -> None:
        self._load_settings, self._load_clock, self._show = settings, clock, notice

    # -- settings and the clock -------------------------------------------------------------

    async def refresh(self) -> None:
        if self.hearing and time.monotonic() - self._beat_at < TRUSTED:
            return  # every change is taken in here before its writer answers
        found = await self.link.call(self.client.hgetall(VERSIONS))
        if found != self._versions:
            await self.catch_up()

    async def catch_up(self) -> None:
        """Take in whatever changed since this process last looked (one catch-up at a time,
        each reading the versions itself: two at once could load an older value last)."""
        if self._catching_up is None:
            self._catching_up = asyncio.Lock()
        async with self._catching_up:
            await self._take_in(await self.link.call(self.client.hgetall(VERSIONS)))

    async def _take_in(self, versions: dict[bytes, bytes]) -> None:
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
        change = int(await self.link.call(self._bump(keys=[VERSIONS], args=[name.decode()])))
        said = orjson.dumps({"changed": name.decode(), "o": self.origin})
        await self.link.call(self.client.publish(CHANNEL, said))
        await self.catch_up()  # this process's own view, with what anyone else changed meanwhile
        await self._taken_everywhere(change)

    async def _taken_everywhere(self, change: int) -> None:
        """Wait until every other live process took the change in (or stopped beating)."""
        pause = 0.001
        started = time.monotonic()
        while True:
            waiting = await self.link.call(self._unheard(
                keys=[HEARD], args=[self.token, str(change), str(int(LIVE * 1000))]))  # fmt: skip
            if not waiting:
                return
            if time.monotonic() - started > 2 * LIVE:  # (beating, yet deaf: never seen so)
                log.warning("%d processes did not take in a change of the shared settings or "
                            "clock; going on without them", len(waiting))  # fmt: skip
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    async def _say_heard(self) -> None:
        """Beat: this process hears the channel and took in every change up to its versions
        (read first: a notice lost while the subscription silently reconnected is caught up
        here, not acknowledged unseen)."""
        sent = time.monotonic()
        await self.catch_up()
        taken = self._versions.get(b"changes", b"0").decode()
        await self.link.call(self._beat(keys=[HEARD], args=[self.token, taken]))
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
                self.hearing = True
                await self._say_heard()
                while not stop.is_set():
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=BEAT_EVERY)  # fmt: skip
                    changed = message is not None and await self._heard(
                        orjson.loads(message["data"]))  # fmt: skip
                    if changed or time.monotonic() - self._beat_at >= BEAT_EVERY:
                        await self._say_heard()  # (after a change: it was taken in)
            except (Unreachable, OSError, Exception) as exc:  # Redis lost: look again soon
                if stop.is_set():
                    return
                if isinstance(exc, (Unreachable, OSError, RedisError)):
                    log.debug("notices: %r", exc)  # (the link says Redis is lost, once)
                else:
                    log.error("notices from other processes are not heard", exc_info=exc)
            finally:
                self.hearing = False
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), 1.0)
                if stop.is_set():  # stopping: nobody need wait for this process any more
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self.client.hdel(
                            HEARD, f"b:{self.token}", f"a:{self.token}"), 1.0)  # fmt: skip
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

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

    # -- counted faults, units' numbers -----------------------------------------------------

    async def take_fault(self, fault_id: int, count: int) -> bool:
        return bool(await self.link.call(self._take(keys=[FAULT_COUNTS],
                                                    args=[str(fault_id), str(count)])))  # fmt: skip

    async def unit_number(self, tenant: str, seed: int) -> int | None:
        return int(await self.link.run("UNIT_NUMBER", keys.root(tenant), str(seed)))
