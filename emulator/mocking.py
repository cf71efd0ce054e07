"""`emulator.mock()`: the in-process emulator outside pytest (unittest, scripts, notebooks), as
moto is for AWS: a context manager and a decorator that, while active, serve the providers' real
hosts from an emulator of its own and hand back the handle the pytest plugin gives.

    with emulator.mock() as rcs:            # or: async with emulator.mock() as rcs:
        httpx.post("https://<a provider's real host>/...", ...)   # served by the emulator
        rcs.advance(60)
        assert rcs.messages()[0]["status"] == "read"

    @emulator.mock(scenario="chatty")       # a function, a coroutine function, or a TestCase
    def test_send(self, rcs): ...           # the handle comes last, as unittest.mock.patch does

httpx calls to the real hosts are routed (respx); `requests`, aiohttp and urllib calls to them
are stopped before the network (fail closed): point those at `rcs.base_url`. A real-host call
the block swallowed still fails it, at its end."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, overload

from .client import EmulatorHandle
from .config import Config
from .fail_closed import Guard, RealProviderCalled
from .server import EmulatorServer

T = TypeVar("T")
HOW = (
    "call it inside the block with httpx (the mock routes it), or point the client's base URL "
    "at the handle's base_url (requests, aiohttp, urllib and other clients)"
)
TEST_PREFIX = "test"  # the methods a decorated TestCase has wrapped, as unittest.mock's


class MockedEmulator:
    """One `mock()`: each entry starts a fresh emulator (manual clock unless told otherwise),
    routes and guards the real hosts, and stops it all on exit."""

    def __init__(self, config: Config | None = None, **fields: Any) -> None:
        if config is not None and fields:
            raise TypeError("mock() takes a Config or config fields, not both")
        # Config(...) reads only what it is given: the shell's RCS_EMULATOR_* play no part.
        self.config = config or Config(**({"clock": "manual"} | fields))
        self._stack: contextlib.ExitStack | None = None
        self._guard: Guard | None = None
        self.handle: EmulatorHandle | None = None

    # -- as a context manager ---------------------------------------------------------------

    def __enter__(self) -> EmulatorHandle:
        if self._stack is not None:
            raise RuntimeError("this mock() is active already; make another for a second one")
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(EmulatorServer(self.config.with_overrides(port=0)))
            handle = EmulatorHandle(server.base_url, token=self.config.control_token)
            stack.callback(handle.close)
            guard = Guard("the mocked block", "emulator.mock() never lets it reach it", HOW)
            guard.install()  # first: respx's routing then sits above it, as in the plugin
            stack.callback(guard.uninstall)
            stack.enter_context(handle.routing())
        except BaseException:
            stack.close()
            raise
        self._stack, self._guard, self.handle = stack, guard, handle
        return handle

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, guard = self._stack, self._guard
        self._stack = self._guard = self.handle = None
        if stack is not None:
            stack.close()
        if exc_type is None and guard is not None and guard.calls:  # caught by the block
            calls = "; ".join(guard.calls)
            raise RealProviderCalled(
                f"rcs-emulator: the mocked block called the real provider "
                f"({calls}) and went on; {HOW}"
            )

    async def __aenter__(self) -> EmulatorHandle:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- as a decorator ---------------------------------------------------------------------

    @overload
    def __call__(self, target: type[T]) -> type[T]: ...
    @overload
    def __call__(self, target: Callable[..., Any]) -> Callable[..., Any]: ...

    def __call__(self, target: Any) -> Any:
        """A function or coroutine function runs inside a fresh mock, the handle given as its
        last positional argument; a class has each of its `test*` methods wrapped so."""
        if isinstance(target, type):
            for name, member in list(vars(target).items()):
                if name.startswith(TEST_PREFIX) and callable(member):
                    setattr(target, name, self._fresh()(member))
            return target
        if inspect.iscoroutinefunction(target):

            @functools.wraps(target)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh() as handle:
                    return await target(*args, handle, **kwargs)

            return run_async

        @functools.wraps(target)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._fresh() as handle:
                return target(*args, handle, **kwargs)

        return run

    def _fresh(self) -> MockedEmulator:
        """A mock of the same config for one call: a decorated function may call itself, and
        each test method of a class gets its own."""
        return MockedEmulator(self.config)


def mock(config: Config | None = None, **fields: Any) -> MockedEmulator:
    """The emulator in-process for the block or function it wraps: `with mock() as rcs:`,
    `@mock()`, `@mock(scenario="chatty", seed=1)` or `mock(Config(...))`."""
    return MockedEmulator(config, **fields)
