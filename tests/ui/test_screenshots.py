"""`make screenshots` keeps working: one picture per message kind, the whole page and the views
of inbox v2 (details, a failing receiver's log, dark mode, 320 px)."""

from __future__ import annotations

from pathlib import Path

from .conftest import require_chromium
from .screenshots import main


def test_the_screenshot_script_photographs_every_kind(tmp_path: Path):
    require_chromium()
    main(tmp_path / "screenshots")
    shots = sorted(p.name for p in (tmp_path / "screenshots").iterdir())
    documented = sorted(
        p.name for p in (Path(__file__).parents[2] / "docs" / "screenshots").iterdir()
    )
    assert shots == documented and len(shots) == 15
    for picture in [*(tmp_path / "screenshots").iterdir(), tmp_path / "inbox-preview.png"]:
        assert picture.read_bytes().startswith(b"\x89PNG") and picture.stat().st_size > 2000
