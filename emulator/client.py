"""EmulatorHandle: a small synchronous client of a running emulator's control API, as the
pytest fixtures hand it to tests."""

from __future__ import annotations

from typing import Any

import httpx

PROVIDER_HOSTS = ("api2.serwersms.pl", "api.genericmobile.se")


class EmulatorHandle:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=30.0)

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        response = self._http.request(method, "/_emulator" + path, **kw)
        if response.status_code >= 400:
            raise AssertionError(
                f"emulator {method} {path}: {response.status_code} {response.text}"
            )
        return response.json()

    def reset(self) -> None:
        self._call("POST", "/reset")

    def messages(
        self, provider: str | None = None, phone: str | None = None, agent: str | None = None
    ) -> list[dict[str, Any]]:
        params = {
            k: v for k, v in {"provider": provider, "phone": phone, "agent": agent}.items() if v
        }
        return list(self._call("GET", "/messages", params=params | {"limit": 10_000})["items"])

    def advance(self, seconds: float) -> dict[str, Any]:
        return dict(self._call("POST", "/clock/advance", json={"seconds": seconds}))

    def set_agent(
        self,
        provider: str,
        agent_id: str,
        webhook_url: str | None = None,
        answer_tag: str | None = None,
    ) -> dict[str, Any]:
        body = {"webhook_url": webhook_url, "answer_tag": answer_tag}
        return dict(self._call("PUT", f"/agents/{provider}/{agent_id}", json=body))

    def set_phone(
        self, phone: str, rcs_capable: bool = True, scenario: str | None = None
    ) -> dict[str, Any]:
        body = {"rcs_capable": rcs_capable, "scenario": scenario}
        return dict(self._call("PUT", f"/phones/{phone}", json=body))

    def inbound(
        self,
        provider: str,
        agent_id: str,
        phone: str,
        text: str | None = None,
        postback: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"provider": provider, "agent_id": agent_id, "phone": phone}
        body |= {"text": text} if text is not None else {"postback": postback}
        return dict(self._call("POST", "/inbound", json=body))

    def webhooks(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/webhooks", params={"limit": 10_000})["items"])

    def forward(self, request: httpx.Request) -> httpx.Response:
        """Serve a request aimed at a real provider host from this emulator (for respx)."""
        url = httpx.URL(self.base_url).copy_with(
            path=request.url.path, query=request.url.query or None
        )
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        with httpx.Client(timeout=30.0) as plain:
            response = plain.request(request.method, url, headers=headers, content=request.content)
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )

    def close(self) -> None:
        self._http.close()
