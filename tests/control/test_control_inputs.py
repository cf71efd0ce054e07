"""The control API refuses what it used to ignore: unknown fields and filters, values of the wrong
type or range, URLs that are not http(s). Each refusal is a 400 naming the field. And its OpenAPI
description is generated from the same models, so it lists every operation the app serves."""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route

from emulator import create_app
from tests.conftest import TEST_CONFIG

pytestmark = pytest.mark.anyio


def refused(response, field: str | None, says: str) -> None:
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer.get("field") == field, answer
    assert says in answer["error"], answer


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (
            {"webhok_url": "http://x.test/hook"},
            "webhok_url",
            "unknown field 'webhok_url' (did you mean 'webhook_url'?)",
        ),
        (
            {"webhook_url": "localhost:9000/hook"},
            "webhook_url",
            "(did you mean 'http://localhost:9000/hook'?)",
        ),
        ({"webhook_url": "file:///etc/passwd"}, "webhook_url", "is not an http:// or https:// URL"),
        ({"webhook_url": "not a url"}, "webhook_url", "is not an http:// or https:// URL"),
        ({"webhook_url": "http://"}, "webhook_url", "with a host"),
        ({"webhook_url": 5}, "webhook_url", "must be a valid string"),
        ({"name": ["x"]}, "name", "must be a valid string"),
    ],
)
async def test_agent_settings_refuse_unknown_fields_and_bad_urls(client, body, field, says):
    refused(await client.put("/_emulator/agents/generic/a1", json=body), field, says)
    agents = (await client.get("/_emulator/agents")).json()
    assert agents["items"] == []  # nothing was half-applied


async def test_agent_settings_change_only_what_is_given(client):
    url = "https://receiver.test/hook"
    await client.put("/_emulator/agents/generic/a1", json={"webhook_url": url, "name": "Shop"})
    after = (await client.put("/_emulator/agents/generic/a1", json={"name": None})).json()
    assert after["webhook_url"] == url and after["name"] is None
    unknown = await client.put("/_emulator/agents/nope/a1", json={})
    assert unknown.status_code == 404 and "unknown provider 'nope'" in unknown.json()["error"]


@pytest.mark.parametrize(
    ("path", "params", "field", "says"),
    [
        ("/_emulator/messages", {"agent_id": "a"}, "agent_id", "unknown filter 'agent_id'"),
        ("/_emulator/messages", {"status": "lost"}, "status", "must be"),
        ("/_emulator/messages", {"provider": "nope"}, "provider", "unknown provider 'nope'"),
        ("/_emulator/messages", {"phone": "12ab"}, "phone", "E.164"),
        ("/_emulator/messages", {"limit": "0"}, "limit", "greater than or equal to 1"),
        ("/_emulator/webhooks", {"agent_id": "a"}, "agent_id", "unknown filter 'agent_id'"),
        ("/_emulator/webhooks", {"state": "gone"}, "state", "must be"),
        (
            "/_emulator/files",
            {"agnet": "a"},
            "agnet",
            "unknown filter 'agnet' (did you mean 'agent'?)",
        ),
        ("/_emulator/surprises", {"kind": "x"}, "kind", "must be"),
        ("/_emulator/clock", {"x": "1"}, "x", "this one takes: tenant"),
    ],
)
async def test_unknown_or_bad_filters_are_refused(client, path, params, field, says):
    refused(await client.get(path, params=params), field, says)


async def test_one_filter_vocabulary_for_agents(client):
    for path in ("/_emulator/messages", "/_emulator/webhooks", "/_emulator/files"):
        answer = await client.get(path, params={"agent": "a1"})
        assert answer.status_code == 200, (path, answer.text)


async def test_the_control_token_may_ride_in_any_query(client):
    assert (await client.get("/_emulator/clock", params={"token": "t"})).status_code == 200


