"""Joining a cluster: what every process sharing one Redis must agree on, read (or, by the first
process, written) once at start-up, synchronously, so a bad URL or an unreachable Redis stops
`rcs-emulator serve` with one clear line instead of a server that answers 503s.

- generation: a random id of this state; a process whose generation is gone (Redis restarted
  without its data) refuses to go on rather than mix two histories;
- epoch: Redis's time when the state began: a scaled clock counts from it, a manual one starts
  at it, in every process;
- entropy: the cluster's random seed, so an unseeded run is random yet the same everywhere;
- config: what of the config decides behaviour, and the version and state format of the
  emulator that wrote it; a process started with another is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from redis.exceptions import OutOfMemoryError, RedisError

from .. import __version__
from ..core.clock import Clock, ManualClock, SharedClock

if TYPE_CHECKING:
    from ..config import Config

PREFIX = "rcs:"
# What the keys hold and how the log's commands read: a process that reads them otherwise (another
# release, or one from before a change of layout) is refused rather than let diverge. Raised with
# every change to either: 2, outcomes became keys that expire and the log got a floor; 3, a
# checkpoint carries the engine's sequences as one part.
STATE_FORMAT = 3
# Settings each process may set its own way: where it listens and what it takes from callers.
PER_PROCESS = {"host", "port", "workers", "state", "control_token", "allowed_hosts",
               "request_timeout", "state_file", "state_save_interval", "state_chunk"}  # fmt: skip

_JOIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'generation', ARGV[1], 'entropy', ARGV[2], 'config', ARGV[3],
    'epoch', t[1] .. '.' .. string.format('%06d', tonumber(t[2])))
end
return redis.call('HMGET', KEYS[1], 'generation', 'epoch', 'entropy', 'config')
"""


class ClusterError(Exception):
    """The shared state cannot be joined (said in one line)."""


@dataclass(frozen=True)
class Cluster:
    url: str
    generation: str
    epoch: float
    entropy: int
    cautions: tuple[str, ...] = ()  # what `serve` says once at start (see check_server)

    def clock(self, config: Config) -> Clock:
        if config.clock == "manual":
            return ManualClock(self.epoch)
        return SharedClock(config.clock, config.speed, self.epoch)


def fingerprint(config: Config) -> bytes:
    shared = config.model_dump(mode="json", exclude=PER_PROCESS)
    shared |= {"emulator_version": __version__, "state_format": STATE_FORMAT}
    return orjson.dumps(shared, option=orjson.OPT_SORT_KEYS)


def join(config: Config) -> Cluster:
    import redis  # here: `serve` with the memory state never loads redis-py (~0.1 s)

    url = config.state
    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        try:
            cautions: list[str] = []
            try:
                cautions = check_server(url, client.info("default"))
            except redis.ResponseError:  # INFO not allowed to this user: the scripts will say
                pass
            args: list[Any] = [secrets.token_hex(8), secrets.randbits(62), fingerprint(config)]
            found = client.eval(_JOIN, 1, f"{PREFIX}meta", *args)
        finally:
            client.close()
    except redis.RedisError as exc:
        raise ClusterError(f"state {shown(url)}: Redis cannot be reached ({exc})") from None
    generation, epoch, entropy, settings = found
    if settings != fingerprint(config):
        theirs = orjson.loads(settings)
        ours = orjson.loads(fingerprint(config))
        differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        if {"emulator_version", "state_format"} & set(differ):
            version = theirs.get("emulator_version", "an earlier build")
            written = f"{version}, state format {theirs.get('state_format', 1)}"
            raise ClusterError(
                f"state {shown(url)}: it was written by another version of rcs-emulator "
                f"({written}; this one is {__version__}, format {STATE_FORMAT}), which would "
                "read it otherwise; run the version that wrote it, or flush that database to "
                "begin afresh"
            )
        raise ClusterError(
            f"state {shown(url)}: the processes sharing it run with another config "
            f"({', '.join(differ)} differ); give every process the same, or flush that "
            "database to begin afresh with this one"
        )
    return Cluster(url, generation.decode(), float(epoch), int(entropy), tuple(cautions))


def check_server(url: str, info: dict[str, Any]) -> list[str]:
    """A single Redis 6.2 or later (the scripts use exclusive XRANGE ends, 6.2, and touch keys
    they compute, which a Redis Cluster refuses) that never evicts keys; what it should be told
    (no append-only file) comes back as cautions."""
    version = str(info.get("redis_version", "0"))
    found = tuple(int(p) if p.isdigit() else 0 for p in (version.split(".") + ["0"])[:2])
    if found < (6, 2):
        raise ClusterError(f"state {shown(url)}: Redis {version} found; the shared state needs "
                           "Redis 6.2 or later")  # fmt: skip
    if info.get("redis_mode") == "cluster":
        raise ClusterError(f"state {shown(url)}: a Redis Cluster; the shared state needs a "
                           "single Redis (its scripts touch keys they compute)")  # fmt: skip
    policy = str(info.get("maxmemory_policy", "noeviction"))
    if int(info.get("maxmemory", 0) or 0) > 0 and policy != "noeviction":
        # An evicting Redis would forget accepted commands, or the state's own keys, when full;
        # with noeviction a full Redis refuses new requests (503s) and keeps what it accepted.
        raise ClusterError(f"state {shown(url)}: Redis evicts keys when full (maxmemory-policy "
                           f"{policy}); the shared state needs maxmemory-policy noeviction, so "
                           "that a full Redis refuses new requests instead of forgetting "
                           "accepted ones")  # fmt: skip
    if str(info.get("aof_enabled", "1")) == "0":
        return [f"state {shown(url)}: Redis keeps no append-only file, so a Redis restart loses "
                "what was accepted since its last snapshot (the processes then answer 503 until "
                "restarted); turn on appendonly to keep it"]  # fmt: skip
    return []


def shown(url: str) -> str:
    """A Redis URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def where(url: str) -> str:
    return f"the shared state ({shown(url)})"


def why(url: str, exc: RedisError) -> str:
    """What a failed Redis call means for the caller, in its answer and in health."""
    said = str(exc)
    if said.startswith("LOST "):  # the scripts' own word: this process cannot go on
        return f"{where(url)}: {said.removeprefix('LOST ')}"
    if isinstance(exc, OutOfMemoryError):
        return (f"{where(url)} is full: Redis refuses writes past its maxmemory, so nothing new "
                "is accepted until it has room (what it accepted is kept)")  # fmt: skip
    return f"{where(url)} cannot be reached: {said}"
