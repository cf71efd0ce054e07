"""`rcs-emulator record --provider NAME --upstream REAL_BASE_URL --cassette PATH [--host]
[--port] [--forward-callbacks URL]`: a proxy on the provider's paths that forwards each request to
the real service and keeps each exchange, and each callback the service sends to
`/_emulator/callbacks`, in the cassette, until Ctrl-C. `rcs-emulator serve --replay PATH` plays
it back."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..config import ConfigError
from ..http.validators import webhook_url_problem
from ..providers import REGISTRY


def register(commands: Any) -> None:
    """Add `record` to the CLI's subcommands."""
    names = sorted(p.name for p in REGISTRY if p.upstream is not None)
    parser = commands.add_parser("record", help="record a session with your provider account")
    parser.add_argument("--provider", required=True, choices=names, help=" or ".join(names))
    parser.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the real service's base URL, as your client uses it",
    )
    parser.add_argument(
        "--cassette",
        required=True,
        type=Path,
        metavar="PATH",
        help="where to keep the session: .yaml, .yml or .json",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the cassette if it exists (else refused)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: a free one)")
    parser.add_argument(
        "--forward-callbacks",
        metavar="URL",
        help="pass each callback on to your own receiver (its answer is the service's)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="for each answer of the real service (default 30)",
    )


def main(args: argparse.Namespace) -> int:
    import uvicorn

    from ..listening import listening_socket
    from .format import CassetteError
    from .recorder import CALLBACKS, Recorder  # imported only to record

    provider = REGISTRY.get(args.provider)
    upstream = provider.real_service() if provider is not None else None
    assert provider is not None and upstream is not None  # argparse's choices
    from ..http.outbound import base_url

    try:
        url = base_url(args.upstream, upstream.base_path)
    except ValueError as exc:
        raise ConfigError(f"--upstream: {exc}") from None
    if args.forward_callbacks and (problem := webhook_url_problem(args.forward_callbacks)):
        raise ConfigError(f"--forward-callbacks {args.forward_callbacks}: {problem}")
    if args.cassette.exists() and not args.overwrite:
        raise ConfigError(
            f"cassette {args.cassette} exists: name another, or replace it with --overwrite"
        )
    if args.timeout <= 0:
        raise ConfigError(f"--timeout {args.timeout:g}: must be a positive number")
    try:
        recorder = Recorder(
            provider, upstream, url, args.cassette, args.forward_callbacks, args.timeout
        )
    except (CassetteError, OSError) as exc:
        raise ConfigError(
            str(exc)
            if isinstance(exc, CassetteError)
            else f"cassette {args.cassette}: cannot be written: {exc.strerror}"
        ) from None
    sock = listening_socket(args.host, args.port)
    here = f"http://{args.host}:{sock.getsockname()[1]}"
    print(
        f"recording {provider.title} on {here}{upstream.base_path} -> {url}\n"
        f"cassette: {args.cassette} (written after every exchange)\n"
        f"callbacks: set the service's webhook URL to {here}{CALLBACKS} (reachable from it)"
        + (f"; each is passed on to {args.forward_callbacks}" if args.forward_callbacks else ""),
        flush=True,
    )
    logging.getLogger("rcs_emulator.record").setLevel(logging.INFO)
    server = uvicorn.Server(uvicorn.Config(recorder.app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    cassette = recorder.cassette
    callbacks = len(cassette.callbacks) + sum(len(i.callbacks) for i in cassette.interactions)
    print(
        f"cassette {args.cassette}: {len(cassette.interactions)} exchanges, {callbacks} "
        f"callbacks; replay it with: rcs-emulator serve --replay {args.cassette}"
    )
    return 0 if server.started else 3
