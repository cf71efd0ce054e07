"""The official Python client (PyPI serwersmsv2api 2.0.0), unchanged, against the live emulator:
only its api_url is pointed at us."""

from __future__ import annotations

import json

import pytest
from serwersms import SerwerSMS

from emulator import EmulatorServer

from .helpers import BOT


@pytest.fixture
def api(live_server: EmulatorServer) -> SerwerSMS:
    import httpx

    httpx.post(live_server.base_url + "/_emulator/reset").raise_for_status()
    client = SerwerSMS("official-client-token")
    client.api_url = live_server.base_url + "/"
    return client


def test_send_rcs_success_and_details(api: SerwerSMS) -> None:
    answer = json.loads(
        api.call(
            "messages/send_rcs",
            {
                "rcs_id": BOT,
                "phone": ["500600700", "+48600700800"],
                "message": {
                    "text": "Text example",
                    "suggestions": [{"reply": {"text": "Label", "postback": "uslugi"}}],
                },
                "details": True,
            },
        )
    )
    assert answer["success"] is True
    assert (answer["queued"], answer["unsent"]) == (2, 0)
    assert [i["phone"] for i in answer["items"]] == ["+48500600700", "+48600700800"]
    report = json.loads(api.message.reports({"id": answer["items"][0]["id"]}))
    assert report["items"][0]["status"] == "sent"
    viewed = json.loads(api.message.view(answer["items"][1]["id"], {}))
    assert viewed["phone"] == "+48600700800"


def test_errors_read_by_the_client(api: SerwerSMS) -> None:
    answer = json.loads(api.call("messages/send_rcs", {"rcs_id": BOT, "phone": "500600700"}))
    assert answer == {
        "error": {"code": 6303, "type": "RcsError", "message": "No required parameters"}
    }
    looked_up = json.loads(api.error.view(6300))
    assert looked_up["error"]["message"] == "You do not have permission to send messages"
