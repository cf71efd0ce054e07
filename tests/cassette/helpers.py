"""Cassettes for replay tests, written as a person would write one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def cassette_file(
    tmp_path: Path,
    provider: str,
    interactions: list[dict[str, Any]],
    callbacks: list[dict[str, Any]] | None = None,
    name: str = "c.yaml",
) -> Path:
    """A cassette of these interactions (numbered, a second apart) and callbacks."""
    path = tmp_path / name
    path.write_text(
        yaml.safe_dump(
            {
                "cassette": 1,
                "provider": provider,
                "upstream": "https://real.example",
                "recorded": "2025-06-01T10:00:00Z",
                "interactions": [
                    {"id": n, "at": float(n), **i} for n, i in enumerate(interactions, 1)
                ],
                "callbacks": callbacks or [],
            }
        )
    )
    return path


def answer(status: int, body: str, ctype: str = "application/json") -> dict[str, Any]:
    return {"status": status, "headers": [["content-type", ctype], ["x-real", "yes"]], "body": body}


SEND = {
    "method": "POST",
    "path": "/messages/send_rcs.json",
    "headers": {"authorization": "Bearer ***", "content-type": "application/json"},
    "body": {"json": {"rcs_id": "bot", "phone": "+48500600700", "message": {"text": "Hi"}}},
}
SEND_JSON = SEND["body"]["json"]


def report(after: float, status: str) -> dict[str, Any]:
    payload = (
        f'[{{"type":"report","status":"{status}","smsid":"abc123","rcs_id":"bot",'
        f'"phone":"+48500600700","date":"2025-06-01 12:00:00"}}]'
    )
    return {"after": after, "body": payload}
