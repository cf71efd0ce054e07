"""`rcs-emulator ctl ...`: the control API from a shell, for people who test from a shell script
or another language (as LocalStack's `awslocal` is for AWS).

    rcs-emulator ctl messages [--phone N] [--provider P] [--agent A] [--status S] [--limit N]
    rcs-emulator ctl webhooks [--phone N] [--provider P] [--agent A] [--state S] [--failing]
    rcs-emulator ctl advance 60            (or 5m, 1h: runs every due event and its webhooks)
    rcs-emulator ctl reset [--keep-settings] [--tenant T]
    rcs-emulator ctl inbound PHONE TEXT [--postback] [--provider P --agent A] [--message ID]
    rcs-emulator ctl tail                  (change notices as they happen, until Ctrl-C)

Each talks to `--url` (default $RCS_EMULATOR_URL, else http://127.0.0.1:8080) with the control
token of `--token` or $RCS_EMULATOR_CONTROL_TOKEN, and prints a table, or with `--json` the
control API's own JSON (one notice per line for `tail`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

import httpx

from .client import emulator_url
from .config import unknown_variables
from .conversations.runner import as_seen
from .core.delays import parse_duration

DEFAULT_URL = "http://127.0.0.1:8080"
URL_VARIABLE = "RCS_EMULATOR_URL"
TOKEN_VARIABLE = "RCS_EMULATOR_CONTROL_TOKEN"
SHOWN_TEXT = 40  # characters of a message's text in a table row
SHOWN_MESSAGE = 72  # characters of a message as the phone shows it, in a `tail` line
RECONNECT = 2.0  # seconds between tries while `tail` has lost the emulator


class CtlError(Exception):
    """One line for the user; exit 2 for a request the emulator refused (a mistake), 1 when the
    emulator cannot be reached."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """`ctl` and its verbs, under the CLI's commands."""
    common = argparse.ArgumentParser(add_help=False)
    _connection_flags(common, argparse.SUPPRESS)  # given after the verb too
    ctl = commands.add_parser(
        "ctl",
        help="drive a running emulator's control API from a shell",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _connection_flags(ctl, None)
    verbs = ctl.add_subparsers(dest="verb", required=True, metavar="VERB")

    messages = verbs.add_parser("messages", parents=[common], help="messages sent, newest last")
    _filters(messages, "status", "sent, delivered, read, ...")
    webhooks = verbs.add_parser("webhooks", parents=[common], help="webhook deliveries")
    _filters(webhooks, "state", "pending, in_flight, retrying, delivered or failed")
    webhooks.add_argument("--failing", action="store_true", help="retrying or failed only")

    advance = verbs.add_parser("advance", parents=[common], help="move the clock forward")
    advance.add_argument("duration", help="seconds, or 5m, 1h, 2d")

    reset = verbs.add_parser("reset", parents=[common], help="forget messages, files, webhooks")
    reset.add_argument("--keep-settings", action="store_true", help="keep agent/phone settings")
    reset.add_argument("--tenant", help="forget only this API key's or account's state")

    inbound = verbs.add_parser("inbound", parents=[common], help="act as the phone's user")
    inbound.add_argument("phone", help="the phone, E.164 (+48500600700)")
    inbound.add_argument("text", help="what the user types (or, with --postback, taps)")
    inbound.add_argument("--postback", action="store_true", help="TEXT is a chip's postback")
    inbound.add_argument("--provider", help="default: the newest message to PHONE says")
    inbound.add_argument("--agent", help="default: the newest message to PHONE says")
    inbound.add_argument("--message", help="the message acted on (default: the newest)")

    verbs.add_parser("tail", parents=[common], help="follow changes as they happen (Ctrl-C)")


def _connection_flags(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--url", default=default, help=f"the emulator (default ${URL_VARIABLE}, else {DEFAULT_URL})"
    )
    parser.add_argument(
        "--token", default=default, help=f"its control token (default ${TOKEN_VARIABLE})"
    )
    parser.add_argument(
        "--json", action="store_true", default=default or False, help="print the control API's JSON"
    )


def _filters(parser: argparse.ArgumentParser, state: str, states: str) -> None:
    parser.add_argument("--phone", help="one phone, E.164")
    parser.add_argument("--provider", help="one provider")
    parser.add_argument("--agent", help="one agent (or bot) id")
    parser.add_argument(f"--{state}", help=states)
    parser.add_argument("--tenant", help="one API key or account")
    parser.add_argument("--limit", type=int, default=20, help="the newest N (default 20)")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    for line in unknown_variables(os.environ):  # RCS_EMULATOR_ULR would leave ctl on 8080
        print(f"WARNING:  {line}", file=sys.stderr)
    with Control(args) as control:
        verb: Callable[[Control, argparse.Namespace, TextIO], int] = _VERBS[args.verb]
        return verb(control, args, out)


class Control:
    """The control API of one emulator, its refusals as CtlErrors."""

    def __init__(self, args: argparse.Namespace) -> None:
        # Where the URL came from, to name it in errors: the flag, the variable or the default.
        given, self.source = DEFAULT_URL, "the default URL"
        if args.url:
            given, self.source = args.url, "--url"
        elif os.environ.get(URL_VARIABLE):
            given, self.source = os.environ[URL_VARIABLE], URL_VARIABLE
        try:
            self.url = emulator_url(given)
        except ValueError as exc:
            shown = f"--url {given}" if args.url else f"{URL_VARIABLE}={given}"
            raise CtlError(f"{shown}: {exc}") from None
        token = args.token or os.environ.get(TOKEN_VARIABLE)
        headers = {"X-Emulator-Token": token} if token else {}
        self.json = bool(args.json)
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=60.0)

    def __enter__(self) -> Control:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            response = self.http.request(method, "/_emulator" + path, **kw)
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from None
        if response.status_code >= 400:
            raise CtlError(f"{method} /_emulator{path}: {response.status_code} {_why(response)}")
        return response.json()

    def unreachable(self, exc: Exception) -> CtlError:
        why = str(exc) or type(exc).__name__
        return CtlError(
            f"cannot reach the emulator at {self.url} ({self.source}; {why}): start it with "
            f"rcs-emulator serve, or point --url or ${URL_VARIABLE} at it",
            exit_code=1,
        )

    def newest(self, path: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """The newest `limit` items of a collection (they come oldest first), oldest first."""
        total = self.call("GET", path, params=params | {"limit": 1})["total"]
        offset = max(0, total - limit)
        return list(
            self.call("GET", path, params=params | {"limit": limit, "offset": offset})["items"]
        )


def _why(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code == 401:
        return f"{error} (ctl sends the one of --token or ${TOKEN_VARIABLE})"
    return str(error or body)


def _given(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    return {n: getattr(args, n) for n in names if getattr(args, n, None) not in (None, False)}


# -- verbs ----------------------------------------------------------------------------------


def _messages(control: Control, args: argparse.Namespace, out: TextIO) -> int:
    params = _given(args, "phone", "provider", "agent", "status", "tenant")
    items = control.newest("/messages", params | {"exchange": "false"}, args.limit)
    if control.json:
        _dump(items, out)
        return 0
    rows = [
        (
            m["created"][11:19],
            m["provider"],
            m["agent_id"],
            m["phone"],
            m["kind"],
            m["status"],
            _line(m["text"]),
            m["id"],
        )
        for m in items
    ]
    _table(("TIME", "PROVIDER", "AGENT", "PHONE", "KIND", "STATUS", "TEXT", "ID"), rows, out)
    return 0


def _webhooks(control: Control, args: argparse.Namespace, out: TextIO) -> int:
    params = _given(args, "phone", "provider", "agent", "state", "tenant", "failing")
    items = control.newest("/webhooks", params, args.limit)
    if control.json:
        _dump(items, out)
        return 0
    rows = []
    for d in items:
        last = d["attempts"][-1] if d["attempts"] else None
        answer = "-" if last is None else str(last["status"] or last["error"] or "-")
        rows.append(
            (
                d["created"][11:19],
                d["id"],
                d["provider"],
                d["name"],
                d["phone"],
                d["state"],
                len(d["attempts"]),
                _line(answer, 24),
                d["url"],
            )
        )
    headers = ("TIME", "ID", "PROVIDER", "CALLBACK", "PHONE", "STATE", "TRIES", "ANSWER", "URL")
    _table(headers, rows, out)
    return 0


def _advance(control: Control, args: argparse.Namespace, out: TextIO) -> int:
    try:
        seconds = parse_duration(args.duration)
    except ValueError as exc:
        raise CtlError(f"advance {args.duration}: {exc}") from None  # "-5: cannot be negative"
    clock = control.call("POST", "/clock/advance", json={"seconds": seconds})
    if control.json:
        _dump(clock, out)
    else:
        print(
            f"advanced {seconds:g} s: now {clock['now']}, {clock['events_run']} events ran",
            file=out,
        )
    return 0


def _reset(control: Control, args: argparse.Namespace, out: TextIO) -> int:
    params = {"keep_settings": "true"} if args.keep_settings else {}
    answer = control.call("POST", "/reset", params=params | _given(args, "tenant"))
    if control.json:
        _dump(answer, out)
    else:
        kept = "settings kept" if answer["kept_settings"] else "settings back to the config"
        scope = f"tenant {answer['tenant']}" if answer["tenant"] else "everything"
        print(f"reset {scope} ({kept})", file=out)
    return 0


def _inbound(control: Control, args: argparse.Namespace, out: TextIO) -> int:
    provider, agent = args.provider, args.agent
    if provider is None or agent is None:
        found = control.newest("/messages", {"phone": args.phone, "exchange": "false"}, 1)
        if not found:
            raise CtlError(
                f"no message was sent to {args.phone} yet, so there is nothing to "
                "answer: name it with --provider and --agent"
            )
        newest = found[0]
        provider, agent = provider or newest["provider"], agent or newest["agent_id"]
    body = {
        "provider": provider,
        "agent_id": agent,
        "phone": args.phone,
        ("postback" if args.postback else "text"): args.text,
    }
    if args.message:
        body["message_id"] = args.message
    answer = control.call("POST", "/inbound", json=body)
    if control.json:
        _dump(answer, out)
    else:
        print(
            f"{args.phone} -> {provider} {agent}: {answer['event']} on message "
            f"{answer['message_id']} at {answer['time']}",
            file=out,
        )
    return 0


def _tail(control: Control, args: argparse.Namespace, out: TextIO) -> int:
    """Each change notice as a line until Ctrl-C; a lost emulator is waited for."""
    try:
        while True:
            try:
                for notice in _notices(control):
                    if control.json:
                        print(json.dumps(notice), file=out, flush=True)
                    else:
                        print(_describe(control, notice), file=out, flush=True)
            except CtlError as exc:
                if exc.exit_code != 1:
                    raise
                print(f"rcs-emulator: {exc}; trying again", file=sys.stderr, flush=True)
            time.sleep(RECONNECT)
    except KeyboardInterrupt:
        return 0


def _notices(control: Control) -> Iterator[dict[str, Any]]:
    timeout = httpx.Timeout(10.0, read=None)  # a quiet emulator sends keep-alives every 15 s
    try:
        with control.http.stream("GET", "/_emulator/stream", timeout=timeout) as response:
            if response.status_code >= 400:
                response.read()
                raise CtlError(f"GET /_emulator/stream: {response.status_code} {_why(response)}")
            event = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "change":
                    yield json.loads(line[5:])
                elif not line:
                    event = None
    except httpx.HTTPError as exc:
        raise control.unreachable(exc) from None


def _describe(control: Control, notice: dict[str, Any]) -> str:
    """One line a person reads: what changed, and the message's state now."""
    kind = notice["kind"]
    if kind == "reset":
        return f"{time.strftime('%H:%M:%S')} reset"
    who = f"{notice['provider']} {notice['agent_id']} {notice['phone']}"
    message_id = notice.get("message_id")
    if message_id is None:
        return f"{time.strftime('%H:%M:%S')} {kind:8} {who}"
    try:
        message = control.call("GET", f"/messages/{message_id}")
    except CtlError:  # evicted or forgotten meanwhile
        return f"{time.strftime('%H:%M:%S')} {kind:8} {who} {message_id}"
    when = message["events"][-1]["time"] if message["events"] else message["created"]
    if kind == "webhook":
        found = control.call("GET", "/webhooks", params={"message": message_id, "limit": 10_000})
        d = found["items"][-1] if found["items"] else None
        what = "-" if d is None else f"{d['name']} -> {d['state']}"
        return f"{when[11:19]} webhook  {who}: {what}"
    at = when[11:19]
    if kind == "event" and message["events"]:
        e = message["events"][-1]
        return f"{at} {e['type']:8} {who}: {_event(e, message)} (message {message['status']})"
    if message["kind"] == "user":  # the phone wrote first: the record is its own message
        return f"{at} {'user':8} {who}: writes {_line(message['text'])!r} ({message_id})"
    return f"{at} {message['status']:8} {who}: {_seen(message)} ({message_id})"


def _event(event: dict[str, Any], message: dict[str, Any]) -> str:
    """What the phone did: a tap names its chip, a typed text says it; a receipt (delivered,
    read, failed...) names the message it is about, as the phone shows it."""
    if event["type"] in ("reply", "action"):
        postback = f" (postback {event['postback']!r})" if event["postback"] else ""
        return f"taps [{_line(event['text'])}]{postback}"
    if event["type"] == "message":
        return f"types {_line(event['text'])!r}"
    return _seen(message)


def _seen(message: dict[str, Any]) -> str:
    """The message as the phone shows it (text, cards, file, chips), on one line."""
    return _line(as_seen(message), SHOWN_MESSAGE)


# -- output ---------------------------------------------------------------------------------


def _line(text: str | None, width: int = SHOWN_TEXT) -> str:
    """One line of at most `width` characters: line breaks and controls shown as escapes."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in (text or ""))
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    if not rows:
        print("(none)", file=out)
        return
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    for row in (list(headers), *cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


def _dump(value: Any, out: TextIO) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False), file=out)


_VERBS: dict[str, Callable[[Control, argparse.Namespace, TextIO], int]] = {
    "messages": _messages,
    "webhooks": _webhooks,
    "advance": _advance,
    "reset": _reset,
    "inbound": _inbound,
    "tail": _tail,
}
