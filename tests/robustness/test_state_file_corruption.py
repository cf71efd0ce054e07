"""A state file is data: every corruption class is refused at start with exit 2 and one line
naming the place, never a traceback, a half-loaded state or a silent drop."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import Config, ConfigError, EmulatorServer, create_app
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.providers.generic.helpers import PNG
from tests.robustness.process import run_cli


@pytest.fixture(scope="module")
def good_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real state file: messages with events, a file, settings, a retrying webhook and
    scheduled steps, sends and retries."""
    folder = tmp_path_factory.mktemp("good")
    state = folder / "state.json"
    with EmulatorServer(Config(port=0, clock="manual", state_file=str(state))) as server:
        c = httpx.Client(base_url=server.base_url)
        c.put(
            "/_emulator/agents/generic/demo", json={"webhook_url": "http://127.0.0.1:9/down"}
        ).raise_for_status()
        c.put("/_emulator/phones/+46705550001", json={"rcs_capable": False}).raise_for_status()
        for n in range(2):
            c.post(
                "/Rcs/api/v1/Message",
                headers=GENERIC_AUTH,
                json={
                    "agentId": "demo",
                    "number": ["+46701234567"],
                    "messageType": "TextMessage",
                    "text": f"hi {n}",
                },
            ).raise_for_status()
        c.post(
            "/messages/send_rcs",
            headers=SERWERSMS_AUTH,
            json={
                "rcs_id": "bot",
                "phone": "500600700",
                "message": {"text": "later"},
                "date": "2099-01-01 10:00:00",
            },
        ).raise_for_status()
        c.post(
            "/Rcs/api/v1/UploadFile/demo",
            headers=GENERIC_AUTH,
            files={"file": ("a.png", PNG, "image/png")},
        ).raise_for_status()
        c.post("/_emulator/clock/advance", json={"seconds": 3}).raise_for_status()
        c.close()
    data = json.loads(state.read_text())
    kinds = {e["kind"] for e in data["scheduled"]}
    assert kinds == {"step", "send", "retry"} and data["deliveries"] and data["files"]
    return data


def _msg(data: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return data["messages"][i]  # type: ignore[no-any-return]


def _first(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e for e in data["scheduled"] if e["kind"] == kind)


CORRUPTIONS: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    (
        "text time",
        lambda d: _msg(d).update(created_at="yesterday"),
        r"messages\[0\]\.created_at: Input should be a valid number",
    ),
    (
        "unknown status",
        lambda d: _msg(d).update(status="lost"),
        r"messages\[0\]\.status: Input should be",
    ),
    (
        "event of no kind",
        lambda d: _msg(d)["events"][0].update(type="teleported"),
        r"messages\[0\]\.events\[0\]\.type",
    ),
    ("missing field", lambda d: _msg(d).pop("phone"), r"messages\[0\]\.phone: Field required"),
    (
        "unknown field",
        lambda d: _msg(d).update(colour="red"),
        r"messages\[0\]\.colour: Extra inputs are not permitted",
    ),
    ("no messages section", lambda d: d.pop("messages"), r"^.*messages: Field required"),
    (
        "section of the wrong shape",
        lambda d: d.update(files={}),
        r"files: Input should be a valid (list|array)",
    ),
    ("future version", lambda d: d.update(version=99), r"version: 99 is not a state file version"),
    ("no version", lambda d: d.pop("version"), r"version: None is not a state file version"),
    (
        "unknown scheduled kind",
        lambda d: _first(d, "step").update(kind="explode"),
        r"scheduled\[\d+\]\.kind: Input should be 'send', 'step' or 'retry'",
    ),
    (
        "broken scenario step",
        lambda d: _first(d, "step").update(step={"event": "dance"}),
        r"scheduled\[\d+\]\.step: .*unknown event 'dance'",
    ),
    (
        "dangling message reference",
        lambda d: _first(d, "step").update(ref="gone"),
        r"scheduled\[\d+\]\.ref: no message 'gone'",
    ),
    (
        "dangling delivery reference",
        lambda d: _first(d, "retry").update(ref=999),
        r"scheduled\[\d+\]\.ref: no delivery 999",
    ),
    (
        "duplicate message id",
        lambda d: d["messages"].append(copy.deepcopy(_msg(d))),
        r"messages\[\d+\]\.id: '.+' appears twice",
    ),
    (
        "duplicate file id",
        lambda d: d["files"].append(copy.deepcopy(d["files"][0])),
        r"files\[1\]\.id: .* appears twice",
    ),
    (
        "absolute file path",
        lambda d: d["files"][0].update(path="/etc/passwd"),
        r"files\[0\]\.path: must be a file name inside",
    ),
    (
        "file path that climbs out",
        lambda d: d["files"][0].update(path="../../secret"),
        r"files\[0\]\.path: must be a file name inside",
    ),
    (
        "file path of dots",
        lambda d: d["files"][0].update(path=".."),
        r"files\[0\]\.path: must be a file name inside",
    ),
    (
        "unknown provider",
        lambda d: _msg(d).update(provider="acme"),
        r"messages\[0\]\.provider: unknown provider 'acme'",
    ),
    (
        "negative file size",
        lambda d: d["files"][0].update(size=-1),
        r"files\[0\]\.size: Input should be greater than or equal to 0",
    ),
    (
        "delivery in a finished state",
        lambda d: d["deliveries"][0].update(state="delivered"),
        r"deliveries\[0\]\.state",
    ),
    (
        "dangling exchange reference",
        lambda d: _msg(d).update(exchange=999),
        r"messages\[0\]\.exchange: no exchange 999",
    ),
    (
        "exchange that is not base64",
        lambda d: d["exchanges"][0].update(data="not base64!"),
        r"exchanges\[0\]\.data: must be base64",
    ),
    (
        "exchange of the wrong type",
        lambda d: d["exchanges"][0].update(key="one"),
        r"exchanges\[0\]\.key: Input should be a valid integer",
    ),
    (
        "duplicate exchange",
        lambda d: d["exchanges"].append(copy.deepcopy(d["exchanges"][0])),
        r"exchanges\[\d+\]\.key: \d+ appears twice",
    ),
]


