"""`rcs-emulator verify --provider NAME --url REAL_BASE_URL --credentials NAME=VALUE...
[--allow-sends --to NUMBER] [--report PATH]`: the provider's fixed set of harmless requests,
sent to its real service and to an emulator in this process, and where the answers differ.

Exit 0 when every answer has the same shape, 1 when one differs, 2 when the check could not run
(a mistake on the command line, a service out of reach). `--list` says what would be sent,
sending nothing. A credential is never printed: `NAME=env:VARIABLE` reads it from the
environment, which keeps it out of the shell's history too."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import re
import sys
from pathlib import Path
from typing import Any

from ..config import ConfigError
from ..http.validators import is_e164
from ..providers import REGISTRY
from ..providers.registry import Provider
from ..providers.upstream import MASK, CredentialError, Credentials, Upstream


def providers() -> dict[str, tuple[Provider, Upstream]]:
    """The providers with a real service to check, by name."""
    found = {}
    for provider in REGISTRY:
        upstream = provider.real_service()
        if upstream is not None:
            found[provider.name] = (provider, upstream)
    return found


def credential_names() -> set[str]:
    return {n for _, u in providers().values() for n in u.credential_names}


def masked_arguments(text: str) -> str:
    """A command-line message with the value of every NAME=VALUE whose name is a credential
    name masked (argparse repeats the arguments it cannot read)."""
    names = "|".join(sorted(map(re.escape, credential_names()), key=len, reverse=True))
    return re.sub(rf"\b({names})=(\S+)", rf"\1={MASK}", text) if names else text


def register(commands: Any) -> None:
    """Add `verify` to the CLI's subcommands."""
    names = sorted(p.name for p in REGISTRY if p.upstream is not None)  # none imported yet
    parser = commands.add_parser("verify", help="compare the emulator with your provider account")
    parser.add_argument("--provider", required=True, choices=names, help=" or ".join(names))
    parser.add_argument("--url", help="the real service's base URL, as your client uses it")
    parser.add_argument(
        "--credentials",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="each as name=value, or name=env:VARIABLE to read it from the environment",
    )
    parser.add_argument(
        "--allow-sends", action="store_true", help="also send one real message of each kind to --to"
    )
    parser.add_argument(
        "--to", metavar="NUMBER", help="your own number, in international form (+48500600700)"
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="PATH",
        help="write the report as JSON to PATH and as text beside it",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="for each answer of the real service (default 15)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="between a send and reading it back (default 3)",
    )
    parser.add_argument("--media-url", metavar="URL", help="the picture card and file sends show")
    parser.add_argument(
        "--list", action="store_true", help="say what would be sent, and send nothing"
    )


def parse_credentials(items: list[str], upstream: Upstream, env: Any = None) -> Credentials:
    env = os.environ if env is None else env
    given: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:  # the word itself may be a credential: never repeated
            raise ConfigError("--credentials takes NAME=VALUE (or NAME=env:VARIABLE) items")
        if name not in upstream.credential_names:
            near = difflib.get_close_matches(name, upstream.credential_names, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise ConfigError(
                f"--credentials: unknown name {name!r}{hint}; this provider takes "
                f"{', '.join(upstream.credential_names)}"
            )
        if value.startswith("env:"):
            variable = value[4:]
            if not env.get(variable):
                raise ConfigError(
                    f"--credentials {name}=env:{variable}: the variable {variable} is not set"
                )
            value = env[variable]
        given[name] = value
    try:
        return upstream.credentials(given)
    except CredentialError as exc:
        raise ConfigError(f"--credentials: {exc}") from None


def main(args: argparse.Namespace) -> int:
    from ..http.outbound import base_url  # imported only to verify
    from .report import Report, now_iso
    from .runner import Options, Unreachable, run

    provider, upstream = providers()[args.provider]
    if args.list:
        return _list(provider, upstream)
    if not args.url:
        raise ConfigError("verify needs --url: the real service's base URL (or --list)")
    if args.allow_sends != bool(args.to):
        raise ConfigError(
            "--allow-sends and --to NUMBER go together: sends go only to a number of your own"
        )
    if args.to and not is_e164(args.to):
        raise ConfigError(f"--to {args.to}: a number in international form, such as +48500600700")
    for name in ("timeout", "settle"):
        if getattr(args, name) < 0 or (name == "timeout" and args.timeout == 0):
            raise ConfigError(f"--{name} {getattr(args, name):g}: must be a positive number")
    credentials = parse_credentials(args.credentials, upstream)
    try:
        url = base_url(args.url, upstream.base_path)
    except ValueError as exc:
        raise ConfigError(f"--url: {exc}") from None
    options = Options(
        allow_sends=args.allow_sends,
        to=args.to,
        timeout=args.timeout,
        settle=args.settle,
        media_url=args.media_url,
    )
    report = Report(
        provider.name,
        provider.title,
        url,
        options,
        [],
        credentials,
        upstream,
        started=now_iso(),
        finished="",
    )
    print(report.heading(), flush=True)

    def progress(outcome: Any) -> None:
        print(report.line(outcome), flush=True)

    try:
        outcomes = asyncio.run(run(provider, upstream, url, credentials, options, progress))
    except Unreachable as exc:
        print(f"rcs-emulator: {report.redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rcs-emulator: verify interrupted; no report written", file=sys.stderr)
        return 130
    report.outcomes = outcomes
    report.finished = now_iso()
    print(f"\n{report.summary()}")
    if args.report is not None:
        try:
            json_path, text_path = report.write(args.report)
        except OSError as exc:
            print(
                f"rcs-emulator: --report {args.report}: cannot be written: {exc.strerror}",
                file=sys.stderr,
            )
            return 2
        print(f"report: {json_path} and {text_path}")
    return 1 if report.differing else 0


def _list(provider: Provider, upstream: Upstream) -> int:
    print(
        f"verify --provider {provider.name} sends these requests, in this order, to the real "
        f"service and to an emulator in this process (paths under {upstream.base_path or '/'}"
        "):"
    )
    for probe in upstream.probes():
        mark = "only with --allow-sends: " if probe.sends or probe.reads else ""
        print(f"  {probe.name:20} {mark}{probe.description}")
    print(
        f"credentials: {', '.join(upstream.credential_names)} (as NAME=VALUE or NAME=env:VARIABLE)"
    )
    return 0
