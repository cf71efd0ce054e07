"""Generic's registry entry and its config section (`generic:`). Light on purpose: config and
the pytest plugin read it without loading the provider's routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..registry import Provider

NAME = "generic"
MAX_UPLOAD = 100 * 1024 * 1024  # not documented; decided in docs/decisions.md


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)


class GenericSection(BaseModel):
    """strict: only `keys` may call, each for its agents (a list, or "*" for every agent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    strict: bool = False
    keys: dict[str, list[str] | Literal["*"] | None] = {}
    max_upload_bytes: int = Field(MAX_UPLOAD, ge=1)
    rate_limit: RateLimit | None = None


PROVIDER = Provider(
    name=NAME,
    title="Generic",
    prefixes=("/rcs/",),
    hosts=("api.genericmobile.se",),
    section=GenericSection,
    kit=__package__ + ".routes:kit",
    upstream=__package__ + ".upstream:UPSTREAM",
)
