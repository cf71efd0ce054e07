"""`rcs-emulator conversations run FILE... [--url URL] [--junit PATH] [--config FILE] [--jobs N]
[--reset] [--reset-all [--keep-settings]]` and `rcs-emulator conversations validate FILE...`.

Without --url, `run` starts an emulator in this process from the config (the config's host and
port, where the bot sends; a manual clock unless the config names a clock), and each
conversation begins on its own fresh scope (as --reset). Exit 0 only when every conversation
passed; 1 when one failed or could not run; 2 when the run itself could not begin (no files, a
bad config, the emulator out of reach).

A file's includes are looked up among the files given and the conversation files in its own
folder and below.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from ..client import emulator_url
from ..config import Config, ConfigError
from .format import SUFFIXES, Conversation, ConversationError, load_conversation
from .plan import Case, plan
from .report import Printer, junit_xml, summary
from .runner import (
    BotTenants,
    ConversationResult,
    Options,
    Outcome,
    error_result,
    learn_bot_tenants,
    result_of,
    run_conversations,
)

CONTROL_TIMEOUT = 30.0  # one control call (an advance runs every due event before answering)
MAX_JOBS = 64


def register(commands: Any) -> None:
    """Add `conversations run|validate` to the CLI's subcommands."""
    parser = commands.add_parser("conversations", help="run or validate conversation tests")
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="run conversation files against your bot")
    run.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="*.convo.yaml files or folders of them"
    )
    run.add_argument("--url", help="a running emulator (default: start one in this process)")
    run.add_argument(
        "--junit", type=Path, metavar="PATH", help="write a JUnit XML report to this path"
    )
    run.add_argument(
        "--config",
        metavar="FILE",
        help="YAML config of the emulator started in "
        "this process (and the control token for --url)",
    )
    run.add_argument(
        "--reset",
        action="store_true",
        help="with --url: each conversation begins on a fresh state of its own: "
        "its file's tenant's state is forgotten first, when it names one; one that "
        "names none forgets nothing others may be using and reads only what "
        "happens to its phone from its start",
    )
    run.add_argument(
        "--reset-all",
        action="store_true",
        help="with --url: forget the whole emulator's state once, before the run "
        "(for an emulator of this run alone)",
    )
    run.add_argument(
        "--keep-settings",
        action="store_true",
        help="with --reset-all: keep agent and phone settings made through the control API",
    )
    run.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=1,
        metavar="N",
        help="run N conversations at once (default 1); two of one phone never run at once",
    )
    validate = verbs.add_parser("validate", help="check conversation files")
    validate.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="*.convo.yaml files or folders of them"
    )


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_JOBS}")
    return jobs


def main(args: argparse.Namespace) -> int:
    if args.verb == "validate":
        return validate(args.files)
    if args.keep_settings and not args.reset_all:
        raise ConfigError(
            "--keep-settings goes with --reset-all (a conversation's own reset "
            "never touches settings)"
        )
    return run(
        args.files,
        url=args.url,
        junit=args.junit,
        config_file=args.config,
        reset=args.reset,
        jobs=args.jobs,
        reset_all=args.reset_all,
        keep_settings=args.keep_settings,
    )


def conversation_files(given: Sequence[Path]) -> list[Path]:
    """The files given, and the conversation files under each folder given (sorted)."""
    found: list[Path] = []
    for path in given:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.name.endswith(SUFFIXES))
            if not inside:
                raise ConfigError(f"{path}: holds no conversation files ({', '.join(SUFFIXES)})")
            found += inside
        else:
            found.append(path)
    return found


def load_all(paths: Sequence[Path]) -> list[Conversation | ConversationError]:
    loaded: list[Conversation | ConversationError] = []
    for path in paths:
        try:
            loaded.append(load_conversation(path))
        except ConversationError as exc:
            loaded.append(exc)
    return loaded


def library(paths: Sequence[Path]) -> list[Conversation]:
    """What the files' includes may name: the conversation files in each file's folder and
    below (the files themselves are given to `plan` as they are)."""
    given = {path.resolve() for path in paths}
    found: list[Conversation] = []
    for folder in sorted({path.resolve().parent for path in paths}):
        for path in sorted(folder.rglob("*")):
            if not path.name.endswith(SUFFIXES) or path in given or not path.is_file():
                continue
            given.add(path)
            try:
                found.append(load_conversation(path))
            except ConversationError:
                continue  # said when that file itself is validated or run
    return found


def cases(paths: Sequence[Path]) -> list[Case | ConversationError]:
    """The test cases of the files (and their includes), or each file's problems."""
    return plan(load_all(paths), library(paths))


