"""The emulator's version, as `rcs-emulator --version`, `/_emulator/health` and
`emulator.__version__` say it (kept equal to pyproject.toml's by tests/test_layout.py)."""

__version__ = "0.1.0"
