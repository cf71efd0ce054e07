"""Keeps the store out of the garbage collector's way in a long-running server.

The emulator holds hundreds of thousands of small objects that live as long as the process; each
full (generation 2) collection would walk all of them again, so a send would cost more the more
was sent. After each full collection, the survivors are frozen (gc.freeze): later collections
skip them. Stored records form no reference cycles, so reference counting still frees them when
a reset or the retention limit lets go of them. Only servers call this, never create_app: it
changes the whole process.
"""

from __future__ import annotations

import gc
from typing import Any

_installed = False


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def freeze_survivors_of_full_collections() -> None:
    global _installed
    if not _installed:
        gc.callbacks.append(_after_collection)
        _installed = True