@pytest.mark.parametrize(
    ("corrupt", "expected"), [(c[1], c[2]) for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS]
)
def test_each_corruption_is_refused_with_its_place(tmp_path, good_state, corrupt, expected):
    data = copy.deepcopy(good_state)
    corrupt(data)
    state = tmp_path / "state.json"
    state.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=expected) as refused:
        create_app(Config(clock="manual", state_file=str(state)))
    assert "\n" not in str(refused.value) and "Value error" not in str(refused.value)
    assert str(state) in str(refused.value)


@pytest.mark.parametrize("content", ["[]", "null", "42", '"state"', "{not json", ""])
def test_a_file_that_is_not_a_state_object_is_refused(tmp_path, content):
    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(ConfigError, match=r"state\.json: (not JSON|the file: a state file is)"):
        create_app(Config(clock="manual", state_file=str(state)))


def test_the_good_file_itself_loads(tmp_path, good_state):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(good_state))
    (tmp_path / "state.json.files").mkdir()
    for f in good_state["files"]:
        (tmp_path / "state.json.files" / f["path"]).write_bytes(PNG)
    app = create_app(Config(clock="manual", state_file=str(state)))
    assert len(app.state.emulator.engine) == len(good_state["messages"])


@pytest.mark.parametrize(
    ("corrupt", "line"),
    [
        (
            lambda d: _msg(d, 1).update(created_at="soon"),
            "messages[1].created_at: Input should be a valid number",
        ),
        (
            lambda d: d["files"][0].update(path="/etc/passwd"),
            "files[0].path: must be a file name inside",
        ),
    ],
)
def test_the_command_line_exits_2_with_one_clean_line(tmp_path, good_state, corrupt, line):
    data = copy.deepcopy(good_state)
    corrupt(data)
    state = tmp_path / "state.json"
    state.write_text(json.dumps(data))
    done = run_cli("serve", "--port", "0", env={"RCS_EMULATOR_STATE_FILE": str(state)})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rcs-emulator: state file {state}: {line}")
    assert state.read_text() == json.dumps(data), "a refused file is left as it was"


def test_a_refused_file_leaves_nothing_half_loaded(tmp_path, good_state):
    """The last message is broken: nothing of the file is applied, not even the first ones."""
    data = copy.deepcopy(good_state)
    data["scheduled"].append({"kind": "send", "due": 1.0, "tenant": "t", "ref": "x", "step": None})
    state = tmp_path / "state.json"
    state.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="no message 'x'"):
        create_app(Config(clock="manual", state_file=str(state)))


def test_restored_files_never_reach_outside_their_folder(tmp_path, good_state):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    data = copy.deepcopy(good_state)
    data["files"][0]["path"] = str(Path("..") / "secret.txt")
    state = tmp_path / "state.json"
    state.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="must be a file name inside"):
        create_app(Config(clock="manual", state_file=str(state)))
    assert secret.read_text() == "do not serve"
