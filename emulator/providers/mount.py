"""What a provider package hands the app factory: its routes, its core adapter and how it renders
HTTP errors (404, 405) for the paths it owns (which the registry says)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ..core.adapter import ProviderAdapter
from ..http.operations import Operation


@dataclass
class ProviderMount:
    name: str
    routes: list[BaseRoute]
    adapter: ProviderAdapter
    http_error: Callable[[Request, int], Response]
    exception_handlers: dict[Any, Callable[..., Any]] = field(default_factory=dict)
    middleware: Callable[[ASGIApp], ASGIApp] | None = None
    reset: Callable[[], None] = lambda: None
    # Its own settings a reset with keep_settings keeps, as JSON-able data, and back
    carried: Callable[[], Any] = lambda: None
    carry: Callable[[Any], None] = lambda data: None
    # The provider's own answer for an injected fault (status, Retry-After seconds or None).
    fault_response: Callable[[Request, int, int | None], Response] = field(
        default=lambda request, status, retry_after: Response(status_code=status)
    )
    control: list[Operation] = field(default_factory=list)  # its own /_emulator additions
    openapi: str | None = None  # file name, beside the package, of its OpenAPI description
    hot_routes: int = 0  # how many of `routes`, from the first, the app tries before all others
    tenant_of: Callable[[Request], str] = lambda request: request.client.host  # type: ignore[union-attr]
    # The most of a request body any of its routes takes (past it, each answers "too large"):
    # what a shared state reads of a body before appending it to its log.
    max_body: int = 8 * 1024 * 1024
