"""Where the Redis engine keeps what: every key of a tenant carries the tenant's hash tag, so one
script touches one tenant's keys only, on one Redis or on the shard of a Redis Cluster that holds
the tenant; the few keys of the whole state (settings, the clock, the registry of tenants, the
hints of which tenants have work due) are global, each on its own.

A tenant's tag is a digest of its name (an API key or account may hold any character, `{` and `}`
included, which would break a tag), and its keys read:

    rcs:{t<tag>}:m:<id>        a message: its record, status, events, indexed fields (a hash)
    rcs:{t<tag>}:all           every message                         (sorted sets, by sequence
    rcs:{t<tag>}:pv:<provider> a provider's                          unless said; members are
    rcs:{t<tag>}:a:<agent>     an agent's       (provider, agent)
    rcs:{t<tag>}:p:<phone>     a phone's                             message ids)
    rcs:{t<tag>}:c:<conv>      a conversation's (provider, agent, phone)
    rcs:{t<tag>}:v:<provider>  what a provider sent, by creation time (members "seq|id")
    rcs:{t<tag>}:st:<status>   by status
    rcs:{t<tag>}:b:<batch>     a request's messages (a list)
    rcs:{t<tag>}:ext:<ext>     the client's own id's messages (a list)
    rcs:{t<tag>}:tl:<agent>    an agent's events, by time (members "eseq|id|n")
    rcs:{t<tag>}:tp:<conv>     a conversation's events, by time
    rcs:{t<tag>}:x:<key>       one request's HTTP exchange (bytes), `xr` their reference counts
    rcs:{t<tag>}:f, fb:<id>    uploaded files' records (a hash) and bytes
    rcs:{t<tag>}:due           due events, by emulator time (members "seq|event")
    rcs:{t<tag>}:run           the lease of the process running its due events
    rcs:{t<tag>}:d:<id>        a webhook delivery with its attempts (a hash)
    rcs:{t<tag>}:dlog          its deliveries, by id; `ready` (by due time), `flight` (by lease
                               end), `lanes` (who holds each recipient's lane), `lane:<lane>`
    rcs:{t<tag>}:seq, eseq, dseq   counters
"""

from __future__ import annotations

import hashlib

PREFIX = "rcs:"
SEP = "\x1f"  # between the parts of a compound name (no client text holds it in a name)


def tag(tenant: str) -> str:
    return "t" + hashlib.blake2b(tenant.encode(), digest_size=8).hexdigest()


class TenantKeys:
    """A tenant's key names (the prefix every one of them starts with, and the fixed ones)."""

    __slots__ = ("tenant", "base", "all", "due", "run", "dlog", "ready", "flight")

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.base = f"{PREFIX}{{{tag(tenant)}}}:"
        self.all = self.base + "all"
        self.due = self.base + "due"
        self.run = self.base + "run"
        self.dlog = self.base + "dlog"
        self.ready = self.base + "ready"
        self.flight = self.base + "flight"

    def message(self, message_id: str) -> str:
        return f"{self.base}m:{message_id}"

    def batch(self, batch: str) -> str:
        return f"{self.base}b:{batch}"

    def external(self, provider: str, external_id: str) -> str:
        return f"{self.base}ext:{provider}{SEP}{external_id}"

    def agent(self, provider: str, agent_id: str) -> str:
        return f"{self.base}a:{provider}{SEP}{agent_id}"

    def phone(self, phone: str) -> str:
        return f"{self.base}p:{phone}"

    def conversation(self, provider: str, agent_id: str, phone: str) -> str:
        return f"{self.base}c:{provider}{SEP}{agent_id}{SEP}{phone}"

    def provider(self, provider: str) -> str:
        return f"{self.base}pv:{provider}"

    def sent(self, provider: str) -> str:
        return f"{self.base}v:{provider}"

    def status(self, status: str) -> str:
        return f"{self.base}st:{status}"

    def timeline(self, provider: str, agent_id: str, phone: str | None = None) -> str:
        if phone is None:
            return f"{self.base}tl:{provider}{SEP}{agent_id}"
        return f"{self.base}tp:{provider}{SEP}{agent_id}{SEP}{phone}"

    def files(self) -> str:
        return self.base + "f"

    def file_bytes(self, file_id: str) -> str:
        return f"{self.base}fb:{file_id}"

    def exchange(self, key: str) -> str:
        return f"{self.base}x:{key}"

    def delivery(self, delivery_id: int) -> str:
        return f"{self.base}d:{delivery_id}"


# The state's own keys (one each, anywhere in a cluster).
META = PREFIX + "meta"  # generation, epoch, entropy, the config everyone runs with
TENANTS = PREFIX + "tenants"  # every tenant's name (a set)
DUE = PREFIX + "due"  # tenants with due events, by their earliest (a hint: each checks its own)
READY = PREFIX + "ready"  # tenants with deliveries to make, by the earliest
CLOCK = PREFIX + "clock"  # a manual clock: "" the shared time, each tenant's lead
SETTINGS = PREFIX + "settings"  # agents, phones, providers' own settings, faults (JSON)
VERSIONS = PREFIX + "versions"  # a counter per shared thing (settings, clock), bumped on change
HEARD = PREFIX + "heard"  # processes hearing changes: each one's last beat, the change it took
FAULT_COUNTS = PREFIX + "faultcounts"  # what each counted fault has left, and its hits
SURPRISES = PREFIX + "surprises"  # the newest surprises (a capped list)
IDS = PREFIX + "ids"  # delivery ids, handed out to processes in blocks
CHANNEL = PREFIX + "notices"  # pub/sub: change notices, settings and clock changes
