"""Uploaded bytes, under names the emulator makes; a client's file name is kept as data and never
becomes part of a path.

With a state file the bytes live in its own folder (`<state_file>.files/`) and survive restarts;
each upload is written under a temporary name and renamed when complete, so a killed process
never leaves half a file under a real name. Without one they live in a private temporary folder
that is removed at every exit; one left by a killed process (its pid in the name) is removed by
the next start."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

PREFIX = "rcs-emulator-files-"
_PARTIAL = ".part"


class FileVault:
    def __init__(self, folder: Path | None = None) -> None:
        self._persistent = folder
        self._dir: Path | None = None
        if folder is None:
            sweep_abandoned()

    @property
    def folder(self) -> Path:
        if self._dir is None:
            if self._persistent is not None:
                self._persistent.mkdir(parents=True, exist_ok=True)
                self._dir = self._persistent
            else:
                self._dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
                atexit.register(shutil.rmtree, self._dir, True)
        return self._dir

    def save(self, key: str, source: IO[bytes]) -> str:
        path = self.folder / key.replace("/", "_")
        partial = path.with_name(path.name + _PARTIAL)
        try:
            with partial.open("wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return str(path)

    def remove(self, paths: Iterable[str]) -> None:
        for path in paths:
            Path(path).unlink(missing_ok=True)

    def keep_only(self, names: set[str]) -> int:
        """Remove what no record names (uploads after the last save of a killed process, and
        half-written ones); returns how many went."""
        if self._persistent is None or not self._persistent.is_dir():
            return 0
        removed = 0
        for entry in self._persistent.iterdir():
            if entry.name not in names and entry.is_file():
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def clear(self) -> None:
        """Forget every upload (a reset): a temporary folder goes, a persistent one is emptied."""
        if self._dir is None:
            return
        if self._persistent is None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        else:
            self.keep_only(set())

    def close(self) -> None:
        """At exit: a temporary folder goes; a state file's folder stays with the state."""
        if self._dir is not None and self._persistent is None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def sweep_abandoned() -> None:
    """Remove the temporary upload folders of emulator processes that no longer run."""
    try:
        folder = tempfile.gettempdir()
    except FileNotFoundError:  # no writable one (a read-only file system): none was left there
        return
    for entry in Path(folder).glob(PREFIX + "*"):
        match = re.match(re.escape(PREFIX) + r"(\d+)-", entry.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(entry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
