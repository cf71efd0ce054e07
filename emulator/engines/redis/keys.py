"""Where the Redis engine keeps what, written once: the scripts get these names as a Lua table
(scripts.py puts `K` in every script's prelude), and Python builds only the few names it hands
to a script (an index to read).

Every key of a tenant carries the tenant's hash tag, so one script touches one tenant's keys
only, on one Redis or on the shard of a Redis Cluster that holds the tenant; the few keys of the
whole state (settings, the clock, the registry of tenants, the hints of which tenants have work
due) are global, each on its own.

A tenant's tag is a digest of its name (an API key or account may hold any character, `{` and `}`
included, which would break a tag). Its root is `rcs:{t<tag>}:`; below it, `epoch` (moved on by
a reset) and `done:<token>` (a commit's answer, kept a minute); everything else it holds is
below `<root><epoch>:`, its base, named by TENANT below.
"""

from __future__ import annotations

import hashlib

PREFIX = "rcs:"
SEP = "\x1f"  # between the parts of a compound name (no client text holds it in a name)

# A tenant's keys below its base: name -> (suffix, what it holds). Sorted sets are by the
# message's sequence in its tenant unless said; their members are message ids.
TENANT = {
    "message": ("m:", "+ id: a message: its record, status, events, indexed fields (a hash)"),
    "all": ("all", "every message"),
    "provider": ("pv:", "+ provider: a provider's messages"),
    "agent": ("a:", "+ provider SEP agent: an agent's"),
    "phone": ("p:", "+ phone: a phone's"),
    "conversation": ("c:", "+ provider SEP agent SEP phone: a conversation's"),
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
    "file_seq": ("fseq", "the counter of uploads"),
    "file_bytes": ("fb:", "+ file id: an upload's bytes"),
    "due": ("due", "due events, by emulator time (members 'dueseq|event')"),
    "run": ("run", "the lease of the process running the tenant's due events"),
    "delivery": ("d:", "+ id: a webhook delivery with its attempts (a hash)"),
    "deliveries": ("dlog", "its deliveries, by id"),
    "ready": ("ready", "deliveries due to be attempted, by due time"),
    "flight": ("flight", "attempts under way, by the end of their lease"),
    "lanes": ("lanes", "which delivery holds each recipient's lane (a hash)"),
    "lane": ("lane:", "+ lane: the deliveries waiting in it (a list)"),
    "delivery_counts": ("dcount", "deliveries per state, and those the log dropped (a hash)"),
    "seq": ("seq", "the counter of messages"),
    "event_seq": ("eseq", "the counter of events"),
    "due_seq": ("dueseq", "the counter of due events"),
    "counts": ("meta", "what retention evicted (a hash)"),
    "unit_numbers": ("units:", "+ seed: the counter of units of work under a seed"),
    "surprises": ("surprises", "the newest surprises (a capped list)"),
}
# A tenant's keys below its root (they outlive its resets).
ROOT = {
    "epoch": ("epoch", "the tenant's epoch: a reset moves it on"),
    "done": ("done:", "+ token: a commit call's answer, kept a minute (a retry is answered)"),
}

# The state's own keys (one each, anywhere in a cluster).
META = PREFIX + "meta"  # generation, epoch, the config everyone runs with
TENANTS = PREFIX + "tenants"  # every tenant's name (a set)
DUE = PREFIX + "due"  # tenants with due events, by their earliest (a hint: each checks its own)
READY = PREFIX + "ready"  # tenants with deliveries to make, by the earliest
CLOCK = PREFIX + "clock"  # a manual clock: "" the shared time, each tenant's lead
SETTINGS = PREFIX + "settings"  # agents, phones, providers' own settings, faults (JSON)
VERSIONS = PREFIX + "versions"  # a counter per shared thing (settings, clock), bumped on change
HEARD = PREFIX + "heard"  # processes hearing changes: each one's last beat, the change it took
FAULT_COUNTS = PREFIX + "faultcounts"  # what each counted fault has left, and its hits
SURPRISES = PREFIX + "surprises"  # the newest surprises of no tenant (a capped list)
IDS = PREFIX + "ids"  # delivery ids, handed out to processes in blocks
CHANNEL = PREFIX + "notices"  # pub/sub: change notices, settings and clock changes


def lua_table(name: str, keys: dict[str, tuple[str, str]]) -> str:
    """The names as a Lua table a script reads (`K.all`)."""
    entries = ", ".join(f"{key}='{suffix}'" for key, (suffix, _) in keys.items())
    return f"local {name} = {{{entries}}}\n"


def root(tenant: str) -> str:
    """A tenant's root: every key of its starts so (its hash tag routes it to its shard)."""
    digest = hashlib.blake2b(tenant.encode(), digest_size=8).hexdigest()
    return f"{PREFIX}{{t{digest}}}:"


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
