"""What `verify` found, as a report a user can attach to an issue: JSON, and the same as text
(what the command prints). Neither ever holds a credential: each given value is masked wherever
it appears, the headers that carry credentials show only their scheme, and the user's own
number shows its first and last digits only. Of the real service's answers a report keeps the
headers that matter and the first 2,000 characters of each body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ..providers.upstream import MASK, Credentials, Upstream
from ..version import __version__
from .compare import Answer
from .runner import Options, Outcome, State

BODY_KEPT = 2000  # characters of an answer's body a report keeps
REQUEST_KEPT = 300  # characters of a request's body a report shows
NAME_WIDTH = 20


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def masked_number(number: str) -> str:
    """+48500600700 as +485*****00: enough to tell it is yours, not enough to call it."""
    return number[:4] + "*" * max(0, len(number) - 6) + number[-2:] if len(number) > 6 else MASK


@dataclass
class Report:
    provider: str
    title: str
    url: str
    options: Options
    outcomes: Sequence[Outcome]
    credentials: Credentials
    upstream: Upstream
    started: str
    finished: str

    # -- privacy ------------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        text = self.credentials.scrub(text)
        to = self.options.to
        if to:
            for form in (to, to.lstrip("+")):  # the longer first
                text = text.replace(form, masked_number(form))
        return text

    def _headers(self, headers: Any) -> dict[str, str]:
        shown = {}
        for name, value in dict(headers).items():
            if name.lower() in self.upstream.secret_headers:
                scheme, _, credential = str(value).partition(" ")
                value = f"{scheme} {MASK}" if credential else MASK
            shown[name] = self.redact(str(value))
        return shown

    # -- counts -------------------------------------------------------------------------------

    @property
    def differing(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state is State.DIFFERENT]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state is State.SKIPPED]

    # -- JSON ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        options = self.options
        return {
            "tool": f"rcs-emulator {__version__}",
            "provider": self.provider,
            "url": self.url,
            "started": self.started,
            "finished": self.finished,
            "options": {
                "allow_sends": options.allow_sends,
                "to": masked_number(options.to) if options.to else None,
                "timeout": options.timeout,
                "settle": options.settle,
                "media_url": options.media_url,
            },
            "summary": {
                "requests": len(self.outcomes),
                "same": sum(o.state is State.SAME for o in self.outcomes),
                "different": len(self.differing),
                "skipped": len(self.skipped),
            },
            "results": [self._result(o) for o in self.outcomes],
        }

    def _result(self, outcome: Outcome) -> dict[str, Any]:
        result: dict[str, Any] = {
            "name": outcome.probe.name,
            "description": outcome.probe.description,
            "sends": outcome.probe.sends,
            "state": outcome.state.name.lower(),
        }
        if outcome.skipped is not None:
            result["skipped"] = outcome.skipped
            return result
        request = outcome.request
        if request is not None:
            body = (
                request.json
                if request.content is None
                else request.content.decode("utf-8", "replace")
            )
            result["request"] = {
                "method": request.method,
                "path": self.redact(request.path),
                "headers": self._headers(request.headers),
                "body": self._excerpt(body, REQUEST_KEPT) if body is not None else None,
            }
        result["real"] = self._answer(outcome.real)
        result["emulator"] = self._answer(outcome.emulator)
        result["differences"] = [
            {k: self.redact(v) for k, v in d.to_dict().items()} for d in outcome.differences
        ]
        return result

    def _answer(self, answer: Answer | None) -> dict[str, Any] | None:
        if answer is None:
            return None
        matter = {k: v for k, v in answer.headers if k in self.upstream.headers}
        return {
            "status": answer.status,
            "elapsed_ms": round(answer.elapsed_ms, 1),
            "headers": self._headers(matter),
            "body": self._excerpt(answer.body.decode("utf-8", "replace"), BODY_KEPT),
        }

    def _excerpt(self, body: Any, limit: int) -> str:
        text = body if isinstance(body, str) else orjson.dumps(body).decode()
        text = self.redact(text)
        return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"

    def json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"

    # -- text ---------------------------------------------------------------------------------

    def heading(self) -> str:
        options = self.options
        sends = (
            f"one message of each kind to {masked_number(options.to)} (--allow-sends)"
            if options.allow_sends and options.to
            else "none (no --allow-sends)"
        )
        return (
            f"rcs-emulator {__version__} verify: {self.title} at {self.redact(self.url)}, "
            f"{self.started}\nsends: {sends}\n"
        )

    def line(self, outcome: Outcome) -> str:
        """One request's lines: its state, name and request; each difference under it."""
        name = outcome.probe.name.ljust(NAME_WIDTH)
        state = outcome.state.value.ljust(5)
        if outcome.skipped is not None:
            return f"{state} {name} {outcome.skipped}"
        request = outcome.request
        asked = f"{request.method} {self.redact(request.path)}" if request else ""
        real, emulator = outcome.real, outcome.emulator
        answers = (f"real {real.status} ({real.elapsed_ms:.0f} ms)" if real else "real -") + (
            f", emulator {emulator.status}" if emulator else ", emulator -"
        )
        lines = [f"{state} {name} {asked}  {answers}"]
        lines += [f"      {self.redact(d.line)}" for d in outcome.differences]
        return "\n".join(lines)

    def summary(self) -> str:
        asked = len(self.outcomes) - len(self.skipped)
        text = f"{len(self.differing)} of {asked} requests differ"
        if self.skipped:
            text += f"; {len(self.skipped)} not sent (they send a message or read one back: "
            text += "--allow-sends --to)"
        return text

    def text(self) -> str:
        body = "\n".join(self.line(o) for o in self.outcomes)
        return f"{self.heading()}\n{body}\n\n{self.summary()}\n"

    def write(self, path: Path) -> tuple[Path, Path]:
        """The JSON at `path` and the text beside it (x.json and x.txt); returns both paths."""
        if path.suffix == ".txt":
            text_path, json_path = path, path.with_suffix(".json")
        else:
            json_path = path
            text_path = path.with_suffix(".txt") if path.suffix == ".json" else Path(f"{path}.txt")
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_bytes(self.json())
        text_path.write_text(self.text(), encoding="utf-8")
        return json_path, text_path
