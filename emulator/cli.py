"""`rcs-emulator serve | scenarios list|validate | ctl ... | conversations run|validate`.

Every mistake is one line on stderr, `rcs-emulator: <what>`, with exit 2: a setting (named by
its flag, variable or file), a flag or command argparse cannot read (with the nearest known
one), a port already in use. Never argparse's usage block, never a traceback."""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from . import ctl
from .cassette import command as record
from .config import Config, ConfigError
from .conversations import command as conversations
from .core.scenarios import ScenarioError, builtin_dir, load_book, load_scenario
from .listening import listening_socket, shown_host
from .redact import redacted
from .verify import command as verify
from .version import __version__

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class UsageError(Exception):
    """A command line argparse cannot read: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with each mistake as one line naming the nearest known flag, command or word."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(_suggest(message, self))


def _suggest(message: str, parser: argparse.ArgumentParser) -> str:
    unknown = re.match(r"unrecognized arguments: (.*)", message)
    if unknown:
        flags = [t.split("=", 1)[0] for t in unknown.group(1).split() if t.startswith("-")]
        near = difflib.get_close_matches(flags[0], list(_flags(parser)), n=1) if flags else []
        return f"{message} (did you mean {near[0]}?)" if near else message
    choice = re.search(r"invalid choice: '(.*)' \(choose from (.*)\)$", message)
    if choice:
        known = re.findall(r"'([^']*)'", choice.group(2))
        near = difflib.get_close_matches(choice.group(1).lower(), known, n=1)
        return f"{message} (did you mean {near[0]!r}?)" if near else message
    required = re.match(r"the following arguments are required: (COMMAND|VERB)", message)
    if required:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        what = f"{parser.prog.partition(' ')[2]} {required.group(1).lower()}".strip()
        return f"missing {what}: one of {', '.join(commands.choices)}"
    return message


def _flags(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Every option string of `parser` and the commands under it."""
    for action in parser._actions:
        yield from (s for s in action.option_strings if s.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _flags(sub)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rcs-emulator", description="Local emulator of RCS business-messaging providers."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Settings go to Config as given (text): it reads and checks them, and a bad one is named
    # by its flag in the same words as the same setting from a variable or the file.
    serve = commands.add_parser("serve", help="run the emulator")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--config", help="YAML config file")
    serve.add_argument("--scenario", help="scenario name or YAML file (default: default)")
    serve.add_argument("--webhook-url", help="callback URL for agents/bots with none of their own")
    serve.add_argument("--clock", help="real (default), scaled or manual")
    serve.add_argument("--speed", help="emulator seconds per real second (a scaled clock)")
    serve.add_argument("--seed", help="seed for ids, delays and fake text")
    serve.add_argument(
        "--state", help="memory (default) or a Redis shared by every process: redis://host:port/db"
    )
    serve.add_argument("--workers", help="processes serving the port (needs a shared --state)")
    serve.add_argument(
        "--replay",
        action="append",
        metavar="CASSETTE",
        help="answer the requests a cassette holds as recorded (repeatable)",
    )
    serve.add_argument(
        "--replay-strict", action="store_true", help="refuse provider requests no cassette holds"
    )
    serve.add_argument("--log-level", default="info", choices=LOG_LEVELS, help="uvicorn's")
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (off: the control API keeps every exchange)",
    )

    scenarios = commands.add_parser("scenarios", help="list or validate scenario files")
    verbs = scenarios.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser("list", help="the scenarios available")
    listing.add_argument("--config", help="YAML config file (for its scenario_dirs)")
    validate = verbs.add_parser("validate", help="check scenario files")
    validate.add_argument("files", nargs="+", type=Path)

    ctl.add_parser(commands)
    conversations.register(commands)
    verify.register(commands)
    record.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Our own lines look like uvicorn's, and come before uvicorn configures its loggers.
    logging.basicConfig(format="%(levelname)s:  %(message)s", level=logging.WARNING)
    logging.getLogger("rcs_emulator").setLevel(logging.INFO)
    try:
        args = _parser().parse_args(argv)
        if args.command == "serve":
            return _serve(args)
        if args.command == "ctl":
            return ctl.run(args)
        if args.command == "conversations":
            return conversations.main(args)
        if args.command == "verify":
            return verify.main(args)
        if args.command == "record":
            return record.main(args)
        if args.verb == "list":
            return _list(args)
        return _validate(args.files)
    except (ConfigError, ScenarioError, UsageError, ctl.CtlError) as exc:
        said = verify.masked_arguments(str(exc)) if isinstance(exc, UsageError) else str(exc)
        print(f"rcs-emulator: {said}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, ctl.CtlError) else 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .gc_tuning import freeze_survivors_of_full_collections
    from .server import uvicorn_options

    config = Config.from_sources(
        args.config,
        host=args.host,
        port=args.port,
        scenario=args.scenario,
        webhook_url=args.webhook_url,
        clock=args.clock,
        speed=args.speed,
        seed=args.seed,
        state=args.state,
        workers=args.workers,
        replay=os.pathsep.join(args.replay) if args.replay else None,
        replay_strict=True if args.replay_strict else None,
    )
    # The config's own mistakes first (a scenario named wrong is said before a port in use),
    # then the port, then the app: building it may touch a state file another process (the
    # one holding the port, say) is using.
    load_book([Path(d) for d in config.scenario_dirs], config.scenario)
    sock = listening_socket(config.host, config.port)  # a port in use is one line, not a trace
    try:
        app = create_app(config)  # in the parent too: a bad config or Redis stops here, once
    except BaseException:
        sock.close()
        raise
    port = sock.getsockname()[1]
    print(
        f"rcs-emulator on http://{shown_host(config.host)}:{port} "
        f"(clock {config.clock}, scenario {app.state.emulator.scenarios.active.name}, "
        f"state {redacted(config.state)}"
        + (f", {config.workers} workers)" if config.workers > 1 else ")"),
        flush=True,
    )
    if config.replay:
        strict = "; anything else refused" if config.replay_strict else ""
        print(f"replaying {', '.join(config.replay)}{strict}", flush=True)
    cautions = list(app.state.emulator.engine.describe().get("cautions", ()))
    for caution in [*cautions, *_no_upload_folder(config)]:
        print(f"WARNING:  {caution}", file=sys.stderr, flush=True)
    if config.workers > 1:
        sock.close()  # uvicorn's supervisor binds the port its workers share
        return _serve_workers(config, args)
    freeze_survivors_of_full_collections()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=port,
            log_level=args.log_level,
            access_log=args.access_log,
            **uvicorn_options(config),
        )
    )
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0 if server.started else 3  # 3: uvicorn's own code for a failed start


