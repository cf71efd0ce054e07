"""A Starlette Router that finds exact paths with one dict lookup before walking its routes.

The send endpoints are hit thousands of times a second; walking the route list tests a regex per
route. Only (method, path) pairs for which the walk itself would pick that same route are
indexed, so the answer is always the one the walk gives."""

from __future__ import annotations

from typing import Any

from starlette.routing import Match, Route, Router
from starlette.types import Receive, Scope, Send


class ExactFirstRouter(Router):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._exact: dict[tuple[str, str], Route] = {}

    def index_exact(self) -> None:
        """Index every parameterless route's own path, where the walk finds that route."""
        self._exact = {}
        for route in self.routes:
            if not isinstance(route, Route) or route.param_convertors or not route.methods:
                continue
            for method in route.methods:
                probe: Scope = {
                    "type": "http",
                    "method": method,
                    "path": route.path,
                    "root_path": "",
                }
                if self._walk(probe) is route:
                    self._exact[(method, route.path)] = route

    def _walk(self, scope: Scope) -> Any:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route
            if match is Match.PARTIAL:
                return None  # another method's route: leave it to the walk's 405 logic
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self._exact.get((scope["method"], scope["path"]))
            if route is not None:
                scope.setdefault("router", self)
                scope["endpoint"] = route.endpoint
                scope["path_params"] = {}
                await route.handle(scope, receive, send)
                return
        await super().app(scope, receive, send)
