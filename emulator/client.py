"""EmulatorHandle: a synchronous client of a running emulator's control API, as the pytest
fixtures hand it to tests (and usable on its own against any emulator URL)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from types import EllipsisType
from typing import Any
from urllib.parse import urlsplit

import httpx

from .callback_hints import why_no_callback
from .core.delays import parse_duration
from .providers import REGISTRY

EXAMPLE_URL = "http://127.0.0.1:8080"
# How a test gives an agent its callback URL (callback_hints fills in the provider and agent).
SET_URL = (
    "rcs_emulator.set_agent({provider!r}, {agent!r}, webhook_url=rcs_webhook_receiver.url), "
    "or webhook_url in the config"
)


def emulator_url(given: str) -> str:
    """A running emulator's base URL as a person gives it (`--url`, RCS_EMULATOR_URL): an
    http(s) URL, or `host:port` alone, read as http:// (as curl reads it). Anything else is a
    ValueError saying what is wrong with it."""
    text = given.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is no number or out of range
    except ValueError as exc:
        why = str(exc)[:1].lower() + str(exc)[1:]  # "port out of range 0-65535"
    else:
        why = ""
        if parts.scheme not in ("http", "https"):
            why = f"{parts.scheme}:// is not http:// or https://"
        elif not parts.hostname:
            why = "it names no host"
    if why:
        raise ValueError(f"{given!r} is not an emulator's URL ({why}), as {EXAMPLE_URL}")
    return text.rstrip("/")


class EmulatorHandle:
    def __init__(self, base_url: str, tenant: str | None = None, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant  # scopes reset and reads to one API key or account
        headers = {"X-Emulator-Token": token} if token else {}
        self._http = httpx.Client(base_url=self.base_url, timeout=30.0, headers=headers)
        self.expected: set[str] = set()  # surprise kinds this test declared expected
        self.advanced = 0.0  # seconds this handle moved the clock since its last reset

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self._http.request(method, "/_emulator" + path, **kw)
        if response.status_code >= 400:
            try:
                said = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                said = response.text
            raise AssertionError(f"emulator {method} {path}: {response.status_code} {said}")
        return response

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        return self._request(method, path, **kw).json()

    def _scope(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        scoped = {k: v for k, v in (params or {}).items() if v is not None}
        if self.tenant is not None:
            scoped["tenant"] = self.tenant
        return scoped

    # -- state ------------------------------------------------------------------------------

    def reset(self) -> None:
        self._call("POST", "/reset", params=self._scope())
        self.expected = set()
        self.advanced = 0.0

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/health"))

    def messages(
        self, provider: str | None = None, phone: str | None = None, agent: str | None = None
    ) -> list[dict[str, Any]]:
        params = self._scope({"provider": provider, "phone": phone, "agent": agent})
        return list(self._call("GET", "/messages", params=params | {"limit": 10_000})["items"])

    def webhooks(self) -> list[dict[str, Any]]:
        params = self._scope({"limit": 10_000})
        return list(self._call("GET", "/webhooks", params=params)["items"])

    def files(self, agent: str | None = None) -> list[dict[str, Any]]:
        """Uploaded files (records; each has a content_url for its bytes)."""
        params = self._scope({"agent": agent, "limit": 10_000})
        return list(self._call("GET", "/files", params=params)["items"])

    def file_content(self, file_id: str) -> bytes:
        return self._request("GET", f"/files/{file_id}/content").content

    def surprises(self) -> list[dict[str, Any]]:
        params = self._scope({"limit": 10_000})
        return list(self._call("GET", "/surprises", params=params)["items"])

    def redeliver(self, delivery_id: int) -> dict[str, Any]:
        """Send a delivered or failed webhook delivery once more, now (one attempt)."""
        return dict(self._call("POST", f"/webhooks/{delivery_id}/redeliver"))

    def expect_errors(self, *kinds: str) -> None:
        """Declare that this test means to cause refused requests and/or failed webhooks
        ("request", "webhook"; both when none is named): they will not fail it."""
        self.expected |= set(kinds or ("request", "webhook"))

    # -- steering ---------------------------------------------------------------------------

    def advance(self, seconds: float | str) -> dict[str, Any]:
        """Move time on (this handle's tenant's, when it has one: on a manual clock each tenant
        has its own) and run what comes due: seconds, or a text such as "500ms", "5m", "1h"."""
        body = {"seconds": seconds, "tenant": self.tenant}
        clock = dict(self._call("POST", "/clock/advance", json=body))
        self.advanced += parse_duration(seconds)  # as the emulator read it, having taken it
        return clock

    def set_agent(
        self,
        provider: str,
        agent_id: str,
        webhook_url: str | None | EllipsisType = ...,
        answer_tag: str | None | EllipsisType = ...,
        name: str | None | EllipsisType = ...,
    ) -> dict[str, Any]:
        """Change what is given and leave the rest; None clears a setting."""
        body = {"webhook_url": webhook_url, "answer_tag": answer_tag, "name": name}
        given = {k: v for k, v in body.items() if v is not ...}
        return dict(
            self._call(
                "PUT", f"/agents/{provider}/{agent_id}", json=given | {"tenant": self.tenant}
            )
        )

    def set_phone(
        self,
        phone: str,
        rcs_capable: bool | None | EllipsisType = ...,
        scenario: str | None | EllipsisType = ...,
    ) -> dict[str, Any]:
        """Change what is given and leave the rest: set_phone(p, scenario="chatty") keeps the
        capability the scenario gives; None hands a setting back to the scenario."""
        body = {"rcs_capable": rcs_capable, "scenario": scenario}
        given = {k: v for k, v in body.items() if v is not ...}
        return dict(self._call("PUT", f"/phones/{phone}", json=given))

    def inbound(
        self,
        provider: str,
        agent_id: str,
        phone: str,
        text: str | None = None,
        postback: str | None = None,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """The user types `text` or taps the chip with `postback`, on the latest message or on
        `message_id`."""
        body: dict[str, Any] = {"provider": provider, "agent_id": agent_id, "phone": phone}
        body |= {"text": text} if text is not None else {"postback": postback}
        if message_id is not None:
            body["message_id"] = message_id
        return dict(self._call("POST", "/inbound", json=body))

    def fault(self, **spec: Any) -> dict[str, Any]:
        """E.g. fault(provider=name, status=503, count=2), fault(path=..., drop=True)."""
        return dict(self._call("POST", "/faults", json=spec))

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def seed(self, seed: int | None) -> None:
        self._call("POST", "/seed", json={"seed": seed})

    # -- for respx and reports --------------------------------------------------------------

    @contextlib.contextmanager
    def routing(self) -> Iterator[EmulatorHandle]:
        """While active, httpx calls (sync and async) to the real provider hosts are served by
        this emulator, through respx; every other host is untouched."""
        import respx

        with respx.mock(assert_all_called=False, assert_all_mocked=False) as router:
            for host in REGISTRY.hosts():
                router.route(host=host).mock(side_effect=self.forward)
            router.route().pass_through()
            yield self

    def forward(self, request: httpx.Request) -> httpx.Response:
        """Serve a request aimed at a real provider host from this emulator (for respx)."""
        url = httpx.URL(self.base_url).copy_with(
            path=request.url.path, query=request.url.query or None
        )
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        with httpx.Client(timeout=30.0) as plain:
            response = plain.request(request.method, url, headers=headers, content=request.read())
        return httpx.Response(
            response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() != "content-length"},
            content=response.content,
        )

    def why_no_callback(self, receiver: str | None = None) -> list[str]:
        """Why callbacks (to `receiver`, a URL, when given) may not have come for what this
        handle's test sent: a manual clock it never advanced, agents without a webhook URL,
        callbacks that went elsewhere, were refused or are under way."""
        clock = self._call("GET", "/clock", params=self._scope())
        messages, deliveries = self.messages(), self.webhooks()
        return why_no_callback(messages, deliveries, clock, self.advanced, receiver, SET_URL)

    def conversations(self) -> str:
        """Every phone's conversation, as text, for a failing test's report."""
        by_phone: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in self.messages():
            by_phone[message["phone"]].append(message)
        lines = []
        for phone, messages in by_phone.items():
            lines.append(f"{phone}")
            for m in messages:
                chips = " ".join(f"[{s['label']}]" for s in m["suggestions"])
                if m["kind"] == "user":  # a thread the phone opened: its events say it all
                    lines.append(f"  (the phone writes to {m['provider']} {m['agent_id']})")
                else:
                    lines.append(
                        f"  {m['created'][11:19]} -> {m['provider']} {m['agent_id']} "
                        f"{m['kind']}: {m['text']!r} {chips} (status {m['status']})".rstrip()
                    )
                for event in m["events"]:
                    if not event["inbound"]:
                        continue
                    what = event["type"]
                    if event["text"] is not None:
                        what += f" {event['text']!r}"
                    if event["postback"] is not None:
                        what += f" (postback {event['postback']!r})"
                    lines.append(f"  {event['time'][11:19]} <- {what}")
        return "\n".join(lines) or "(no messages)"

    def close(self) -> None:
        self._http.close()
