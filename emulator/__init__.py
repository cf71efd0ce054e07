"""rcs-emulator: a local emulator and test double of RCS business-messaging providers."""

from .app import create_app
from .config import Config, ConfigError
from .core.clock import ManualClock, RealClock, ScaledClock
from .core.scenarios import ScenarioError
from .server import EmulatorServer

__all__ = [
    "Config",
    "ConfigError",
    "EmulatorServer",
    "ManualClock",
    "RealClock",
    "ScaledClock",
    "ScenarioError",
    "create_app",
]
__version__ = "0.1.0"
