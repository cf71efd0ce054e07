"""The cassette: one readable YAML (or JSON) document of a recorded session with a provider's
real service. Each interaction is a request as the client sent it (credentials masked, the body
as JSON, form fields, multipart parts, text, or a digest), the answer exactly as the service
gave it (status, headers in order, the body's text or base64), and the callbacks the service
sent after it to the recorder's webhook; callbacks that followed no request of theirs are kept
apart, timed from the recording's start.

Loading validates the whole document first: a wrong shape is one line naming the place
(`cassette s.yaml: interactions[3].response.status: Input should be a valid integer`)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..core import pydantic_errors
from ..core.yaml_errors import yaml_problem

VERSION: Literal[1] = 1
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


class CassetteError(Exception):
    """A cassette that cannot be read or written: one line."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A request's body is exactly one of these: JSON, form fields in order ([name, value] pairs),
# multipart parts (name, filename, content_type, size and sha256 of each: not their bytes, as an
# upload's boundary changes with every request and its file may be 100 MB), text, or the sha256
# and size of bytes that are none of those (or too many to keep).
BODY_FORMS = ("json", "form", "multipart", "text", "sha256")


class RecordedRequest(_Model):
    method: str
    path: str  # as the client spelt it, on the emulator's paths
    query: str = ""  # as sent, credentials masked
    headers: dict[str, str] = {}  # names in lower case, credentials masked
    body: dict[str, Any] | None = None  # one of BODY_FORMS

    @field_validator("body")
    @classmethod
    def _one_form(cls, body: dict[str, Any] | None) -> dict[str, Any] | None:
        if body is None:
            return body
        forms = [k for k in BODY_FORMS if k in body]
        others = set(body) - set(BODY_FORMS) - {"size"}
        if len(forms) != 1 or others or ("size" in body) != ("sha256" in body):
            raise ValueError("a body is one of json, form, multipart, text, or sha256 with size")
        return body


class RecordedResponse(_Model):
    status: int = Field(ge=100, le=599)
    headers: list[tuple[str, str]] = []  # as the service sent them, in order
    body: str = ""  # the body's exact text (UTF-8) ...
    body_base64: str | None = None  # ... or its bytes, when they are not UTF-8
    elapsed_ms: float = Field(0.0, ge=0)

    def content(self) -> bytes:
        if self.body_base64 is not None:
            return base64.b64decode(self.body_base64)
        return self.body.encode("utf-8")


class RecordedCallback(_Model):
    after: float = Field(ge=0)  # seconds after its interaction's answer (or the start)
    path: str = "/"  # where it reached the recorder
    headers: dict[str, str] = {}
    body: str
    answered: int | None = None  # the status the service got back


class Interaction(_Model):
    id: int = Field(ge=1)
    at: float = Field(ge=0)  # seconds after the recording began
    request: RecordedRequest
    response: RecordedResponse
    callbacks: list[RecordedCallback] = []


class Cassette(_Model):
    cassette: Literal[1] = VERSION
    provider: str
    upstream: str  # the base URL the session was recorded against
    recorded: str  # when the recording began (UTC, ISO 8601)
    interactions: list[Interaction] = []
    callbacks: list[RecordedCallback] = []  # those after no request of theirs


def body_fields(content: bytes) -> dict[str, str]:
    """A response body as the cassette keeps it: its exact text, else its bytes in base64."""
    try:
        return {"body": content.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body": "", "body_base64": base64.b64encode(content).decode("ascii")}


def load(path: Path) -> Cassette:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(f"cassette {path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CassetteError(f"cassette {path}: not UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except yaml.YAMLError as exc:  # in the words of every YAML file the emulator reads
        raise CassetteError(f"cassette {path}: not valid YAML: {yaml_problem(exc)}") from None
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CassetteError(f"cassette {path}: not valid JSON: {first}") from None
    if not isinstance(data, dict):
        raise CassetteError(f"cassette {path}: a cassette is a mapping (cassette, provider, ...)")
    try:
        return Cassette.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        said = pydantic_errors.message(error) + pydantic_errors.did_you_mean(Cassette, error)
        if error["type"] == "extra_forbidden":
            said = "unknown field" + pydantic_errors.did_you_mean(Cassette, error)
        raise CassetteError(f"cassette {path}: {_place(error['loc'])}: {said}") from None


def _place(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part).removesuffix("_")
    return text or "(the document)"


def writer_for(path: Path) -> str:
    """The form a cassette path asks for (CassetteError for another suffix)."""
    form = SUFFIXES.get(path.suffix.lower())
    if form is None:
        raise CassetteError(f"cassette {path}: name it .yaml, .yml or .json")
    return form


def dumps(cassette: Cassette, form: str) -> str:
    data = cassette.model_dump(mode="json", exclude_none=True)
    if form == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    # Each text on one line however long (a body is found, copied and compared as it is).
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 30)


def save(cassette: Cassette, path: Path) -> None:
    """Written whole under a temporary name, then renamed over the old: a stop at any moment
    leaves the previous cassette or this one."""
    text = dumps(cassette, writer_for(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class _Dumper(yaml.SafeDumper):
    """Text over several lines as a block (`|`), where YAML can hold it exactly; a short list
    of plain values on one line (`[content-type, application/json]`)."""


# Characters YAML reads as line breaks or cannot print: a text holding one is written in
# double quotes, where each is an escape (PyYAML may otherwise leave a NEL in single quotes,
# which reads back as a folded line).
_UNSAFE = re.compile(
    "[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _UNSAFE.search(value):
        style: str | None = '"'
    else:  # PyYAML quotes it instead where a block cannot hold it exactly
        style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    plain = all(isinstance(v, str | int | float | bool) and "\n" not in str(v) for v in value)
    short = plain and sum(len(str(v)) for v in value) <= 120
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=short)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(list, _list)
