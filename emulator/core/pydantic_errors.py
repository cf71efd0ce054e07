"""pydantic's error text as people should read it: a validator's own message without the
"Value error, " pydantic puts in front of it (every place that shows one uses this)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def message(error: Mapping[str, Any]) -> str:
    return str(error["msg"]).removeprefix("Value error, ")
