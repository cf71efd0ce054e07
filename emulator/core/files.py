"""Uploaded bytes live in a private temporary folder, under names the emulator makes; a client's
file name is kept as data and never becomes part of a path."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO


class FileVault:
    def __init__(self) -> None:
        self._dir: Path | None = None

    @property
    def folder(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="rcs-emulator-files-"))
        return self._dir

    def save(self, key: str, source: IO[bytes]) -> str:
        path = self.folder / key.replace("/", "_")
        with path.open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        return str(path)

    def remove(self, paths: Iterable[str]) -> None:
        for path in paths:
            Path(path).unlink(missing_ok=True)

    def clear(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