def _no_upload_folder(config: Config) -> list[str]:
    """A caution when uploads would have nowhere to go: the memory engine keeps their bytes in
    a temporary folder (or the state file's), and a read-only file system has none."""
    if config.state != "memory" or config.state_file:
        return []
    try:
        tempfile.gettempdir()
    except FileNotFoundError:
        why = "no writable temporary folder (a read-only file system?): everything works but "
        why += "uploads, refused until one is given (docker run --tmpfs /tmp, or TMPDIR=...)"
        return [why]
    return []


def _serve_workers(config: Config, args: argparse.Namespace) -> int:
    """uvicorn's workers, each building its app from the same config (handed over as JSON)."""
    import uvicorn

    from .server import uvicorn_options
    from .workers import CONFIG_VARIABLE

    os.environ[CONFIG_VARIABLE] = config.model_dump_json()
    options = uvicorn_options(config) | {"http": "emulator.workers:WorkerProtocol"}
    uvicorn.run(
        "emulator.workers:worker_app",
        factory=True,
        workers=config.workers,
        host=config.host,
        port=config.port,
        log_level=args.log_level,
        access_log=args.access_log,
        **options,
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    config = Config.from_sources(args.config)
    book = load_book([Path(d) for d in config.scenario_dirs], config.scenario)
    for scenario in book.by_name.values():
        marker = "*" if scenario is book.active else " "
        print(f"{marker} {scenario.name:24} {scenario.spec.description}  [{scenario.source}]")
    print(f"(built-in folder: {builtin_dir()})")
    return 0


def _validate(files: Sequence[Path]) -> int:
    failed = 0
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            failed += 1
            print(f"FAIL {exc}", file=sys.stderr)
        else:
            print(f"ok   {path}: scenario {scenario.name!r}, {len(scenario.spec.rules)} rules")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
