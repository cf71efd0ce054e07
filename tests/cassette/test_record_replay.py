"""`record` and `serve --replay` against a fake real provider (the emulator with deliberate
deviations): a session is recorded through the proxy, with the callbacks the service sends, and
replayed byte for byte, its callbacks on the emulator's clock; credentials never reach the
cassette; an upstream that is down or answers garbage is one line and a 502, never recorded."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import Config, EmulatorServer, create_app
from emulator.cassette.format import load
from emulator.cassette.recorder import Recorder
from emulator.providers import REGISTRY
from emulator.testing import WebhookReceiver
from tests.cassette.helpers import SEND, SEND_JSON, answer, cassette_file, report
from tests.fake_provider import (
    GENERIC_AGENT,
    GENERIC_KEY,
    SERWERSMS_BOT,
    SERWERSMS_TOKEN,
    Deviations,
    closed_port,
    garbage_server,
    real_provider,
)
from tests.redis_server import flush

BASE = "/Rcs/api/v1"
GENERIC_AUTH = {"Authorization": f"Bearer {GENERIC_KEY}"}
SERWERSMS_AUTH = {"Authorization": f"Bearer {SERWERSMS_TOKEN}"}
DEVIATIONS = Deviations(
    texts={"The number field is required.": "Number is required"},
    extra={"requestId": "r-1"},
    iso_times=True,
)
NOT_REPLAYED = {"date", "server", "content-length"}
pytestmark = pytest.mark.anyio  # set by the server that answers now


@contextlib.contextmanager
def recording(provider: str, upstream_url: str, path: Path, **options: Any) -> Iterator[str]:
    """The recorder, live: yields its base URL."""
    entry = REGISTRY.get(provider)
    assert entry is not None
    upstream = entry.real_service()
    assert upstream is not None
    recorder = Recorder(entry, upstream, upstream_url, path, **options)
    with EmulatorServer(Config(port=0), app=recorder.app) as server:
        yield server.base_url


@contextlib.asynccontextmanager
async def replaying(*cassettes: Path, **config: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Config(clock="manual", replay=tuple(map(str, cassettes)), **config))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            yield client
    finally:
        await app.state.emulator.aclose()


def kept_headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [
        (k, v)
        for k, v in response.headers.multi_items()
        if k not in NOT_REPLAYED and k != "x-rcs-emulator-replay"
    ]


def send_text(number: str, **extra: Any) -> dict[str, Any]:
    return {
        "agentId": GENERIC_AGENT,
        "number": [number],
        "messageType": "TextMessage",
        "text": "Hello",
        "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
        **extra,
    }


SESSION = [  # what the client under test sends, in order
    ("POST", f"{BASE}/Message", send_text("+46701234567")),
    ("POST", f"{BASE}/Message", {"agentId": GENERIC_AGENT}),  # refused: another error text
    ("GET", f"{BASE}/Message/Tag/00000000-0000-4000-8000-000000000000", None),
    ("POST", f"{BASE}/Message", send_text("+46701234567")),  # the same again: another answer
]


def record_session(tmp_path: Path, receiver: WebhookReceiver) -> tuple[Path, list[httpx.Response]]:
    """The session through the recorder to the deviating real service, whose callbacks go to
    the recorder (which passes them on to `receiver`)."""
    path = tmp_path / "session.yaml"
    with real_provider(DEVIATIONS) as real:
        with recording(
            "generic", f"{real.base_url}{BASE}", path, forward_callbacks=receiver.url
        ) as proxy:
            hook = f"{proxy}/_emulator/callbacks/generic"
            httpx.put(
                f"{real.base_url}/_emulator/agents/generic/{GENERIC_AGENT}",
                json={"webhook_url": hook},
            ).raise_for_status()
            answers = [
                httpx.request(method, proxy + path_, json=body, headers=GENERIC_AUTH)
                for method, path_, body in SESSION
            ]
            # The real service's time passes: delivered and read for each send, to the recorder
            httpx.post(
                f"{real.base_url}/_emulator/clock/advance", json={"seconds": 60}
            ).raise_for_status()
            receiver.wait(lambda calls: len(calls) == 4)
    return path, answers


async def test_a_session_is_recorded_and_replayed_byte_for_byte(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    path, recorded = record_session(tmp_path, webhook)
    # What the client got through the recorder is the real service's answer, deviations and all
    assert recorded[0].status_code == 200 and recorded[0].json()["requestId"] == "r-1"
    assert recorded[1].json()["errors"]["number"] == ["Number is required"]
    assert recorded[0].json() != recorded[3].json()  # two sends, two tag ids
    callbacks_sent = [c["body"] for c in webhook.calls]
    cassette = load(path)
    assert [i.response.status for i in cassette.interactions] == [200, 400, 404, 200]
    # Each callback follows the last request to its phone: the second send
    assert [len(i.callbacks) for i in cassette.interactions] == [0, 0, 0, 4]
    assert [c.body for c in cassette.interactions[3].callbacks] == callbacks_sent

    webhook.clear()
    async with replaying(path, webhook_url=webhook.url) as client:
        replayed = [
            await client.request(method, path_, json=body, headers=GENERIC_AUTH)
            for method, path_, body in SESSION
        ]
        assert webhook.calls == []  # on the emulator's clock: none is due yet
        await client.post("/_emulator/clock/advance", json={"seconds": 60})
    for before, again in zip(recorded, replayed, strict=True):
        assert again.status_code == before.status_code
        assert again.content == before.content
        assert kept_headers(again) == kept_headers(before)
    assert [r.headers["x-rcs-emulator-replay"] for r in replayed] == [
        "recorded 1",
        "recorded 2",
        "recorded 3",
        "recorded 4",
    ]
    assert [c["body"] for c in webhook.calls] == callbacks_sent


@pytest.mark.parametrize("engine", ["memory", "redis"])
async def test_callbacks_go_out_on_the_emulators_clock_as_long_after_as_recorded(
    tmp_path: Path, webhook: WebhookReceiver, request: pytest.FixtureRequest, engine: str
) -> None:
    state = {}
    if engine == "redis":  # the Redis engine's unit of work and delivery queue alike
        url = request.getfixturevalue("redis_server").url
        flush(url)
        state = {"state": url}
    path = cassette_file(
        tmp_path,
        "serwersms",
        [
            {
                "request": SEND,
                "response": answer(200, '{"success":true,"queued":1,"unsent":0}'),
                "callbacks": [report(30, "delivered"), report(90, "displayed")],
            }
        ],
    )
    async with replaying(path, webhook_url=webhook.url, **state) as client:
        sent = await client.post(
            "/messages/send_rcs.json", json=SEND_JSON, headers={"Authorization": "Bearer any-token"}
        )
        assert sent.json() == {"success": True, "queued": 1, "unsent": 0}
        await client.post("/_emulator/clock/advance", json={"seconds": 29})
        assert webhook.calls == []
        await client.post("/_emulator/clock/advance", json={"seconds": 1})
        assert [c["json"][0]["status"] for c in webhook.calls] == ["delivered"]
        await client.post("/_emulator/clock/advance", json={"seconds": 60})
        assert [c["json"][0]["status"] for c in webhook.calls] == ["delivered", "displayed"]
        # They are the emulator's webhook deliveries: logged, with the provider's retry rule
        deliveries = (await client.get("/_emulator/webhooks")).json()["items"]
        assert [(d["event"], d["state"], d["phone"], d["agent_id"]) for d in deliveries] == [
            ("replayed", "delivered", "+48500600700", "bot")
        ] * 2


async def test_callbacks_after_no_request_go_out_from_the_start(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    path = cassette_file(tmp_path, "serwersms", [], callbacks=[report(10, "delivered")])
    async with replaying(path, webhook_url=webhook.url) as client:
        await client.post("/_emulator/clock/advance", json={"seconds": 10})
        assert len(webhook.calls) == 1
        await client.post("/_emulator/reset")  # rewinds: due again, from now
        await client.post("/_emulator/clock/advance", json={"seconds": 10})
        assert len(webhook.calls) == 2


async def test_a_running_clock_sends_them_by_itself(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    path = cassette_file(
        tmp_path,
        "serwersms",
        [
            {
                "request": SEND,
                "response": answer(200, "{}"),
                "callbacks": [report(0.05, "delivered")],
            }
        ],
    )
    app = create_app(Config(clock="real", replay=(str(path),), webhook_url=webhook.url, port=0))
    with EmulatorServer(app.state.config, app=app) as server:
        httpx.post(
            f"{server.base_url}/messages/send_rcs.json", json=SEND_JSON, headers=SERWERSMS_AUTH
        ).raise_for_status()
        [call] = webhook.wait(lambda calls: len(calls) == 1)
    assert call["json"][0]["status"] == "delivered"


async def test_repeats_are_answered_in_recorded_order_then_by_the_emulator(tmp_path: Path) -> None:
    path = cassette_file(
        tmp_path,
        "serwersms",
        [
            {"request": SEND, "response": answer(200, '{"n":1}')},
            {"request": SEND, "response": answer(200, '{"n":2}')},
        ],
    )
    async with replaying(path) as client:
        answers = [
            await client.post("/messages/send_rcs.json", json=SEND_JSON, headers=SERWERSMS_AUTH)
            for _ in range(3)
        ]
        assert [a.content for a in answers[:2]] == [b'{"n":1}', b'{"n":2}']
        assert answers[2].json()["success"] is True  # the emulator's own answer
        assert "x-rcs-emulator-replay" not in answers[2].headers
        await client.post("/_emulator/reset")
        again = await client.post("/messages/send_rcs.json", json=SEND_JSON, headers=SERWERSMS_AUTH)
        assert again.content == b'{"n":1}'  # a reset rewinds


@pytest.mark.parametrize(
    ("provider", "path", "body", "shape"),
    [
        (
            "serwersms",
            "/messages/send_rcs.json",
            {"rcs_id": "bot", "phone": "+48500600701", "message": {"text": "Hi"}},
            {"error": {"code": 6315, "type": "RcsError", "message": "Overall error"}},
        ),
        (
            "generic",
            f"{BASE}/Message",
            send_text("+46701234567"),
            {
                "type": "https://tools.ietf.org/html/rfc9110#section-15.6.2",
                "title": "Not Implemented",
                "status": 501,
            },
        ),
    ],
)
async def test_strict_refuses_what_no_cassette_holds_in_the_providers_own_form(
    tmp_path: Path, provider: str, path: str, body: dict[str, Any], shape: dict[str, Any]
) -> None:
    cassette = cassette_file(
        tmp_path, "serwersms", [{"request": SEND, "response": answer(200, '{"n":1}')}]
    )
    async with replaying(cassette, replay_strict=True) as client:
        headers = SERWERSMS_AUTH if provider == "serwersms" else GENERIC_AUTH
        refused = await client.post(path, json=body, headers=headers)
        assert refused.status_code == 501
        assert refused.headers["x-rcs-emulator-replay"] == "not recorded"
        assert {k: v for k, v in refused.json().items() if k != "traceId"} == shape
        [surprise] = (await client.get("/_emulator/surprises")).json()["items"]
        assert surprise["status"] == 501 and surprise["path"] == path
        assert surprise["why"].startswith("--replay-strict: not in the cassette (")
        # The control API is never refused
        assert (await client.get("/_emulator/health")).status_code == 200


async def test_credentials_never_reach_the_cassette_and_do_not_count_in_matching(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.json"  # a JSON cassette this time
    username, password = "verify-user-7f3", "verify-pass-8e2"
    config = Config(
        port=0,
        clock="manual",
        serwersms={
            "strict": True,
            "accounts": [
                {"token": SERWERSMS_TOKEN, "bots": [SERWERSMS_BOT]},
                {"username": username, "password": password},
            ],
        },
    )
    echo = Deviations(texts={"Invalid phone number": f"Invalid phone for {SERWERSMS_TOKEN}"})
    form = (
        f"username={username}&password={password}&rcs_id={SERWERSMS_BOT}&phone=12"
        "&message[text]=Hi&system=client_php"
    )
    with real_provider(echo, config) as real, recording("serwersms", real.base_url, path) as proxy:
        by_token = httpx.post(
            f"{proxy}/messages/send_rcs.json",
            headers=SERWERSMS_AUTH,
            json={"rcs_id": SERWERSMS_BOT, "phone": "12", "message": {"text": "Hi"}},
        )
        by_form = httpx.post(
            f"{proxy}/messages/send_rcs.json",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        by_query = httpx.post(
            f"{proxy}/messages/reports.json", params={"username": username, "password": password}
        )
    assert f"Invalid phone for {SERWERSMS_TOKEN}" in by_token.text  # the service echoes it
    assert by_query.json()["items"] == []
    text = path.read_text()
    for secret in (SERWERSMS_TOKEN, username, password):
        assert secret not in text
    cassette = load(path)
    first, second, third = cassette.interactions
    assert first.request.headers["authorization"] == "Bearer ***"
    assert "Invalid phone for ***" in first.response.body
    assert ["username", "***"] in second.request.body["form"]
    assert third.request.query == "username=***&password=***"
    # Replayed whoever asks: credentials and the clients' `system` field are not matched on
    async with replaying(path) as client:
        again = await client.post(
            "/messages/send_rcs.json",
            content=form.replace("client_php", "client_python").replace(password, "another"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert again.headers.get("x-rcs-emulator-replay") == "recorded 2"
        # byte for byte, but for a credential the service echoed: masked, as everywhere
        assert again.content == by_form.content.replace(SERWERSMS_TOKEN.encode(), b"***")


async def test_an_upload_is_kept_as_its_parts_and_found_whatever_its_boundary(
    tmp_path: Path,
) -> None:
    path = tmp_path / "upload.yaml"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
    with real_provider() as real, recording("generic", f"{real.base_url}{BASE}", path) as proxy:
        uploaded = httpx.post(
            f"{proxy}{BASE}/UploadFile/{GENERIC_AGENT}",
            headers=GENERIC_AUTH,
            files={"file": ("a.png", png, "image/png")},
        )
    assert uploaded.status_code == 200
    [interaction] = load(path).interactions
    [part] = interaction.request.body["multipart"]
    assert (part["name"], part["filename"], part["content_type"], part["size"]) == (
        "file",
        "a.png",
        "image/png",
        len(png),
    )
    async with replaying(path) as client:
        again = await client.post(
            f"{BASE}/UploadFile/{GENERIC_AGENT}",
            headers=GENERIC_AUTH,
            files={"file": ("a.png", png, "image/png")},
        )
    assert (
        again.content == uploaded.content and again.headers["x-rcs-emulator-replay"] == "recorded 1"
    )


@pytest.mark.parametrize("service", ["down", "garbage"])
async def test_an_upstream_that_is_down_or_answers_garbage_is_one_line_and_a_502(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, service: str
) -> None:
    path = tmp_path / "c.yaml"
    with contextlib.ExitStack() as stack:
        url = closed_port() if service == "down" else stack.enter_context(garbage_server())
        proxy = stack.enter_context(recording("serwersms", url, path, timeout=5))
        with caplog.at_level(logging.INFO, logger="rcs_emulator.record"):
            answer_ = httpx.post(
                f"{proxy}/messages/send_rcs.json", headers=SERWERSMS_AUTH, json={"phone": "12"}
            )
    assert answer_.status_code == 502
    [line] = [
        r.getMessage()
        for r in caplog.records
        if r.name == "rcs_emulator.record" and r.levelno >= logging.WARNING
    ]
    said = (
        f"cannot reach {url}: "
        if service == "down"
        else (f"{url} did not answer as an HTTP server does (")
    )
    assert line.startswith(f"POST /messages/send_rcs.json: {said}"), line
    assert line.endswith(" (not recorded)") and SERWERSMS_TOKEN not in line
    assert not any(r.exc_info for r in caplog.records)
    assert said in answer_.json()["error"]
    assert load(path).interactions == []


async def test_each_callback_is_kept_after_the_request_that_named_its_phone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "two.yaml"
    with real_provider() as real, recording("serwersms", real.base_url, path) as proxy:
        hook = f"{proxy}/_emulator/callbacks"
        httpx.put(
            f"{real.base_url}/_emulator/agents/serwersms/{SERWERSMS_BOT}",
            json={"webhook_url": hook},
        ).raise_for_status()
        for phone in ("500600700", "+48500600701"):  # a national number: the service corrects it
            httpx.post(
                f"{proxy}/messages/send_rcs.json",
                headers=SERWERSMS_AUTH,
                json={"rcs_id": SERWERSMS_BOT, "phone": phone, "message": {"text": "Hi"}},
            ).raise_for_status()
        # And a callback of a request the recorder never saw (a phone writing first)
        httpx.post(
            f"{real.base_url}/_emulator/inbound",
            json={
                "provider": "serwersms",
                "agent_id": SERWERSMS_BOT,
                "phone": "+48500600799",
                "text": "Hello?",
                "tenant": SERWERSMS_TOKEN,
            },
        ).raise_for_status()
        httpx.post(
            f"{real.base_url}/_emulator/clock/advance", json={"seconds": 60}
        ).raise_for_status()
        health = httpx.get(f"{proxy}/_emulator/health").json()
    cassette = load(path)
    first, second = cassette.interactions
    assert health["callbacks"] == 5
    assert {c.body.count("+48500600700") for c in first.callbacks} == {1} and len(
        first.callbacks
    ) == 2
    assert {c.body.count("+48500600701") for c in second.callbacks} == {1} and len(
        second.callbacks
    ) == 2
    [alone] = cassette.callbacks
    assert '"phone":"+48500600799"' in alone.body and alone.answered == 200
    assert all(c.path == "/_emulator/callbacks" for c in first.callbacks)


async def test_a_slow_or_failing_service_is_recorded_as_it_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.fake_provider import add_fault

    path = tmp_path / "faults.yaml"
    body = {"rcs_id": SERWERSMS_BOT, "phone": "+48500600700", "message": {"text": "Hi"}}
    with real_provider() as real, recording("serwersms", real.base_url, path) as proxy:
        add_fault(real, path="/messages/send_rcs.json", status=503, count=1)
        add_fault(real, path="/messages/view.json", delay_ms=200, count=1)
        add_fault(real, path="/messages/reports.json", drop=True, count=1)
        failing = httpx.post(f"{proxy}/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
        slow = httpx.post(f"{proxy}/messages/view.json", json={"id": "x"}, headers=SERWERSMS_AUTH)
        with caplog.at_level(logging.INFO, logger="rcs_emulator.record"):
            dropped = httpx.post(f"{proxy}/messages/reports.json", headers=SERWERSMS_AUTH)
    assert (failing.status_code, slow.status_code, dropped.status_code) == (503, 200, 502)
    assert [i.request.path for i in load(path).interactions] == [
        "/messages/send_rcs.json",
        "/messages/view.json",
    ]  # the dropped one is not an answer
    [line] = [
        r.getMessage()
        for r in caplog.records
        if r.name == "rcs_emulator.record" and r.levelno >= logging.WARNING
    ]
    assert line.startswith("POST /messages/reports.json: ") and line.endswith(" (not recorded)")
    assert f"{real.base_url} did not answer as an HTTP server does (" in line
    async with replaying(path) as client:
        again = await client.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
    assert (again.status_code, again.content) == (503, failing.content)
    assert kept_headers(again) == kept_headers(failing)
