"""What each of `rcs-emulator serve --workers N`'s processes runs: uvicorn imports the app factory
and the protocol by name, so both are found here; the config comes from the parent as JSON."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from .app import create_app
from .config import Config
from .gc_tuning import freeze_survivors_of_full_collections
from .http.protocol import BoundedHttpToolsProtocol

CONFIG_VARIABLE = "RCS_EMULATOR_WORKER_CONFIG"


class WorkerProtocol(BoundedHttpToolsProtocol):
    """The bounded protocol with the config's deadline (uvicorn takes a class by name here)."""


def worker_app() -> Starlette:
    config = Config.model_validate_json(os.environ[CONFIG_VARIABLE])
    WorkerProtocol.timeout = config.request_timeout
    app = create_app(config)
    freeze_survivors_of_full_collections()
    return app
