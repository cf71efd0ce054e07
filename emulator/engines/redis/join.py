"""Joining a shared state: what every process on one Redis (or Redis Cluster) must agree on, read
once at start-up, synchronously, so that a bad URL, an unreachable or unfit Redis, or a state
written by another version or config stops `rcs-emulator serve` with one clear line instead of a
server that answers 503s. A Redis still loading its data (after a restart) is waited for, up to
LOADING_WAIT seconds, said once.

Each partition (keys.py) keeps its own copy of what is agreed, so that any partition a process
reaches tells it:
- generation: a random id of the partition's copy; a process that finds another later (its node
  restarted without its data, or flushed) says so and takes the new one;
- epoch: Redis's time when the state began (the same in every partition): a scaled clock counts
  from it, a manual one starts at it, in every process;
- config: what of the config decides behaviour, with the emulator's version and the state's
  format; a process started with another is refused.

A partition whose node does not answer at start-up is said (a caution) and joined when it
answers; a process starts while any partition answers. Joining reads a few keys: it is as quick
with a million messages held as with none.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ...core.engine import StateRefused
from ...redact import redacted
from ...version import __version__
from . import keys
from .scripts import JOIN

if TYPE_CHECKING:
    from ...config import Config

log = logging.getLogger("rcs_emulator.state")

# How the keys are laid out: a process that reads them otherwise (another release, or one from
# before a change of layout) is refused rather than let them diverge. 4: the state is data in
# Redis (3 and before: a log of requests every process replayed); 6: records in their one data
# form (core/records.py), deliveries with their retry policy; 7: partitions (keys.py), every
# shared key replicated or kept per partition.
STATE_FORMAT = 7
# Settings each process may set its own way: where it listens and what it takes from callers.
PER_PROCESS = {
    "host",
    "port",
    "workers",
    "state",
    "control_token",
    "allowed_hosts",
    "request_timeout",
    "state_file",
    "state_save_interval",
    "teams",
    "tenant_names",
    "state_wait_replicas",
}
LOADING_WAIT = 60.0  # seconds `serve` waits for a Redis loading its data
TIMEOUTS = {"socket_timeout": 5, "socket_connect_timeout": 5}


def _options() -> dict[str, Any]:
    """How join's clients call: no retries of redis-py's own (they would hide a Redis still
    loading its data for a while, and say nothing meanwhile: _waiting does)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return TIMEOUTS | {"retry": Retry(NoBackoff(), 0)}


class JoinError(StateRefused):
    """The shared state cannot be joined (said in one line)."""


@dataclass(frozen=True)
class Joined:
    url: str
    generations: dict[int, str]  # partition: its copy's generation (those that answered)
    epoch: float
    cluster: bool  # a Redis Cluster (partitions spread over its shards)
    owners: list[str]  # each partition's node ("host:port"; "" the URL's one Redis)
    cautions: tuple[str, ...] = ()  # what `serve` says once at start


def fingerprint(config: Config) -> bytes:
    shared = config.model_dump(mode="json", exclude=PER_PROCESS)
    shared |= {"emulator_version": __version__, "state_format": STATE_FORMAT}
    return orjson.dumps(shared, option=orjson.OPT_SORT_KEYS)


def owners_of_slots(slots: list[Any], default_host: str = "") -> list[str] | None:
    """Each partition's master ("host:port") from CLUSTER SLOTS; None when one is not served."""
    owners: list[str | None] = [None] * keys.PARTITIONS
    for entry in slots:
        start, end, master = int(entry[0]), int(entry[1]), entry[2]
        host = master[0].decode() if isinstance(master[0], bytes) else str(master[0])
        address = f"{host or default_host}:{int(master[1])}"
        for partition, tag in enumerate(keys.TAGS):
            if start <= keys.slot(tag) <= end:
                owners[partition] = address
    return None if None in owners else [o for o in owners if o is not None]


def _waiting(call: Any, url: str, said: list[bool]) -> Any:
    """A call made again while Redis loads its data (up to LOADING_WAIT seconds, said once)."""
    import redis

    deadline = time.monotonic() + LOADING_WAIT
    while True:
        try:
            return call()
        except redis.BusyLoadingError:
            if time.monotonic() > deadline:
                raise JoinError(
                    f"state {redacted(url)}: Redis was still loading its data after "
                    f"{LOADING_WAIT:g} s"
                ) from None
            if not said:
                said.append(True)
                log.warning(
                    "state %s: Redis is loading its data into memory; waiting for it (up to %g s)",
                    redacted(url),
                    LOADING_WAIT,
                )
            time.sleep(0.1)


