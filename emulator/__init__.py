"""rcs-emulator: a local emulator and test double of RCS business-messaging providers."""

from .app import create_app
from .config import Config, ConfigError
from .core.clock import ManualClock, RealClock, ScaledClock
from .core.scenarios import ScenarioError
from .mocking import MockedEmulator, mock
from .server import EmulatorServer
from .version import __version__ as __version__

__all__ = [
    "Config",
    "ConfigError",
    "EmulatorServer",
    "ManualClock",
    "MockedEmulator",
    "RealClock",
    "ScaledClock",
    "ScenarioError",
    "create_app",
    "mock",
]
