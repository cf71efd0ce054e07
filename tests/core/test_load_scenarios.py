"""Realistic load: scenario delays as distributions and outcomes mixed by weight, seeded and
reproducible, and GET /_emulator/stats to check a run against what its scenario set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import Config, EmulatorServer
from emulator.core.scenarios import ScenarioError, parse_scenario
from tests.conftest import SERWERSMS_AUTH, advance, open_client

pytestmark = pytest.mark.anyio

BOT = "load-bot"


def scenario_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "load.yaml"
    path.write_text(text)
    return str(path)


async def send_to(client: httpx.AsyncClient, count: int, prefix: str = "+4850060") -> None:
    """One SerwerSMS request to `count` numbers (it takes up to 100,000)."""
    phones = [f"{prefix}{i:04d}" for i in range(count)]
    body = {"rcs_id": BOT, "phone": phones, "message": {"text": "Your parcel is on its way"}}
    answer = await client.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
    assert answer.json()["queued"] == count, answer.text


async def stats(client: httpx.AsyncClient, **query: Any) -> dict[str, Any]:
    answer = await client.get("/_emulator/stats", params=query)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


LOGNORMAL = """
name: network
default:
  - {after: {lognormal: {median: 2, p99: 30}}, event: delivered}
  - {after: {exponential: {mean: 4}}, event: read}
"""


async def test_a_seeded_lognormal_lands_near_its_median_and_p99(tmp_path, mode, redis_url):
    config = Config(clock="manual", seed=20240601, scenario=scenario_file(tmp_path, LOGNORMAL))
    async with open_client(mode, config, redis_url) as client:
        await send_to(client, 4000)
        await advance(client, 86400)
        found = await stats(client, provider="serwersms")
    assert found["total"] == 4000 and found["statuses"]["read"] == 4000
    delivered = found["latency"]["sent_to_delivered"]
    assert delivered["count"] == 4000
    assert delivered["p50"] == pytest.approx(2.0, rel=0.08)
    assert delivered["p99"] == pytest.approx(30.0, rel=0.15)
    read = found["latency"]["delivered_to_read"]
    assert read["mean"] == pytest.approx(4.0, rel=0.08)  # an exponential's mean
    assert read["p50"] == pytest.approx(4.0 * 0.6931, rel=0.1)  # ... and its median, mean x ln 2


async def test_the_same_seed_gives_the_same_run(tmp_path):
    runs = []
    for _ in range(2):
        config = Config(clock="manual", seed=99, scenario=scenario_file(tmp_path, LOGNORMAL))
        async with open_client("asgi", config) as client:
            await send_to(client, 300)
            await advance(client, 86400)
            runs.append((await stats(client))["latency"])
    assert runs[0] == runs[1]
    assert runs[0]["sent_to_delivered"]["p50"] != runs[0]["sent_to_delivered"]["p90"]


MIX = """
name: mixed
mix:
  - {weight: 90, name: reads, timeline: [{after: 1, event: delivered}, {after: 2, event: read}]}
  - {weight: 7, timeline: [{after: 1, event: delivered}]}
  - {weight: 3, timeline: [{after: [1, 5], event: undelivered}]}
rules:
  - name: all-fail
    match: {prefix: "+48600"}
    mix: [{weight: 1, timeline: [{after: 1, event: failed}]}]
"""


async def test_a_mix_splits_recipients_by_weight(tmp_path, mode, redis_url):
    config = Config(clock="manual", seed=5, scenario=scenario_file(tmp_path, MIX))
    async with open_client(mode, config, redis_url) as client:
        await send_to(client, 3000)
        await send_to(client, 10, prefix="+4860000")
        await advance(client, 60)
        statuses = (await stats(client))["statuses"]
        described = (await client.get("/_emulator/scenarios")).json()
    assert sum(statuses.values()) == 3010
    assert statuses["read"] == pytest.approx(2700, abs=75)
    assert statuses["delivered"] == pytest.approx(210, abs=45)
    assert statuses["undelivered"] == pytest.approx(90, abs=30)
    assert statuses["failed"] == 10
    [mixed] = [s for s in described["items"] if s["name"] == "mixed"]
    assert mixed["mix"][0] == {
        "weight": 90.0,
        "name": "reads",
        "timeline": [{"after": 1.0, "event": "delivered"}, {"after": 2.0, "event": "read"}],
    }
    assert mixed["mix"][2]["timeline"][0]["after"] == [1.0, 5.0]


FIXED = """
name: fixed
default:
  - {after: 2, event: delivered}
  - {after: "1m", event: read}
