"""`rcs-emulator conversations run FILE... [--url URL] [--junit PATH] [--config FILE]` and
`rcs-emulator conversations validate FILE...`.

Without --url, `run` starts an emulator in this process from the config (the config's host and
port, where the bot sends; a manual clock unless the config names a clock) and forgets its state
before each conversation. Exit 0 only when every conversation passed; 1 when one failed or could
not run; 2 when the run itself could not begin (no files, a bad config, the emulator out of
reach).
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
from .report import Printer, junit_xml, summary
from .runner import ConversationResult, Outcome, run_conversations

CONTROL_TIMEOUT = 30.0  # one control call (an advance runs every due event before answering)


def register(commands: Any) -> None:
    """Add `conversations run|validate` to the CLI's subcommands."""
    parser = commands.add_parser("conversations", help="run or validate conversation tests")
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="run conversation files against your bot")
    run.add_argument("files", nargs="+", type=Path, metavar="FILE",
                     help="*.convo.yaml files or folders of them")  # fmt: skip
    run.add_argument("--url", help="a running emulator (default: start one in this process)")
    run.add_argument("--junit", type=Path, metavar="PATH",
                     help="write a JUnit XML report to this path")  # fmt: skip
    run.add_argument("--config", metavar="FILE", help="YAML config of the emulator started in "
                     "this process (and the control token for --url)")  # fmt: skip
    run.add_argument("--reset", action="store_true",
                     help="with --url: forget the emulator's state (the file's tenant's, when "
                     "it names one) before each conversation")  # fmt: skip
    validate = verbs.add_parser("validate", help="check conversation files")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE",
                          help="*.convo.yaml files or folders of them")  # fmt: skip


def main(args: argparse.Namespace) -> int:
    if args.verb == "validate":
        return validate(args.files)
    return run(args.files, url=args.url, junit=args.junit, config_file=args.config,
               reset=args.reset)  # fmt: skip


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


def validate(given: Sequence[Path]) -> int:
    failed = 0
    for item in load_all(conversation_files(given)):
        if isinstance(item, ConversationError):
            failed += 1
            for problem in item.problems:
                print(f"FAIL {problem}", file=sys.stderr)
        else:
            print(f"ok   {item.source}: conversation {item.name!r}, {len(item.steps)} steps")
    return 1 if failed else 0


def run(
    given: Sequence[Path],
    url: str | None = None,
    junit: Path | None = None,
    config_file: str | None = None,
    reset: bool = False,
) -> int:
    conversations = load_all(conversation_files(given))
    config = Config.from_sources(config_file)
    headers = {"X-Emulator-Token": config.control_token} if config.control_token else {}
    if url is not None:
        try:
            url = emulator_url(url)  # host:port alone is read as http://, as ctl reads it
        except ValueError as exc:
            raise ConfigError(f"--url {url}: {exc}") from None
        return _run_against(url, conversations, headers, junit, reset)
    if "clock" not in config.model_fields_set:
        config = config.with_overrides(clock="manual")  # a wait: moves it at once
    from ..server import EmulatorServer

    server = EmulatorServer(config)
    try:
        server.start()
    except OSError as exc:
        where = f"{config.host}:{config.port}"
        raise ConfigError(f"cannot listen on {where} for the emulator ({exc.strerror}); set "
                          "another port in --config or RCS_EMULATOR_PORT, or give --url of a "
                          "running one") from None  # fmt: skip
    try:
        print(f"rcs-emulator on {server.base_url} (clock {config.clock}) for this run",
              flush=True)  # fmt: skip
        return _run_against(server.base_url, conversations, headers, junit, reset=True)
    finally:
        server.stop()


def _run_against(
    url: str,
    conversations: list[Conversation | ConversationError],
    headers: dict[str, str],
    junit: Path | None,
    reset: bool,
) -> int:
    async def go() -> tuple[list[ConversationResult], str | None]:
        async with httpx.AsyncClient(base_url=url, headers=headers,
                                     timeout=CONTROL_TIMEOUT) as http:  # fmt: skip
            try:
                (await http.get("/_emulator/health")).raise_for_status()
            except httpx.HTTPError as exc:
                return [], f"cannot reach the emulator at {url}: {exc or type(exc).__name__}"
            results = await run_conversations(conversations, http, reset=reset,
                                              progress=Printer())  # fmt: skip
            return results, None

    results, unreachable = asyncio.run(go())
    if unreachable is not None:
        print(f"rcs-emulator: {unreachable}", file=sys.stderr)
        results = [_not_run(item, unreachable) for item in conversations]
    else:
        print(summary(results))
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_bytes(junit_xml(results))
        print(f"JUnit report: {junit}")
    if unreachable is not None:
        return 2
    return 0 if all(r.passed for r in results) else 1


def _not_run(item: Conversation | ConversationError, why: str) -> ConversationResult:
    if isinstance(item, ConversationError):
        return ConversationResult(item.source, item.source, Outcome.ERROR,
                                  error="\n".join(item.problems))  # fmt: skip
    return ConversationResult(item.source, item.name, Outcome.ERROR, item.provider, item.agent,
                              item.phone, total_steps=len(item.steps), error=why)  # fmt: skip
