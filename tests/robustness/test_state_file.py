"""Shutdown with work pending: what was not delivered is said, saved to the state file, and a
restarted emulator carries on from it."""

from __future__ import annotations

import logging

import httpx
import pytest

from emulator import Config, EmulatorServer
from emulator.testing import WebhookReceiver
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.providers.generic.helpers import PNG


def test_a_demo_survives_a_restart(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "state.json"
    config = Config(port=0, clock="manual", state_file=str(state))
    down = "http://127.0.0.1:9/hook"
    # The level is set around the server: its stop logs the save (at INFO) after the block.
    with caplog.at_level(logging.INFO), EmulatorServer(config) as first:
        c = httpx.Client(base_url=first.base_url)
        c.put("/_emulator/agents/generic/demo", json={"webhook_url": down}).raise_for_status()
        c.put("/_emulator/phones/+46705550001", json={"rcs_capable": False}).raise_for_status()
        tag = c.post(
            "/Rcs/api/v1/Message",
            headers=GENERIC_AUTH,
            json={
                "agentId": "demo",
                "number": ["+46701234567"],
                "messageType": "Text",
                "text": "hi",
                "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
            },
        ).json()["tagId"]
        c.post(
            "/messages/send_rcs",
            headers=SERWERSMS_AUTH,
            json={
                "rcs_id": "bot",
                "phone": "500600700",
                "message": {"text": "later"},
                "date": "2099-01-01 10:00:00",
            },
        )
        file_id = c.post(
            "/Rcs/api/v1/UploadFile/demo",
            headers=GENERIC_AUTH,
            files={"file": ("a.png", PNG, "image/png")},
        ).json()["fileId"]
        c.post("/_emulator/clock/advance", json={"seconds": 3})  # delivered -> webhook fails
        before = c.get("/_emulator/messages").json()
        hooks = c.get("/_emulator/webhooks").json()["items"]
        assert hooks[0]["state"] == "retrying"
        c.close()
    assert "webhook deliveries not done" in caplog.text
    assert "state saved" in caplog.text and state.exists()
    saved = next(r for r in caplog.records if r.getMessage().startswith("state saved"))
    assert saved.levelno == logging.INFO  # a normal stop is news, not a warning

    receiver = WebhookReceiver().start()
    try:
        with EmulatorServer(config) as second:
            c = httpx.Client(base_url=second.base_url)
            after = c.get("/_emulator/messages").json()
            assert after["total"] == before["total"] == 2
            assert [m["id"] for m in after["items"]] == [m["id"] for m in before["items"]]
            assert after["items"][0]["events"] == before["items"][0]["events"]
            # The exact exchange behind each message comes back too.
            assert [m["exchange"] for m in after["items"]] == [
                m["exchange"] for m in before["items"]
            ]
            assert after["items"][0]["exchange"]["request"]["body"]["text"] == "hi"
            stats = c.get(f"/Rcs/api/v1/Message/Tag/{tag}", headers=GENERIC_AUTH).json()
            assert stats["rcsNumbers"] == 1
            assert c.put("/_emulator/phones/+46705550001", json={}).json()["capable"] is False
            card = {
                "agentId": "demo",
                "number": ["+46701234567"],
                "messageType": "RichCard",
                "richCardContent": {"title": "t", "fileId": file_id},
            }
            assert c.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH, json=card).status_code == 200
            assert c.get(f"/_emulator/files/{file_id}/content").content == PNG  # bytes restored
            # the failed webhook is still owed: its retry resumes (to the URL it was made for)
            hooks = c.get("/_emulator/webhooks").json()["items"]
            assert [(h["state"], len(h["attempts"])) for h in hooks] == [("retrying", 1)]
            c.put("/_emulator/agents/generic/demo", json={"webhook_url": receiver.url})
            c.post("/_emulator/clock/advance", json={"seconds": 10})
            hooks = c.get("/_emulator/webhooks").json()["items"]
            assert len(hooks[0]["attempts"]) == 2
            # the read step scheduled before the restart ran after it, to the new receiver
            restored = before["items"][0]["id"]
            types = [
                c["json"]["Type"] for c in receiver.calls if c["json"]["MessageId"] == restored
            ]
            assert types == ["READ"]
            serwersms = c.get("/_emulator/messages", params={"provider": "serwersms"}).json()
            assert serwersms["items"][0]["status"] == "scheduled"
            c.close()
    finally:
        receiver.stop()


def test_a_broken_state_file_is_a_clear_error(tmp_path) -> None:
    from emulator import ConfigError, create_app

    state = tmp_path / "state.json"
    state.write_text("{not json")
    with pytest.raises(ConfigError, match="state.json: not JSON: .* line 1, column 2"):
        create_app(Config(clock="manual", state_file=str(state)))


def test_restored_file_records_whose_bytes_are_gone_say_so(tmp_path) -> None:
    state = tmp_path / "state.json"
    config = Config(port=0, clock="manual", state_file=str(state))
    with EmulatorServer(config) as first, httpx.Client(base_url=first.base_url) as c:
        file_id = c.post(
            "/Rcs/api/v1/UploadFile/demo",
            headers=GENERIC_AUTH,
            files={"file": ("a.png", PNG, "image/png")},
        ).json()["fileId"]
    for kept in (tmp_path / "state.json.files").iterdir():
        kept.unlink()  # someone tidied the folder up
    with EmulatorServer(config) as second, httpx.Client(base_url=second.base_url) as c:
        assert c.get(f"/_emulator/files/{file_id}").json()["name"] == "a.png"
        gone = c.get(f"/_emulator/files/{file_id}/content")
        assert gone.status_code == 410
        assert gone.json() == {"error": "the file's record is kept but its bytes are gone"}