@pytest.mark.parametrize("value", ["maybe", "2", "yess"])
async def test_reset_refuses_a_keep_settings_that_is_not_a_boolean(client, value):
    refused(
        await client.post("/_emulator/reset", params={"keep_settings": value}),
        "keep_settings",
        "must be a valid boolean",
    )


async def test_reset_takes_the_usual_booleans(client):
    for value in ("true", "false", "1", "0", "yes", "no"):
        answer = await client.post("/_emulator/reset", params={"keep_settings": value})
        assert answer.status_code == 200


async def test_seed_needs_its_field(client):
    refused(await client.post("/_emulator/seed", json={}), "seed", "seed is required")
    refused(await client.post("/_emulator/seed", json={"seed": "5"}), "seed", "valid integer")
    refused(await client.post("/_emulator/seed", json={"seed": True}), "seed", "valid integer")
    assert (await client.post("/_emulator/seed", json={"seed": None})).json() == {"seed": None}
    assert (await client.post("/_emulator/seed", json={"seed": 7})).json() == {"seed": 7}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({}, "seconds", "seconds is required"),
        ({"seconds": "soon"}, "seconds", "seconds: must be seconds: a number, or as '500ms'"),
        ({"seconds": True}, "seconds", "seconds: must be seconds"),
        ({"seconds": -1}, "seconds", "seconds: cannot be negative"),
        ({"seconds": "-5m"}, "seconds", "seconds: cannot be negative"),
        ({"seconds": 1e12}, "seconds", "less than or equal to"),
        ({"seconds": 5, "at": "noon"}, "at", "unknown field 'at'"),
    ],
)
async def test_clock_advance_refuses_bad_seconds(client, body, field, says):
    refused(await client.post("/_emulator/clock/advance", json=body), field, says)


async def test_clock_advance_takes_a_time_as_the_cli_and_scenarios_write_it(client):
    """One reading of durations everywhere: `ctl advance 5m`, `wait: 5m`, `after: 5m`."""
    before = (await client.get("/_emulator/clock")).json()["epoch"]
    for given in ("5m", "90", "500ms", 1.5):
        assert (
            await client.post("/_emulator/clock/advance", json={"seconds": given})
        ).status_code == 200
    after = (await client.get("/_emulator/clock")).json()["epoch"]
    assert after - before == pytest.approx(300 + 90 + 0.5 + 1.5)


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (
            {"provider": "generic", "status": 503, "cuont": 1},
            "cuont",
            "unknown field 'cuont' (did you mean 'count'?)",
        ),
        ({"status": 503}, None, "a fault names a provider, a path, or both"),
        ({"provider": "generic"}, None, "sets status, delay_ms, drop or rate_limit"),
        ({"provider": "generic", "status": 99}, "status", "greater than or equal to 100"),
        ({"path": "Rcs/api/v1/Message", "status": 503}, "path", "is not an absolute path"),
        (
            {"provider": "generic", "rate_limit": {"requests": 0, "per_seconds": 1}},
            "rate_limit.requests",
            "greater than or equal to 1",
        ),
        (
            {"provider": "generic", "rate_limit": {"requests": 1}},
            "rate_limit.per_seconds",
            "is required",
        ),
        ({"provider": "generic", "drop": "yes"}, "drop", "valid boolean"),
    ],
)
async def test_faults_are_checked_by_their_model(client, body, field, says):
    refused(await client.post("/_emulator/faults", json=body), field, says)
    assert (await client.get("/_emulator/faults")).json()["total"] == 0


async def test_inbound_names_an_unknown_field_before_what_it_leaves_missing(client):
    body = {"provider": "generic", "agent": "a", "phone": "+46701234567", "text": "hi"}
    refused(
        await client.post("/_emulator/inbound", json=body),
        "agent",
        "unknown field 'agent' (did you mean 'agent_id'?)",
    )
    body = {"provider": "genric", "agent_id": "a", "phone": "+46701234567", "text": "hi"}
    refused(
        await client.post("/_emulator/inbound", json=body),
        "provider",
        "unknown provider 'genric' (did you mean 'generic'?)",
    )


