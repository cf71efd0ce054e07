"""pytester runs inside this process: a fresh pytest session without an interpreter's start-up.

pytester forgets the modules imported while its fixture was in use; a later import then makes a
second copy of a module beside the first one that earlier imports hold (a second
GenericApiError class escapes the handler registered for the first, and the answer is a 500).
So the whole package is imported here, when the tests that use it are collected, before any
pytester fixture: that leaves nothing of it to forget."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import emulator

for _module in pkgutil.walk_packages(emulator.__path__, "emulator."):
    importlib.import_module(_module.name)


def runpytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*args)