"""


async def test_stats_count_statuses_and_filter(tmp_path, mode, redis_url):
    config = Config(clock="manual", scenario=scenario_file(tmp_path, FIXED))
    async with open_client(mode, config, redis_url) as client:
        await send_to(client, 3)
        generic = await client.post(
            "/Rcs/api/v1/Message",
            headers={"Authorization": "Bearer k2"},
            json={
                "agentId": "g",
                "number": ["+46701234567"],
                "messageType": "TextMessage",
                "text": "hi",
            },
        )
        assert generic.status_code == 200
        await advance(client, 10)  # delivered, not read yet
        everything = await stats(client)
        assert everything["total"] == 4
        assert everything["statuses"]["delivered"] == 4 and everything["statuses"]["read"] == 0
        assert everything["latency"]["sent_to_delivered"] == {
            "count": 4,
            "min": 2.0,
            "mean": 2.0,
            "p50": 2.0,
            "p90": 2.0,
            "p95": 2.0,
            "p99": 2.0,
            "max": 2.0,
        }
        assert everything["latency"]["delivered_to_read"] == {"count": 0}
        await advance(client, 60)
        found = await stats(client, agent="g")
        assert found["total"] == 1 and found["latency"]["delivered_to_read"]["p50"] == 60.0
        assert (await stats(client, tenant="test-token"))["total"] == 3
        assert (await stats(client, provider="generic"))["total"] == 1
        # A thread a phone opened is the phone's message, not one the agent sent.
        opened = await client.post(
            "/_emulator/inbound",
            json={"provider": "generic", "agent_id": "g", "phone": "+46709999999", "text": "hi"},
        )
        assert opened.status_code == 200
        assert (await stats(client))["total"] == 4
        refused = await client.get("/_emulator/stats", params={"agnt": "g"})
        assert refused.status_code == 400
        assert refused.json()["error"] == (
            "unknown filter 'agnt' (did you mean 'agent'?) (this one takes: provider, agent, tenant)"
        )


@pytest.mark.parametrize(
    ("after", "problem"),
    [
        (
            {"lognormal": {"median": 2}},
            "lognormal: give the median and exactly one of p90, p95, p99 or sigma (got none)",
        ),
        ({"lognormal": {"median": 2, "p99": 30, "p90": 9}}, "exactly one of"),
        ({"lognormal": {"median": 5, "p99": 3}}, "lognormal: p99 must be above the median (5)"),
        ({"lognormal": {"median": 0, "sigma": 1}}, "lognormal: the median must be above 0"),
        (
            {"lognormal": {"median": 2, "p98": 30}},
            "lognormal: unknown parameter 'p98' (it takes median, max, sigma, p90, p95, p99)",
        ),
        ({"exponential": {}}, "exponential: mean is required"),
        ({"normal": {"mean": 5}}, "normal: sd is required"),
        ({"normal": {"mean": 5, "sd": -1}}, "normal: sd: cannot be negative"),
        ({"poisson": {"mean": 1}}, "a delay distribution is one of lognormal, exponential, normal"),
        ({"lognormal": 3}, "lognormal: its parameters are a mapping"),
        ({"exponential": {"mean": "soon"}}, "exponential: mean: must be seconds: a number"),
        (float("inf"), "must be seconds: a number, or as '500ms', '2s', '5m', '1h'"),
    ],
)
def test_distribution_errors_name_the_step_and_the_rule(after, problem):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario({"name": "x", "default": [{"after": after, "event": "read"}]}, "s.yaml")
    assert str(caught.value).startswith("s.yaml: at default[0].after: ")
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("data", "place", "problem"),
    [
        (
            {"name": "x", "default": [], "mix": [{"weight": 1}]},
            "top level",
            "a scenario's default has a timeline or a mix of timelines, not both",
        ),
        ({"name": "x", "mix": [{"weight": 0}]}, "mix[0].weight", "greater than 0"),
        ({"name": "x", "mix": []}, "mix", "at least 1 item"),
        (
            {"name": "x", "mix": [{"weight": 1, "timline": []}]},
            "mix[0]",
            "unknown key 'timline' (did you mean 'timeline'?)",
        ),
        (
            {
                "name": "x",
                "rules": [
                    {"name": "r", "match": {"prefix": "+4"}, "timeline": [], "mix": [{"weight": 1}]}
                ],
            },
            "rules[0] (r)",
            "a rule has a timeline or a mix of timelines, not both",
        ),
    ],
)
def test_mix_errors_name_the_place(data, place, problem):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, "s.yaml")
    assert f"at {place}: " in str(caught.value), str(caught.value)
    assert problem in str(caught.value)


def test_a_pending_distribution_step_and_an_opened_thread_survive_a_restart(tmp_path):
    config = Config(
        clock="manual",
        seed=3,
        port=0,
        state_file=str(tmp_path / "state.json"),
        scenario=scenario_file(tmp_path, LOGNORMAL),
    )
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as client:
        body = {"rcs_id": BOT, "phone": "+48500600700", "message": {"text": "hi"}}
        assert (
            client.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH).json()[
                "queued"
            ]
            == 1
        )
        opened = client.post(
            "/_emulator/inbound",
            json={
                "provider": "serwersms",
                "agent_id": BOT,
                "phone": "+48500600701",
                "text": "hello",
                "tenant": "test-token",
            },
        )
        assert opened.status_code == 200
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as client:
        assert client.post("/_emulator/clock/advance", json={"seconds": 86400}).status_code == 200
        kinds = {m["kind"]: m["status"] for m in client.get("/_emulator/messages").json()["items"]}
        assert kinds == {"text": "read", "user": "read"}
        reports = client.post("/messages/reports.json", json={}, headers=SERWERSMS_AUTH).json()
        assert [i["phone"] for i in reports["items"]] == ["+48500600700"]