async def test_inbound_takes_exactly_one_action(client):
    both = {
        "provider": "generic",
        "agent_id": "a",
        "phone": "+46701234567",
        "text": "x",
        "postback": "y",
    }
    refused(await client.post("/_emulator/inbound", json=both), None, "exactly one of")
    refused(
        await client.post("/_emulator/inbound", json={"provider": "generic"}),
        "agent_id",
        "agent_id is required",
    )


async def test_phone_settings_refuse_unknown_fields(client):
    refused(
        await client.put("/_emulator/phones/+46701234567", json={"rcs": False}),
        "rcs",
        "unknown field 'rcs'",
    )
    refused(
        await client.put("/_emulator/phones/+46701234567", json={"rcs_capable": "no"}),
        "rcs_capable",
        "valid boolean",
    )


async def test_bodies_that_are_not_objects_are_refused(client):
    for raw in (b"[1]", b'"x"', b"{"):
        answer = await client.post(
            "/_emulator/seed", content=raw, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400 and "body" in answer.json()["error"]


def _served(app) -> set[tuple[str, str]]:
    control = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/_emulator")
    router = control.app.app  # ControlToken around the Router
    found = set()
    for route in router.routes:
        if isinstance(route, Route) and "openapi" not in route.path:
            path = "/_emulator" + route.path.replace(":path}", "}")
            found |= {(path, m.lower()) for m in route.methods or () if m != "HEAD"}
    return found


async def test_the_openapi_description_lists_every_operation_with_its_models(client):
    spec = (await client.get("/_emulator/openapi.json")).json()
    described = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert described == _served(create_app(TEST_CONFIG))
    schemas = spec["components"]["schemas"]
    fault = schemas["FaultBody"]
    assert fault["additionalProperties"] is False
    assert {
        "provider",
        "path",
        "status",
        "delay_ms",
        "drop",
        "count",
        "probability",
        "rate_limit",
    } == set(fault["properties"])
    put_agent = spec["paths"]["/_emulator/agents/{provider}/{agent_id}"]["put"]
    assert put_agent["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AgentSettingsBody"
    }
    messages = spec["paths"]["/_emulator/messages"]["get"]
    names = {p["name"] for p in messages["parameters"]}
    assert {
        "provider",
        "agent",
        "phone",
        "status",
        "tenant",
        "exchange",
        "q",
        "limit",
        "offset",
    } == names
    webhooks = spec["paths"]["/_emulator/webhooks"]["get"]
    assert {"agent", "message", "failing", "q"} <= {p["name"] for p in webhooks["parameters"]}
    conversations = spec["paths"]["/_emulator/conversations"]["get"]
    assert {"provider", "agent", "phone", "tenant", "limit", "offset"} == {
        p["name"] for p in conversations["parameters"]
    }
    assert "/_emulator/webhooks/{delivery_id}/redeliver" in spec["paths"]


async def test_a_typed_client_may_send_null_for_what_it_leaves_out(client):
    fault = {
        "provider": "generic",
        "path": None,
        "status": 503,
        "delay_ms": None,
        "drop": None,
        "count": 1,
        "probability": None,
        "rate_limit": None,
    }
    made = await client.post("/_emulator/faults", json=fault)
    assert made.status_code == 201, made.text
    assert made.json()["delay_ms"] == 0.0 and made.json()["drop"] is False
    inbound = {
        "provider": "generic",
        "agent_id": "a",
        "phone": "+46701234567",
        "text": "hi",
        "postback": None,
        "message_id": None,
        "tenant": None,
    }
    answer = await client.post("/_emulator/inbound", json=inbound)
    assert answer.status_code == 200, answer.text  # the phone writes first: a thread opens
    assert answer.json()["event"] == "message"
