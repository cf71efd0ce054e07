"""Joining a shared state: what every process on one Redis (or Redis Cluster) must agree on, read
once at start-up, synchronously, so that a bad URL, an unreachable or unfit Redis, or a state
written by another version or config stops `rcs-emulator serve` with one clear line instead of a
server that answers 503s.

- generation: a random id of this state; a process that finds another later (Redis restarted
  without its data, or flushed) says so and takes the new one: what was accepted before is gone;
- epoch: Redis's time when the state began: a scaled clock counts from it, a manual one starts
  at it, in every process;
- config: what of the config decides behaviour, with the emulator's version and the state's
  format; a process started with another is refused.

Joining reads a few keys: it is as quick with a million messages held as with none.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ...core.engine import StateRefused
from ...version import __version__
from .keys import META

if TYPE_CHECKING:
    from ...config import Config

# How the keys are laid out: a process that reads them otherwise (another release, or one from
# before a change of layout) is refused rather than let them diverge. 4: the state is data in
# Redis (3 and before: a log of requests every process replayed); 6: records in their one data
# form (core/records.py), deliveries with their retry policy.
STATE_FORMAT = 6
# Settings each process may set its own way: where it listens and what it takes from callers.
PER_PROCESS = {"host", "port", "workers", "state", "control_token", "allowed_hosts",
               "request_timeout", "state_file", "state_save_interval"}  # fmt: skip

JOIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'generation', ARGV[1], 'config', ARGV[2],
    'epoch', t[1] .. '.' .. string.format('%06d', tonumber(t[2])))
end
return redis.call('HMGET', KEYS[1], 'generation', 'epoch', 'config')
"""


class JoinError(StateRefused):
    """The shared state cannot be joined (said in one line)."""


@dataclass(frozen=True)
class Joined:
    url: str
    generation: str
    epoch: float
    cluster: bool  # a Redis Cluster (tenants spread over its shards)
    cautions: tuple[str, ...] = ()  # what `serve` says once at start (check_server)


def fingerprint(config: Config) -> bytes:
    shared = config.model_dump(mode="json", exclude=PER_PROCESS)
    shared |= {"emulator_version": __version__, "state_format": STATE_FORMAT}
    return orjson.dumps(shared, option=orjson.OPT_SORT_KEYS)


def join(config: Config) -> Joined:
    import redis  # here: `serve` with the memory state never loads redis-py (~0.1 s)
    from redis.cluster import RedisCluster

    url = config.state
    try:
        probe = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        try:
            info: dict[str, Any] = {}
            try:
                info = probe.info("default")
            except redis.ResponseError:  # INFO not allowed to this user: the scripts will say
                pass
            cluster = info.get("redis_mode") == "cluster"
            cautions = check_server(url, info)
        finally:
            probe.close()
        client: Any = (RedisCluster.from_url(url, socket_timeout=5, socket_connect_timeout=5)
                       if cluster else redis.Redis.from_url(url, socket_timeout=5,
                                                            socket_connect_timeout=5))  # fmt: skip
        try:
            found = client.eval(JOIN, 1, META, secrets.token_hex(8), fingerprint(config))
        finally:
            client.close()
    except redis.RedisError as exc:
        raise JoinError(f"state {shown(url)}: Redis cannot be reached ({exc})") from None
    generation, epoch, settings = found
    if settings != fingerprint(config):
        refuse(url, settings, config)
    return Joined(url, generation.decode(), float(epoch), cluster, tuple(cautions))


def refuse(url: str, settings: bytes, config: Config) -> None:
    theirs = orjson.loads(settings)
    ours = orjson.loads(fingerprint(config))
    differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    if {"emulator_version", "state_format"} & set(differ):
        version = theirs.get("emulator_version", "an earlier build")
        written = f"{version}, state format {theirs.get('state_format', 1)}"
        raise JoinError(
            f"state {shown(url)}: it was written by another version of rcs-emulator "
            f"({written}; this one is {__version__}, format {STATE_FORMAT}), which would "
            "read it otherwise; run the version that wrote it, or flush that database to "
            "begin afresh"
        )
    raise JoinError(
        f"state {shown(url)}: the processes sharing it run with another config "
        f"({', '.join(differ)} differ); give every process the same, or flush that "
        "database to begin afresh with this one"
    )


def check_server(url: str, info: dict[str, Any]) -> list[str]:
    """Redis 6.2 or later (the scripts use ZRANGE BYSCORE), one that never evicts keys; what it
    should be told (no append-only file) comes back as cautions."""
    if not info:
        return []
    version = str(info.get("redis_version", "0"))
    found = tuple(int(p) if p.isdigit() else 0 for p in (version.split(".") + ["0"])[:2])
    if found < (6, 2):
        raise JoinError(f"state {shown(url)}: Redis {version} found; the shared state needs "
                        "Redis 6.2 or later")  # fmt: skip
    policy = str(info.get("maxmemory_policy", "noeviction"))
    if int(info.get("maxmemory", 0) or 0) > 0 and policy != "noeviction":
        # An evicting Redis would forget accepted messages, or the state's own keys, when full;
        # with noeviction a full Redis refuses new requests (503s) and keeps what it accepted.
        raise JoinError(f"state {shown(url)}: Redis evicts keys when full (maxmemory-policy "
                        f"{policy}); the shared state needs maxmemory-policy noeviction, so "
                        "that a full Redis refuses new requests instead of forgetting "
                        "accepted ones")  # fmt: skip
    if str(info.get("aof_enabled", "1")) == "0":
        return [f"state {shown(url)}: Redis keeps no append-only file, so a Redis restart loses "
                "what was accepted since its last snapshot; turn on appendonly (appendfsync "
                "always) to keep it"]  # fmt: skip
    return []


def shown(url: str) -> str:
    """A Redis URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
