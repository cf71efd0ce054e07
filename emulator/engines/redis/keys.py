"""Where the Redis engine keeps what, written once: every script gets these names as Lua tables
(scripts.py puts them in every script's prelude), and Python builds only the few names it hands
to a script (an index to read).

The state is cut into PARTITIONS partitions, each with a hash tag of its own; a tenant belongs
to one (by a digest of its name) and every key of the tenant carries its partition's tag. So a
script touches one tenant's keys and its partition's (an index across the partition's tenants,
the hints of which tenants have work, the counts a global bound reads) in one round trip, on one
Redis or on the one shard of a Redis Cluster that holds the partition; no key every tenant needs
sits on one shard: a shard's loss stays with the tenants of its partitions. The tags are chosen
so that the partitions' slots spread evenly over the hash-slot space (a cluster made by
`redis-cli --cluster create` gives each master an equal share of them: 4 each of 3 masters).

What every process must agree on (the state's generation and start, the config) and what they
share (settings, the clock, who hears changes) is replicated in every partition: any partition a
process reaches tells it.

    rcs:{<tag>}:                      a partition's root: P below it (outlives every reset)
    rcs:{<tag>}:<pe>:                 its base, at its epoch <pe> (a full reset moves it on): Q
    rcs:{<tag>}:<pe>:t<digest>:       a tenant's root: R below it (its epoch <te>)
    rcs:{<tag>}:<pe>:t<digest>:<te>:  the tenant's base: K below it

Members that name a tenant's record in a partition's index carry its tag and epoch
("t<digest>|<te>|..."): a tenant's reset leaves them behind at once; reads pass over them, and
a sweep removes them.
"""

from __future__ import annotations

import hashlib
from binascii import crc_hqx

PREFIX = "rcs:"
SEP = "\x1f"  # between the parts of a compound name (no client text holds it in a name)
PARTITIONS = 12  # (a multiple of 2, 3, 4 and 6: equal shares for clusters of those masters)
SLOTS = 16384  # Redis Cluster's hash slots

# A tenant's keys below its base: name -> (suffix, what it holds). Sorted sets are by the
# message's sequence in its tenant unless said; their members are message ids.
TENANT = {
    "message": ("m:", "+ id: a message: its record, status, events, indexed fields (a hash)"),
    "all": ("all", "every message"),
    "provider": ("pv:", "+ provider: a provider's messages"),
    "agent": ("a:", "+ provider SEP agent: an agent's"),
    "phone": ("p:", "+ phone: a phone's"),
    "conversation": ("c:", "+ provider SEP agent SEP phone: a conversation's"),
    "conversations": (
        "cs",
        "its conversations, by their newest message's creation time "
        "(members '<its wall time>|<conversation>')",
    ),
    "newest": ("cn", "each conversation's newest message's wall time (a hash)"),
    "sent": ("v:", "+ provider: what it sent, by creation time (members 'seq|id')"),
    "status": ("st:", "+ status: messages in a status"),
    "batch": ("b:", "+ batch: a request's messages (a list)"),
    "external": ("ext:", "+ provider SEP the client's own id: its messages (a list)"),
    "timeline": ("tl:", "+ provider SEP agent: its events, by time (members 'eseq|id|n')"),
    "phone_timeline": ("tp:", "+ provider SEP agent SEP phone: a conversation's events"),
    "exchange": ("x:", "+ key: one request's HTTP exchange (bytes)"),
    "exchange_refs": ("xr", "how many messages name each exchange beyond the first (a hash)"),
    "files": ("f", "uploaded files' records (a hash, by id)"),
    "file_order": ("fo", "uploaded files, in upload order"),
    "file_bytes": ("fb:", "+ file id: an upload's bytes"),
    "due": ("due", "due events, by emulator time (members 'dueseq|event')"),
    "run": ("run", "the lease of the process running the tenant's due events"),
    "delivery": ("d:", "+ id: a webhook delivery with its attempts (a hash)"),
    "deliveries": ("dlog", "its deliveries, by id"),
    "by_message": ("dm:", "+ message id: the message's deliveries (a list)"),
    "ready": ("ready", "deliveries due to be attempted, by due time"),
    "lanes": ("lanes", "which delivery holds each recipient's lane (a hash)"),
    "lane": ("lane:", "+ lane: the deliveries waiting in it (a list)"),
    "delivery_counts": ("dcount", "deliveries per state (a hash)"),
    "seq": ("seq", "the counter of messages"),
    "event_seq": ("eseq", "the counter of events"),
    "due_seq": ("dueseq", "the counter of due events"),
    "stats": ("sx:", "+ level: statuses and latencies of its messages (stats.py; a hash)"),
    "stat_levels": ("sl", "the levels it has figures at (a set)"),
    "unit_numbers": ("units:", "+ seed: the counter of units of work under a seed"),
    "surprises": ("surprises", "the newest surprises (a capped list)"),
}
# A tenant's keys below its root (they outlive its resets).
ROOT = {
    "epoch": ("epoch", "the tenant's epoch: its reset moves it on"),
}
# A partition's keys below its base (its epoch: a full reset moves it on, and they go with it).
# Members naming a tenant's record read "<tag>|<te>|<id>" (a message's, "<w>|<tag>|<te>|<id>").
PARTITION = {
    "tenants": ("tenants", "its tenants: tag -> name (a hash)"),
    "due": ("due", "tenants with due events, by their earliest (members: tags)"),
    "ready": ("ready", "tenants with attempts to make, by the earliest"),
    "flight": ("flight", "attempts under way, by the end of their lease"),
    "messages": (
        "msgs",
        "every tenant's messages in the order stored (members lead with their wall time)",
    ),
    "where": ("where", "message id -> '<tag>|<te>' (a hash)"),
    "conversations": (
        "convs",
        "every tenant's conversations, by their newest message "
        "(members '<its wall time>|<tag>|<te>|<conversation>')",
    ),
    "conversation": ("pc:", "+ conversation: the tenants that have it, by its newest message"),
    "deliveries": ("dlog", "every tenant's deliveries (members: ids), by creation (wall us)"),
    "delivery_where": ("dwhere", "delivery id -> '<tag>|<te>' (a hash)"),
    "files": ("files", "every tenant's uploads, in upload order"),
    "file_where": ("fwhere", "file id -> '<tag>|<te>' (a hash)"),
    "counts": ("counts", "messages, evicted, scheduled, deliveries per state... (a hash)"),
    "stats": ("sx:", "+ level: every tenant's statuses and latencies (a hash)"),
    "surprises": ("surprises", "the newest surprises of its tenants and of none (a list)"),
    "faults": ("faults", "what each counted fault has left (a hash)"),
    "stale": ("stale", "tenants reset whose members are still to be swept (a set)"),
}
# A partition's keys below its root (they outlive every reset).
PARTITION_ROOT = {
    "epoch": ("epoch", "the partition's epoch: a full reset moves it on"),
    "meta": ("meta", "generation, start, the config every process runs with (a hash)"),
    "settings": ("settings", "agents, phones, providers' own settings, faults (JSON)"),
    "clock": ("clock", "a manual clock: the shared time, each tenant's lead (a hash)"),
    "versions": ("versions", "a change number per shared thing (a hash)"),
    "heard": ("heard", "processes hearing changes: each one's last beat, the change it took"),
    "delivery_seq": ("dseq", "the counter of its deliveries (ids: n x PARTITIONS + partition)"),
    "done": ("done:", "+ token: a commit call's answer, kept a minute (a retry is answered)"),
}