def validate(given: Sequence[Path]) -> int:
    """One line per problem (with the nearest known name where one is near), and one per good
    file."""
    paths = conversation_files(given)
    loaded = load_all(paths)
    planned = plan(loaded, library(paths))
    failed = 0
    for item in loaded:
        mine = [p for p in planned if p is item or getattr(p, "source", None) == item.source]
        problems = [p for p in mine if isinstance(p, ConversationError)]
        if problems:
            failed += 1
            for error in problems:
                for problem in error.problems:
                    print(f"FAIL {problem}", file=sys.stderr)
            continue
        assert isinstance(item, Conversation)
        if item.partial:
            print(f"ok   {item.source}: partial {item.name!r}, {len(item.steps)} steps")
            continue
        runs = [p for p in mine if isinstance(p, Case)]
        steps = len(runs[0].steps) if runs else len(item.steps)
        variants = f" in {len(runs)} variants" if len(runs) > 1 else ""
        print(f"ok   {item.source}: conversation {item.name!r}, {steps} steps{variants}")
    return 1 if failed else 0


def run(
    given: Sequence[Path],
    url: str | None = None,
    junit: Path | None = None,
    config_file: str | None = None,
    reset: bool = False,
    jobs: int = 1,
    reset_all: bool = False,
    keep_settings: bool = False,
) -> int:
    planned = cases(conversation_files(given))
    config = Config.from_sources(config_file)
    headers = {"X-Emulator-Token": config.control_token} if config.control_token else {}
    if url is not None:
        try:
            url = emulator_url(url)  # host:port alone is read as http://, as ctl reads it
        except ValueError as exc:
            raise ConfigError(f"--url {url}: {exc}") from None
        everything = (keep_settings,) if reset_all else ()
        return _run_against(url, planned, headers, junit, reset, jobs, everything)
    if "clock" not in config.model_fields_set:
        config = config.with_overrides(clock="manual")  # a wait: moves it at once
    from ..server import EmulatorServer

    server = EmulatorServer(config)
    try:
        server.start()
    except OSError as exc:
        where = f"{config.host}:{config.port}"
        raise ConfigError(
            f"cannot listen on {where} for the emulator ({exc.strerror}); set "
            "another port in --config or RCS_EMULATOR_PORT, or give --url of a "
            "running one"
        ) from None
    try:
        print(f"rcs-emulator on {server.base_url} (clock {config.clock}) for this run", flush=True)
        return _run_against(server.base_url, planned, headers, junit, True, jobs, ())
    finally:
        server.stop()


def _run_against(
    url: str,
    planned: list[Case | ConversationError],
    headers: dict[str, str],
    junit: Path | None,
    reset: bool,
    jobs: int,
    everything: tuple[bool, ...],
) -> int:
    """Run the cases against the emulator at `url`; `everything`: (keep_settings,) to forget
    the whole state once first."""
    options = Options(reset=reset, jobs=jobs, settings_reset=everything == (False,))

    async def go() -> tuple[list[ConversationResult], str | None]:
        limits = httpx.Limits(max_connections=max(10, 4 * jobs))
        async with httpx.AsyncClient(
            base_url=url, headers=headers, timeout=CONTROL_TIMEOUT, limits=limits
        ) as http:
            bots = BotTenants()
            try:
                (await http.get("/_emulator/health")).raise_for_status()
                if everything:
                    # What the emulator shows of the bots' tenants, before the reset forgets it
                    # (what cannot be read is read again, and said, by the run itself).
                    await learn_bot_tenants(planned, http, bots)
                    keep = "true" if everything[0] else "false"
                    reset_all = await http.post("/_emulator/reset", params={"keep_settings": keep})
                    reset_all.raise_for_status()
            except httpx.HTTPError as exc:
                return [], f"cannot reach the emulator at {url}: {exc or type(exc).__name__}"
            results = await run_conversations(
                planned, http, options=options, progress=Printer(whole=jobs > 1), bots=bots
            )
            return results, None

    results, unreachable = asyncio.run(go())
    if unreachable is not None:
        print(f"rcs-emulator: {unreachable}", file=sys.stderr)
        results = [_not_run(item, unreachable) for item in planned]
    else:
        print(summary(results))
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_bytes(junit_xml(results))
        print(f"JUnit report: {junit}")
    if unreachable is not None:
        return 2
    return 0 if all(r.passed for r in results) else 1


def _not_run(item: Case | ConversationError, why: str) -> ConversationResult:
    if isinstance(item, ConversationError):
        return error_result(item)
    result = result_of(item)
    result.outcome, result.error = Outcome.ERROR, why
    return result
