"""Free loopback ports for the servers a test starts (never a fixed one: `make run` may hold
8080, another test worker anything else)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port the system just gave out and took back: free now, and not handed out again soon."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
