"""pytest plugin (registered through the pytest11 entry point): the emulator as a fixture.

- `rcs_emulator`: one live emulator per session (manual clock), reset before every test.
- `rcs_mock`: httpx calls to the real provider hosts are served by that emulator (respx).
- `rcs_webhook_receiver`: a live local receiver for the emulator's callbacks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from .client import PROVIDER_HOSTS, EmulatorHandle
from .config import Config
from .server import EmulatorServer
from .testing import WebhookReceiver

MARKER = "rcs_emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**config): run this test against an emulator with these config fields "
        "(scenario=..., seed=..., clock=...)",
    )


@pytest.fixture(scope="session")
def rcs_emulator_config() -> Config:
    """Override to configure the session's emulator; RCS_EMULATOR_* variables apply first."""
    return Config.from_sources(env=os.environ).with_overrides(
        host="127.0.0.1", port=0, clock=os.environ.get("RCS_EMULATOR_CLOCK") or "manual"
    )


@pytest.fixture(scope="session")
def _rcs_emulator_session(rcs_emulator_config: Config) -> Iterator[EmulatorServer]:
    with EmulatorServer(rcs_emulator_config) as server:
        yield server


@pytest.fixture
def rcs_emulator(
    request: pytest.FixtureRequest,
    _rcs_emulator_session: EmulatorServer,
    rcs_emulator_config: Config,
) -> Iterator[EmulatorHandle]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and marker.kwargs:
        config = rcs_emulator_config.with_overrides(**marker.kwargs)
        with EmulatorServer(config) as server:
            yield EmulatorHandle(server.base_url)
        return
    handle = EmulatorHandle(_rcs_emulator_session.base_url)
    handle.reset()
    yield handle


@pytest.fixture
def rcs_mock(rcs_emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    import respx

    with respx.mock(assert_all_called=False, assert_all_mocked=False) as router:
        for host in PROVIDER_HOSTS:
            router.route(host=host).mock(side_effect=rcs_emulator.forward)
        router.route().pass_through()
        yield rcs_emulator


@pytest.fixture
def rcs_webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


__all__: list[Any] = []
