"""The provider registry: what each provider package declares about itself, and the one list of
them that the app, config, client, control API, plugin and inbox read. Nothing outside
`emulator/providers/` names a provider."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..core import pydantic_errors

if TYPE_CHECKING:
    from ..core.clock import Clock
    from .mount import ProviderKit
    from .upstream import Upstream

# Paths the app itself serves (the control API, the inbox's assets, and exactly "/", the inbox).
APP_PREFIXES = ("/_emulator", "/ui/")


@dataclass(frozen=True)
class Provider:
    """One provider's registry entry. Kept light (no starlette): config and the plugin read it."""

    name: str  # as the control API and config sections spell it
    title: str  # as people read it (the inbox, docs)
    # Path prefixes it owns, lower case: unknown paths under them get its own "not found". "/"
    # owns every path that no longer prefix (and no app path) claims.
    prefixes: tuple[str, ...]
    hosts: tuple[str, ...]  # its real API hosts: routed to the emulator, never reached from tests
    section: type[BaseModel]  # its config section (`<name>:` in the YAML file)
    # Its kit for create_app (its section and the clock -> adapter, parts, routes): a function,
    # or "package.module:function" imported on first use (config and the plugin read the
    # registry without loading routes).
    kit: Callable[[Any, Clock], ProviderKit] | str
    # What verify, record and replay know of its real service (providers/upstream.py): an
    # object, or "package.module:NAME" imported on first use; None: it has none to check.
    upstream: Upstream | str | None = None

    def build(self, section: Any, clock: Clock) -> ProviderKit:
        kit = self.kit
        if isinstance(kit, str):
            module, _, name = kit.partition(":")
            kit = getattr(importlib.import_module(module), name)
        assert callable(kit)
        return kit(section, clock)

    def real_service(self) -> Upstream | None:
        """Its upstream knowledge, imported when first asked for."""
        upstream = self.upstream
        if isinstance(upstream, str):
            module, _, name = upstream.partition(":")
            upstream = getattr(importlib.import_module(module), name)
        return upstream


class Registry:
    def __init__(self, *providers: Provider) -> None:
        self._providers: list[Provider] = list(providers)

    def __iter__(self) -> Iterator[Provider]:
        return iter(tuple(self._providers))

    def __len__(self) -> int:
        return len(self._providers)

    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self._providers)

    def get(self, name: str) -> Provider | None:
        return next((p for p in self._providers if p.name == name), None)

    def unknown(self, name: str) -> str:
        """What to say of a provider name none of these has, with the nearest one."""
        hint = pydantic_errors.nearest(name, self.names())
        return f"unknown provider {name!r}{hint}; one of {', '.join(self.names())}"

    def hosts(self) -> tuple[str, ...]:
        return tuple(h for p in self._providers for h in p.hosts)

    def owner(self, path: str) -> str | None:
        """The provider whose prefix is the longest to start `path` (case-insensitive), or None
        for the app's own paths and paths nobody claims."""
        low = path.lower()
        if low == "/" or low.startswith(APP_PREFIXES):
            return None
        best, length = None, -1
        for provider in self._providers:
            for prefix in provider.prefixes:
                if low.startswith(prefix) and len(prefix) > length:
                    best, length = provider.name, len(prefix)
        return best

    def register(self, provider: Provider) -> None:
        if self.get(provider.name) is not None:
            raise ValueError(f"a provider named {provider.name!r} is registered already")
        self._providers.append(provider)

    @contextlib.contextmanager
    def added(self, provider: Provider) -> Iterator[Provider]:
        """Registered for the duration of the block (tests, plugins trying a provider out)."""
        self.register(provider)
        try:
            yield provider
        finally:
            self._providers.remove(provider)
