"""Whatever arrives, each provider answers with its own error: never a 5xx, never a crash.
Property-based: hypothesis generates the bodies, headers and paths."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .portal import SyncApp, sync_app

AUTH = {"Authorization": "Bearer fuzz"}
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5)
    ),
    max_leaves=30,
)

GENERIC_KEYS = [
    "agentId",
    "number",
    "messageType",
    "text",
    "textMessage",
    "suggestedActions",
    "suggestedReplies",
    "richCardContent",
    "carouselContent",
    "smsFallbackText",
    "tag",
    "AGENTID",
    "messagetype",
]
SERWERSMS_KEYS = [
    "rcs_id",
    "phone",
    "message",
    "details",
    "date",
    "unique_id",
    "group_id",
    "username",
    "password",
    "system",
]


@pytest.fixture(scope="module")
def app() -> Any:
    with sync_app() as client:
        yield client


def generic_ok(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        body = response.json()
        assert body["status"] == response.status_code if "status" in body else body["statusCode"]


def serwersms_ok(response: Any) -> None:
    assert response.status_code == 200, response.text
    body = response.json() if "json" in response.headers.get("content-type", "") else None
    if body is not None and "error" in body:
        assert set(body["error"]) == {"code", "type", "message"}


@SETTINGS
@given(st.dictionaries(st.sampled_from(GENERIC_KEYS), json_values, max_size=8))
def test_generic_message_any_json_object(app: SyncApp, body: dict[str, Any]) -> None:
    generic_ok(app.request("POST", "/Rcs/api/v1/Message", json=body, headers=AUTH))


@SETTINGS
@given(json_values)
def test_generic_message_any_json(app: SyncApp, body: Any) -> None:
    generic_ok(app.request("POST", "/Rcs/api/v1/Message", json=body, headers=AUTH))


@SETTINGS
@given(st.binary(max_size=500))
def test_generic_message_any_bytes(app: SyncApp, raw: bytes) -> None:
    headers = AUTH | {"Content-Type": "application/json"}
    generic_ok(app.request("POST", "/Rcs/api/v1/Message", content=raw, headers=headers))


CARD_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "title": json_values,
        "description": json_values,
        "fileUrl": json_values,
        "fileId": json_values,
        "height": json_values,
        "orientation": json_values,
        "thumbnailImageAlignment": json_values,
        "suggestedActions": st.lists(
            st.dictionaries(
                st.sampled_from(
                    [
                        "text",
                        "postbackData",
                        "dialAction",
                        "openUrlAction",
                        "viewLocationAction",
                        "createCalendarEventAction",
                        "shareLocationAction",
                    ]
                ),
                json_values,
            ),
            max_size=3,
        ),
    },
)


@SETTINGS
@given(CARD_FIELDS, st.sampled_from(["RichCard", "Carousel"]))
def test_generic_cards_with_wrong_types_everywhere(app: SyncApp, card: Any, kind: str) -> None:
    body: dict[str, Any] = {"agentId": "a", "number": ["+46701234567"], "messageType": kind}
    if kind == "RichCard":
        body["richCardContent"] = card
    else:
        body["carouselContent"] = {"cardWidth": "SMALL", "richCardContents": [card, card]}
    generic_ok(app.request("POST", "/Rcs/api/v1/Message", json=body, headers=AUTH))


@SETTINGS
@given(st.text(max_size=60), st.text(max_size=60))
def test_generic_reads_any_path_and_query(app: SyncApp, segment: str, query: str) -> None:
    segment = quote(segment, safe="")
    for path in (
        f"/Rcs/api/v1/Message/{segment}",
        f"/Rcs/api/v1/Message/Tag/{segment}",
        f"/Rcs/api/v1/Message/Agent/{segment}",
    ):
        generic_ok(
            app.request(
                "GET",
                path,
                params={"limit": query, "startTime": query, "phoneNumber": query},
                headers=AUTH,
            )
        )


@SETTINGS
@given(st.binary(max_size=200))
def test_capability_any_body(app: SyncApp, raw: bytes) -> None:
    generic_ok(app.request("GET", "/Rcs/api/v1/Capability/a", content=raw, headers=AUTH))


@SETTINGS
@given(st.binary(max_size=400), st.text(max_size=30))
def test_upload_any_multipart(app: SyncApp, raw: bytes, boundary: str) -> None:
    ctype = f"multipart/form-data; boundary={boundary}".encode("utf-8", "replace")
    headers = {b"Authorization": b"Bearer fuzz", b"Content-Type": ctype}
    generic_ok(app.request("POST", "/Rcs/api/v1/UploadFile/a", content=raw, headers=headers))


@SETTINGS
@given(st.dictionaries(st.sampled_from(SERWERSMS_KEYS), json_values, max_size=8))
def test_serwersms_any_json_params(app: SyncApp, body: dict[str, Any]) -> None:
    serwersms_ok(app.request("POST", "/messages/send_rcs.json", json=body, headers=AUTH))


@SETTINGS
@given(json_values)
def test_serwersms_any_message(app: SyncApp, message: Any) -> None:
    body = {"rcs_id": "bot", "phone": "500600700", "message": message, "unique_id": message}
    serwersms_ok(app.request("POST", "/messages/send_rcs", json=body, headers=AUTH))


form_keys = st.from_regex(r"[a-z_\[\]0-9]{1,30}", fullmatch=True)


@SETTINGS
@given(st.lists(st.tuples(form_keys, st.text(max_size=30)), max_size=20))
def test_serwersms_any_form(app: SyncApp, pairs: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    headers = AUTH | {"Content-Type": "application/x-www-form-urlencoded"}
    serwersms_ok(
        app.request("POST", "/messages/send_rcs", content=urlencode(pairs), headers=headers)
    )


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["", ".json", ".xml"]))
def test_serwersms_any_bytes(app: SyncApp, raw: bytes, ext: str) -> None:
    for ctype in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
        response = app.request(
            "POST", f"/messages/send_rcs{ext}", content=raw, headers=AUTH | {"Content-Type": ctype}
        )
        assert response.status_code == 200


@SETTINGS
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=200))
def test_absurd_authorization_headers(app: SyncApp, header: str) -> None:
    headers = {b"Authorization": header.encode("latin-1")}
    generic_ok(app.request("POST", "/Rcs/api/v1/Message", json={}, headers=headers))
    serwersms_ok(app.request("POST", "/messages/send_rcs", json={}, headers=headers))


@SETTINGS
@given(st.text(max_size=80), json_values)
def test_control_api_any_input(app: SyncApp, segment: str, body: Any) -> None:
    segment = quote(segment, safe="")
    for method, path in (
        ("POST", "/_emulator/clock/advance"),
        ("POST", "/_emulator/inbound"),
        ("PUT", f"/_emulator/phones/{segment}"),
        ("PUT", f"/_emulator/agents/generic/{segment}"),
        ("POST", "/_emulator/faults"),
        ("POST", "/_emulator/seed"),
    ):
        response = app.request(method, path, json=body)
        assert response.status_code < 500, (path, response.text)
    app.request("DELETE", "/_emulator/faults")


DEEP = [
    ("generic", "/Rcs/api/v1/Message", "[" * 50_000 + "]" * 50_000),
    ("generic", "/Rcs/api/v1/Message", '{"agentId":' * 5000 + "1" + "}" * 5000),
    ("serwersms", "/messages/send_rcs", '{"message":' + "[" * 50_000 + "]" * 50_000 + "}"),
]


@pytest.mark.parametrize(("provider", "path", "raw"), DEEP)
def test_nesting_thousands_deep(app: SyncApp, provider: str, path: str, raw: str) -> None:
    response = app.request(
        "POST", path, content=raw, headers=AUTH | {"Content-Type": "application/json"}
    )
    (generic_ok if provider == "generic" else serwersms_ok)(response)
    assert response.status_code in (200, 400)


def test_lone_surrogates_are_refused_not_stored(app: SyncApp) -> None:
    raw = '{"agentId":"a","number":["+46701234567"],"messageType":"Text","text":"\\ud800"}'
    headers = AUTH | {"Content-Type": "application/json"}
    response = app.request("POST", "/Rcs/api/v1/Message", content=raw, headers=headers)
    assert response.status_code == 400
    assert "surrogate" in json.dumps(response.json())
    serwersms = app.request(
        "POST",
        "/messages/send_rcs",
        headers=headers,
        content='{"rcs_id":"b","phone":"500600700","message":{"text":"\\udfff"}}',
    )
    assert serwersms.json()["error"]["code"] == 1006
    assert app.request("GET", "/_emulator/messages").status_code == 200


def test_form_nesting_deeper_than_php_allows(app: SyncApp) -> None:
    key = "message" + "[a]" * 40
    response = app.request(
        "POST",
        "/messages/send_rcs",
        content=f"{key}=1&rcs_id=b&phone=500600700",
        headers=AUTH | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json()["error"]["code"] == 1006


def test_huge_strings_and_arrays(app: SyncApp) -> None:
    big_text = {
        "agentId": "a",
        "number": ["+46701234567"],
        "messageType": "Text",
        "text": "x" * 200_000,
    }
    response = app.request("POST", "/Rcs/api/v1/Message", json=big_text, headers=AUTH)
    assert response.status_code == 400
    many = {"agentId": "a", "number": ["+46701234567"] * 30_000, "messageType": "Text", "text": "x"}
    assert app.request("POST", "/Rcs/api/v1/Message", json=many, headers=AUTH).status_code == 400
    labels = {
        "rcs_id": "b",
        "phone": "500600700",
        "message": {
            "text": "x",
            "suggestions": [{"reply": {"text": "y" * 100_000, "postback": "p"}}],
        },
    }
    answer = app.request("POST", "/messages/send_rcs", json=labels, headers=AUTH).json()
    assert answer["error"]["code"] == 6309


@pytest.mark.parametrize("digits", ["²", "٣", "①", "1²"])
def test_unicode_digits_are_not_numbers(app: SyncApp, digits: str) -> None:
    """str.isdigit() is true for these; int() is not: found by hypothesis as a 500."""
    response = app.request(
        "GET", "/Rcs/api/v1/Message/Agent/a", params={"limit": digits}, headers=AUTH
    )
    assert response.status_code == 400 and "limit" in response.json()["errors"]
    page = app.request("GET", "/_emulator/messages", params={"limit": digits})
    assert page.status_code == 400
    reports = app.request("POST", "/messages/reports", json={"page": digits}, headers=AUTH)
    assert reports.status_code == 200 and "paging" in reports.json()
