"""One package per provider, each with the same file names (see design.md)."""
