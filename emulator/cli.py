"""`rcs-emulator serve | scenarios list | scenarios validate FILE | conversations run|validate`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import Config, ConfigError
from .config_errors import CLOCK_MODES
from .conversations import command as conversations
from .core.scenarios import ScenarioError, builtin_dir, load_book, load_scenario


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rcs-emulator", description="Local emulator of RCS business-messaging providers."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the emulator")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--config", help="YAML config file")
    serve.add_argument("--scenario", help="scenario name or YAML file (default: default)")
    serve.add_argument("--webhook-url", help="callback URL for agents/bots with none of their own")
    serve.add_argument("--clock", choices=CLOCK_MODES, help="real, scaled or manual")
    serve.add_argument("--speed", type=float, help="emulator seconds per real second")
    serve.add_argument("--seed", type=int, help="seed for ids, delays and fake text")
    serve.add_argument(
        "--state", help="memory (default) or a Redis shared by every process: redis://host:port/db"
    )
    serve.add_argument(
        "--workers", type=int, help="processes serving the port (needs a shared --state)"
    )
    serve.add_argument("--log-level", default="info", help="uvicorn log level")
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (off: the control API keeps every exchange)",
    )

    scenarios = commands.add_parser("scenarios", help="list or validate scenario files")
    verbs = scenarios.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="the scenarios available")
    listing.add_argument("--config", help="YAML config file (for its scenario_dirs)")
    validate = verbs.add_parser("validate", help="check scenario files")
    validate.add_argument("files", nargs="+", type=Path)
    conversations.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Our own lines look like uvicorn's, and come before uvicorn configures its loggers.
    logging.basicConfig(format="%(levelname)s:  %(message)s", level=logging.WARNING)
    logging.getLogger("rcs_emulator").setLevel(logging.INFO)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "conversations":
            return conversations.main(args)
        if args.verb == "list":
            return _list(args)
        return _validate(args.files)
    except (ConfigError, ScenarioError) as exc:
        print(f"rcs-emulator: {exc}", file=sys.stderr)
        return 2


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
    )
    from .state.cluster import shown

    app = create_app(config)  # in the parent too: a bad config or Redis stops here, once
    print(
        f"rcs-emulator on http://{config.host}:{config.port} "
        f"(clock {config.clock}, scenario {app.state.emulator.scenarios.active.name}, "
        f"state {shown(config.state)}"
        + (f", {config.workers} workers)" if config.workers > 1 else ")"),
        flush=True,
    )
    shared = app.state.shared
    for caution in shared.cluster.cautions if shared is not None else ():
        print(f"WARNING:  {caution}", file=sys.stderr, flush=True)
    if config.workers > 1:
        return _serve_workers(config, args)
    freeze_survivors_of_full_collections()
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level=args.log_level,
        access_log=args.access_log,
        **uvicorn_options(config),
    )
    return 0


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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rcs-emulator")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


if __name__ == "__main__":
    raise SystemExit(main())
