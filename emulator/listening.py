"""The server's listening socket, bound before uvicorn starts (so a port in use is said in one
line, and port 0 is known before serving): `serve` and `record` share it."""

from __future__ import annotations

import errno
import socket

from .config import ConfigError


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound as uvicorn binds it; a port in use or a host that is not this
    machine's is a ConfigError saying so."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        where = f"{shown_host(host)}:{port}"
        if isinstance(exc, socket.gaierror):
            raise ConfigError(f"cannot listen on {host!r}: {exc.strerror}") from None
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"{where} is in use (another emulator?): choose another port with --port N "
                "or RCS_EMULATOR_PORT=N (0 picks a free one)"
            ) from None
        raise ConfigError(f"cannot listen on {where}: {exc.strerror}") from None
    return sock


def shown_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