CHANNEL = PREFIX + "notices"  # pub/sub (every node of a cluster hears every PUBLISH)


def lua_table(name: str, keys: dict[str, tuple[str, str]]) -> str:
    """The names as a Lua table a script reads (`K.all`)."""
    entries = ", ".join(f"{key}='{suffix}'" for key, (suffix, _) in keys.items())
    return f"local {name} = {{{entries}}}\n"


def slot(tag: str) -> int:
    """The hash slot of a tag (Redis Cluster's CRC16)."""
    return crc_hqx(tag.encode(), 0) % SLOTS


def _tags() -> list[str]:
    """Each partition's tag: the first `p<i>.<n>` whose slot is the nearest to the middle of
    the partition's equal share of the slots (found once: CRC16 spreads tags evenly)."""
    tags = []
    for i in range(PARTITIONS):
        low, high = i * SLOTS // PARTITIONS, (i + 1) * SLOTS // PARTITIONS
        middle, margin = (low + high) // 2, (high - low) // 4
        n = 0
        while abs(slot(f"p{i}.{n}") - middle) > margin:
            n += 1
        tags.append(f"p{i}.{n}")
    return tags


TAGS = _tags()
ROOTS = [f"{PREFIX}{{{tag}}}:" for tag in TAGS]  # each partition's root


def tenant_tag(tenant: str) -> str:
    """A tenant's name in keys (a digest: an API key may hold any character)."""
    return "t" + hashlib.blake2b(tenant.encode(), digest_size=8).hexdigest()


def partition_of(tenant: str) -> int:
    digest = hashlib.blake2b(tenant.encode(), digest_size=8, person=b"partition").digest()
    return int.from_bytes(digest, "big") % PARTITIONS


def _name(key: str, *parts: str) -> str:
    return TENANT[key][0] + SEP.join(parts)


# The indexes Python names to a read script (relative to the tenant's base).


def batch(batch: str) -> str:
    return _name("batch", batch)


def external(provider: str, external_id: str) -> str:
    return _name("external", provider, external_id)


def provider(provider: str) -> str:
    return _name("provider", provider)


def agent(provider: str, agent_id: str) -> str:
    return _name("agent", provider, agent_id)


def phone(phone: str) -> str:
    return _name("phone", phone)


def conversation(provider: str, agent_id: str, phone: str) -> str:
    return _name("conversation", provider, agent_id, phone)


def sent(provider: str) -> str:
    return _name("sent", provider)


def status(status: str) -> str:
    return _name("status", status)


def timeline(provider: str, agent_id: str, phone: str | None = None) -> str:
    if phone is None:
        return _name("timeline", provider, agent_id)
    return _name("phone_timeline", provider, agent_id, phone)
