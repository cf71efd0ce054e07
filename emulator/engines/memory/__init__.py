"""The memory engine: every record in this process (engine.py), with what it owns: its indexed
stores, its schedule, its webhook dispatcher, its uploaded files, and its state file."""

from .engine import MemoryEngine

__all__ = ["MemoryEngine"]
