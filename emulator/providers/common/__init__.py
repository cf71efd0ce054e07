"""Helpers shared by provider packages: HTTP-level parsing with no provider knowledge."""
