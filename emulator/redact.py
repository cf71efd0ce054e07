"""A URL as the emulator shows it anywhere (its log, its start line, health, readiness, errors):
without its credentials, however they were written: userinfo (`redis://user:pass@host`, a
password holding `@`, `/` or `#` included), query parameters (`?password=...`), or a URL whose
scheme was mistyped (`redis//:pass@host`, `redis:/pass@host`), which no parser reads as one."""

from __future__ import annotations

import re

MASK = "***"
# Query parameters that carry a credential (redis-py reads username and password from the
# query string too).
SECRET_PARAMETERS = re.compile(
    r"(?i)([?&;](?:password|passwd|pass|pwd|username|user|auth|token|secret|"
    r"access_key|secret_key|ssl_password)=)[^&#;]*"
)
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:/*)")


def redacted(url: str) -> str:
    """`url` with every credential it may hold replaced by ***."""
    shown = SECRET_PARAMETERS.sub(lambda m: m.group(1) + MASK, url)
    if "@" in shown:
        # Everything before the last @ (but the scheme) may be userinfo: a password may hold
        # any character, @ included, and the host never does.
        before, _, after = shown.rpartition("@")
        scheme = SCHEME.match(before)
        shown = (scheme.group(1) if scheme else "") + MASK + "@" + after
    return shown
