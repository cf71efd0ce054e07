"""What a provider package hands the app factory, in two steps: a kit (its core adapter and the
parts of its state, with which the Emulator is built whole), then, over the built Emulator, a
mount (its routes, how it renders HTTP errors for the paths it owns, its control additions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ..core.adapter import ProviderAdapter
from ..core.emulator import Emulator
from ..core.parts import Part
from ..http.operations import Operation


@dataclass
class ProviderMount:
    name: str
    routes: list[BaseRoute]
    http_error: Callable[[Request, int], Response]
    exception_handlers: dict[Any, Callable[..., Any]] = field(default_factory=dict)
    middleware: Callable[[ASGIApp], ASGIApp] | None = None
    # The provider's own answer for an injected fault (status, Retry-After seconds or None).
    fault_response: Callable[[Request, int, int | None], Response] = field(
        default=lambda request, status, retry_after: Response(status_code=status)
    )
    control: list[Operation] = field(default_factory=list)  # its own /_emulator additions
    openapi: str | None = None  # file name, beside the package, of its OpenAPI description
    hot_routes: int = 0  # how many of `routes`, from the first, the app tries before all others
    tenant_of: Callable[[Request], str] = lambda request: request.client.host  # type: ignore[union-attr]
    # The most of a request body any of its routes takes (past it, each answers "too large"):
    # what a replay reads of a body to find it in a cassette.
    max_body: int = 8 * 1024 * 1024


@dataclass
class ProviderKit:
    adapter: ProviderAdapter  # what the core asks of it: callbacks, retry rules, layout
    mount: Callable[[Emulator], ProviderMount]  # its routes, over the built Emulator
    parts: list[Part] = field(default_factory=list)  # its own settings and per-run state
    aliases: Mapping[str, str] = field(default_factory=dict)  # other names of its tenants
