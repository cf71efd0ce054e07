"""Requests for SerwerSMS tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import SERWERSMS_AUTH

BOT = "54c53be2-cbb8-11ec-9d64-0242ac120002"
AUTH = SERWERSMS_AUTH


def params(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "rcs_id": BOT,
        "phone": "+48500600700",
        "message": {"text": "Text example", "suggestions": []},
        "system": "client_python",
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


async def send(
    client: httpx.AsyncClient,
    body: Any,
    path: str = "/messages/send_rcs.json",
    headers: dict[str, str] | None = None,
) -> Any:
    response = await client.post(path, json=body, headers=AUTH if headers is None else headers)
    assert response.status_code == 200  # SerwerSMS answers errors with 200 too
    return response.json()


def error(code: int) -> Any:
    from emulator.providers.serwersms.errors import SerwerSmsError

    member = SerwerSmsError.by_code(code)
    assert member is not None
    return member.body()


def media(**over: Any) -> dict[str, Any]:
    value = {"url": "https://example.pl/a.png", "size": 26802, "type": "image/png"}
    value.update(over)
    return value


def card(**over: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"title": "RCS", "description": "Description", "media": media()}
    value.update(over)
    return value
