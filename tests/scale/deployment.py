"""What the operator's tests do to a running deployment of real `rcs-emulator serve` processes on
a real Redis (or Redis Cluster): send as a tenant, read back, move a tenant's time, find the
tenants whose state a given master holds, wait for conditions (never for a fixed time)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from emulator.engines.redis import keys
from tests.redis_server import RedisCluster

MESSAGE = "/Rcs/api/v1/Message"
WAIT = 20  # seconds a condition may take before the test calls it a hang (never a figure)
T = TypeVar("T")


def until(condition: Callable[[], T], what: str, wait: float = WAIT) -> T:
    """Poll `condition` until it is truthy (and return it), failing after `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {wait} s"
        time.sleep(0.05)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def send(base: str, key: str, phone: str, agent: str = "bot", text: str = "Hi") -> httpx.Response:
    body = {"agentId": agent, "number": [phone], "messageType": "TextMessage", "text": text}
    return httpx.post(base + MESSAGE, json=body, headers=auth(key), timeout=WAIT)


def sent(base: str, key: str, phone: str, agent: str = "bot", text: str = "Hi") -> str:
    answer = send(base, key, phone, agent, text)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["tagId"])


def put_agent(base: str, agent: str, url: str, tenant: str) -> None:
    answer = httpx.put(
        f"{base}/_emulator/agents/generic/{agent}",
        json={"webhook_url": url, "tenant": tenant},
        timeout=WAIT,
    )
    assert answer.status_code == 200, answer.text


def advance(base: str, seconds: float, tenant: str) -> httpx.Response:
    return httpx.post(
        f"{base}/_emulator/clock/advance", json={"seconds": seconds, "tenant": tenant}, timeout=60
    )


def listed(base: str, tenant: str) -> list[dict[str, Any]]:
    """Every message of a tenant's, a page of 1,000 at a time."""
    items: list[dict[str, Any]] = []
    while True:
        answer = httpx.get(
            base + "/_emulator/messages",
            timeout=WAIT,
            params={
                "tenant": tenant,
                "limit": "1000",
                "offset": str(len(items)),
                "exchange": "false",
            },
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        if len(items) >= page["total"] or not page["items"]:
            return items


def callbacks(calls: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """How many times each (callback type, message) was received."""
    return Counter((c["json"]["Type"], c["json"]["MessageId"]) for c in calls)


def tenants_by_master(cluster: RedisCluster, count: int = 1) -> dict[int, list[str]]:
    """For each master's port, `count` tenant keys whose partition that master holds."""
    found: dict[int, list[str]] = {}
    n = 0
    while len(found) < 3 or any(len(v) < count for v in found.values()):
        key = f"tenant-{n:04d}-key"
        n += 1
        master = cluster.master_of(keys.slot(keys.TAGS[keys.partition_of(key)])).port
        if len(found.setdefault(master, [])) < count:
            found[master].append(key)
    return found
