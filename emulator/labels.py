"""How a tenant is shown (the control API, the inbox, reports) on a deployment shared by teams:
by the name configured for it, else by a short fingerprint of its key, never by the key itself
(an API key or an account's token is a credential; control/access.py says when). The
emulator's own tenant of threads no tenant opened, `default`, is shown as it is."""

from __future__ import annotations

import hashlib


def fingerprint(tenant: str) -> str:
    """`t-` and 8 hex digits of a digest of the key: the same for every process and run."""
    return "t-" + hashlib.blake2b(tenant.encode(), digest_size=4).hexdigest()