def join(config: Config) -> Joined:
    import redis  # here: `serve` with the memory state never loads redis-py (~0.1 s)

    url = config.state
    said: list[bool] = []
    try:
        probe = redis.Redis.from_url(url, **_options())
        try:
            info: dict[str, Any] = {}
            try:
                info = _waiting(lambda: probe.info("default"), url, said)
            except redis.ResponseError:  # INFO not allowed to this user: the scripts will say
                pass
            cluster = info.get("redis_mode") == "cluster"
            cautions = check_server(url, info)
            _refuse_an_earlier_layout(probe, url, said)
            owners: list[str] | None = [""] * keys.PARTITIONS
            if cluster:
                host = probe.connection_pool.connection_kwargs.get("host", "")
                owners = owners_of_slots(probe.cluster("slots"), host)
                if owners is None:
                    raise JoinError(
                        f"state {redacted(url)}: the Redis Cluster does not serve "
                        "every hash slot (CLUSTER SLOTS)"
                    )
                cautions += cluster_cautions(probe, url)
        finally:
            probe.close()
    except redis.RedisError as exc:
        raise JoinError(
            f"state {redacted(url)}: Redis cannot be reached ({redacted(str(exc))})"
        ) from None
    assert owners is not None
    return _join_partitions(config, url, cluster, owners, tuple(cautions), said)


# Where states of format 6 and before kept what every process shared: one key, now gone.
EARLIER_META = keys.PREFIX + "meta"


def _refuse_an_earlier_layout(probe: Any, url: str, said: list[bool]) -> None:
    """A state an earlier release wrote (before the partitions, format 7) sits in keys this one
    never reads: starting beside it would look like an empty state while the old one holds
    Redis's memory. Refused, saying how to start."""
    import redis

    try:
        held = _waiting(lambda: probe.exists(EARLIER_META), url, said)  # (INFO answers loading)
    except redis.exceptions.MovedError as moved:  # a cluster node that does not own its slot
        from redis.connection import parse_url

        owner = redis.Redis(
            **parse_url(url) | _options() | {"host": moved.host, "port": moved.port}
        )
        try:
            held = _waiting(lambda: owner.exists(EARLIER_META), url, said)
        finally:
            owner.close()
    except redis.ResponseError:  # (not allowed to this user: the scripts will say what is)
        return
    if held:
        raise JoinError(
            f"state {redacted(url)}: this Redis holds a state an earlier rcs-emulator wrote "
            f"({EARLIER_META}, state format 6 or before), which this one ({__version__}, format "
            f"{STATE_FORMAT}) keeps in other keys and would not read: empty the database "
            "(redis-cli FLUSHDB, on every master of a cluster) or name another one"
        )


def _join_partitions(
    config: Config,
    url: str,
    cluster: bool,
    owners: list[str],
    cautions: tuple[str, ...],
    said: list[bool],
) -> Joined:
    import redis
    from redis.connection import parse_url

    clients: dict[str, Any] = {}
    for address in set(owners):
        options: dict[str, Any] = parse_url(url) | _options()
        if address:
            host, _, port = address.rpartition(":")
            options |= {"host": host, "port": int(port)}
        clients[address] = redis.Redis(**options)
    ours = fingerprint(config)
    try:
        # What the partitions hold: the state's start is the one they already agree on.
        held: dict[int, Any] = {}
        unreachable: dict[str, str] = {}
        for partition, address in enumerate(owners):
            if address in unreachable:
                continue
            meta = keys.ROOTS[partition] + keys.PARTITION_ROOT["meta"][0]
            try:
                held[partition] = _waiting(
                    lambda c=clients[address], m=meta: c.hmget(m, "epoch"), url, said
                )[0]
            except redis.RedisError as exc:
                unreachable[address] = redacted(str(exc))
        if not held:
            why = "; ".join(f"{a or 'Redis'}: {w}" for a, w in unreachable.items())
            raise JoinError(f"state {redacted(url)}: Redis cannot be reached ({why})")
        epochs = [float(e) for e in held.values() if e is not None]
        if epochs:
            epoch = repr(min(epochs))
        else:
            seconds, micros = clients[owners[next(iter(held))]].time()
            epoch = f"{seconds}.{micros:06d}"
        generations: dict[int, str] = {}
        for partition in held:
            found = clients[owners[partition]].eval(
                JOIN.source,
                1,
                keys.ROOTS[partition] + "epoch",
                keys.ROOTS[partition],
                "",
                secrets.token_hex(8),
                ours,
                epoch,
            )
            generation, _, settings = found
            if settings != ours:
                refuse(url, settings, config)
            generations[partition] = generation.decode()
    except redis.RedisError as exc:
        raise JoinError(
            f"state {redacted(url)}: Redis cannot be reached ({redacted(str(exc))})"
        ) from None
    finally:
        for client in clients.values():
            client.close()
    for address in unreachable:
        missing = [str(p) for p, a in enumerate(owners) if a == address]
        cautions += (
            f"state {redacted(url)}: {address or 'Redis'} does not answer (partitions "
            f"{','.join(missing)}): their tenants get 503s until it does",
        )
    return Joined(url, generations, float(epoch), cluster, owners, cautions)


