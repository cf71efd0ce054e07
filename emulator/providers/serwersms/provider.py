"""SerwerSMS's registry entry and its config section (`serwersms:`). Light on purpose: config and
the pytest plugin read it without loading the provider's routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from ..registry import Provider

NAME = "serwersms"


class AccountEntry(BaseModel):
    """A configured account: reached by its token, or by username and password."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    username: str | None = None
    password: str | None = None
    token: str | None = None
    rcs: bool = True  # may send RCS (6300 without it)
    active: bool = True
    api: bool = True
    ips: list[str] | None = None  # None: any address
    bots: list[str] | dict[str, bool] | None = None  # rcs_id -> active; None: any bot

    @model_validator(mode="after")
    def _named(self) -> AccountEntry:
        if not self.username and not self.token:
            raise ValueError("an account needs a username (with a password) or a token")
        return self


class SerwerSmsSection(BaseModel):
    """strict: only `accounts` may call. `networks`: number prefixes that reach a phone."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    strict: bool = False
    accounts: list[AccountEntry] = []
    networks: list[str] = ["+48"]
    groups: dict[str, list[str]] = {}


PROVIDER = Provider(
    name=NAME,
    title="SerwerSMS.pl",
    # Its actions are top-level paths (/messages/send_rcs, /error/1001): every path the app and
    # the other providers leave is one of its actions, known or not.
    prefixes=("/",),
    hosts=("api2.serwersms.pl",),
    section=SerwerSmsSection,
    kit=__package__ + ".routes:kit",
    upstream=__package__ + ".upstream:UPSTREAM",
)