def refuse(url: str, settings: bytes, config: Config) -> None:
    theirs = orjson.loads(settings)
    ours = orjson.loads(fingerprint(config))
    differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    if {"emulator_version", "state_format"} & set(differ):
        version = theirs.get("emulator_version", "an earlier build")
        written = f"{version}, state format {theirs.get('state_format', 1)}"
        raise JoinError(
            f"state {redacted(url)}: it was written by another version of rcs-emulator "
            f"({written}; this one is {__version__}, format {STATE_FORMAT}), which would "
            "read it otherwise; run the version that wrote it, or flush that database to "
            "begin afresh"
        )
    raise JoinError(
        f"state {redacted(url)}: the processes sharing it run with another config "
        f"({', '.join(differ)} differ); give every process the same, or flush that "
        "database to begin afresh with this one"
    )


def check_server(url: str, info: dict[str, Any]) -> list[str]:
    """Redis 7.0 or later (the scripts declare what they may do: a full Redis refuses a send
    whole, before any of it is written), one that never evicts keys; what it should be told (no
    append-only file) comes back as cautions."""
    if not info:
        return []
    version = str(info.get("redis_version", "0"))
    found = tuple(int(p) if p.isdigit() else 0 for p in (version.split(".") + ["0"])[:2])
    if found < (7, 0):
        raise JoinError(
            f"state {redacted(url)}: Redis {version} found; the shared state needs "
            "Redis 7.0 or later"
        )
    policy = str(info.get("maxmemory_policy", "noeviction"))
    if int(info.get("maxmemory", 0) or 0) > 0 and policy != "noeviction":
        # An evicting Redis would forget accepted messages, or the state's own keys, when full;
        # with noeviction a full Redis refuses new requests (503s) and keeps what it accepted.
        raise JoinError(
            f"state {redacted(url)}: Redis evicts keys when full (maxmemory-policy "
            f"{policy}); the shared state needs maxmemory-policy noeviction, so "
            "that a full Redis refuses new requests instead of forgetting "
            "accepted ones"
        )
    if str(info.get("aof_enabled", "1")) == "0":
        return [
            f"state {redacted(url)}: Redis keeps no append-only file, so a Redis restart "
            "loses what was accepted since its last snapshot; turn on appendonly "
            "(appendfsync always) to keep it"
        ]
    return []


def cluster_cautions(probe: Any, url: str) -> tuple[str, ...]:
    """A Redis Cluster that stops every shard when one is lost (cluster-require-full-coverage
    yes, Redis's default) makes one shard's outage everyone's: said once at start."""
    import redis

    try:
        found = probe.config_get("cluster-require-full-coverage")
    except redis.ResponseError:  # CONFIG not allowed to this user
        return ()
    if found.get("cluster-require-full-coverage", "no") == "yes":
        return (
            f"state {redacted(url)}: the Redis Cluster stops answering on every shard "
            "while one master is lost without a replica (cluster-require-full-coverage "
            "yes): set it to no on every node, so that only that shard's tenants get "
            "503s",
        )
    return ()
