"""One master of a real three-master Redis Cluster lost (kill -9), without a replica and with one:
two real `rcs-emulator serve` processes go on serving the tenants of the other masters (send,
read, advance, callbacks: no 503), the lost master's tenants get their provider's own 503 until
it answers again (or its replica takes over, found by the processes themselves), `/ready` says
which shard answers (and 503 for a tenant it cannot serve), and each process says the outage in
one timestamped line when it begins and one when it ends. (How long the others' calls take
meanwhile is measured in bench/shards.py: a test asserts no duration.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from emulator.engines.redis import keys
from emulator.testing import WebhookReceiver
from tests.redis_server import RedisCluster
from tests.robustness.process import Served
from tests.scale.deployment import (
    WAIT,
    advance,
    callbacks,
    listed,
    put_agent,
    send,
    sent,
    tenants_by_master,
    until,
)

ENV = {"RCS_EMULATOR_WEBHOOK_TIMEOUT": "2"}
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"


@pytest.fixture(params=[0, 1], ids=["without-replica", "with-replica"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisCluster]:
    made = RedisCluster(tmp_path / "cluster", replicas=request.param).start()
    yield made
    made.stop()


def test_a_lost_master_stops_its_own_tenants_only(cluster: RedisCluster, tmp_path: Path) -> None:
    by_master = tenants_by_master(cluster)
    lost_port, lost = next(iter(by_master.items()))
    lost_key = lost[0]
    others = [keys[0] for port, keys in by_master.items() if port != lost_port]
    processes = [
        Served(tmp_path / f"{name}.log", "--state", cluster.url, "--clock", "manual", env=ENV)
        for name in ("a", "b")
    ]
    try:
        with WebhookReceiver() as hooks:
            a, b = processes
            for key in [lost_key, *others]:
                put_agent(a.base_url, "bot", hooks.url, tenant=key)
            before = {key: sent(a.base_url, key, "+46701234501") for key in [lost_key, *others]}

            cluster.node(lost_port).kill()

            # Its tenants: the provider's own 503 (Generic's problem details), on both.
            for served in processes:
                down = send(served.base_url, lost_key, "+46701234502")
                if not cluster.replicas:  # (with one, a failover may be quick)
                    assert down.status_code == 503, down.text
                if down.status_code == 503:
                    assert down.headers["content-type"].startswith("application/problem+json")
                    assert down.json()["status"] == 503
                ready = httpx.get(served.base_url + "/_emulator/ready", timeout=WAIT)
                assert ready.status_code == 200  # it serves the other tenants
                shards = ready.json()["state"]["shards"]
                assert len(shards) == 3 and all(len(s["partitions"]) == 4 for s in shards)
            # The others' tenants: sends, reads, their own time and their callbacks, on both
            # processes, while the master is lost.
            for i, key in enumerate(others):
                for served in processes:
                    tag = sent(served.base_url, key, f"+4670123460{i}")
                    assert tag in {m["batch"] for m in listed(served.base_url, key)}
                    assert before[key] in {m["batch"] for m in listed(served.base_url, key)}
                    moved = advance(served.base_url, 120, key)
                    assert moved.status_code == 200, moved.text
                    single = httpx.get(
                        served.base_url + "/_emulator/ready", timeout=WAIT, params={"tenant": key}
                    )
                    assert single.status_code == 200
            others_messages = {m["id"] for key in others for m in listed(a.base_url, key)}
            until(
                lambda: {mid for (_, mid) in callbacks(hooks.calls)} >= others_messages,
                "the other tenants' callbacks",
            )

            if cluster.replicas:  # its replica takes over: found by the processes themselves
                for served in processes:
                    until(
                        lambda s=served: (
                            send(s.base_url, lost_key, "+46701234503").status_code == 200
                        ),
                        "the failed-over shard's tenant served",
                    )
            else:
                not_ready = httpx.get(
                    a.base_url + "/_emulator/ready", params={"tenant": lost_key}, timeout=WAIT
                )
                assert not_ready.status_code == 503
                assert any(s["reachable"] is False for s in not_ready.json()["state"]["shards"])
                cluster.node(lost_port).start()  # the same folder: its AOF brings it all back
                for served in processes:
                    until(
                        lambda s=served: (
                            send(s.base_url, lost_key, "+46701234503").status_code == 200
                        ),
                        "the restarted shard's tenant served",
                    )
            assert before[lost_key] in {m["batch"] for m in listed(b.base_url, lost_key)}
            advance(a.base_url, 120, lost_key)
            everyone = {m["id"] for key in [lost_key, *others] for m in listed(a.base_url, key)}
            until(
                lambda: {mid for (_, mid) in callbacks(hooks.calls)} >= everyone,
                "every tenant's callbacks",
            )
            assert set(callbacks(hooks.calls).values()) == {1}  # none made twice
    finally:
        for served in processes:
            served.stop()
    for served in processes:
        said = served.text()
        lost_lines = [
            line
            for line in said.splitlines()
            if f"cannot be reached at 127.0.0.1:{lost_port}" in line
        ]
        assert len(lost_lines) == 1, said
        ended = [
            line
            for line in said.splitlines()
            if f"answers again at 127.0.0.1:{lost_port}" in line or "are served by" in line
        ]
        assert len(ended) == 1, said
        for line in lost_lines + ended:
            assert re.search(rf"WARNING:  {STAMP}: ", line), line


def test_a_send_is_answered_once_its_replica_has_it(tmp_path: Path) -> None:
    """state_wait_replicas 1: a send's commit waits (WAIT) for the replica of its shard, so the
    replica holds the message when the send is answered (a failover then loses no
    acknowledged send)."""
    made = RedisCluster(tmp_path / "cluster", replicas=1).start()
    served = Served(
        tmp_path / "a.log",
        "--state",
        made.url,
        "--clock",
        "manual",
        env={"RCS_EMULATOR_STATE_WAIT_REPLICAS": "1"},
    )
    try:
        key = "waiting-tenant-key"
        partition = keys.partition_of(key)
        master = made.master_of(keys.slot(keys.TAGS[partition]))
        replicas = []
        for node in made.nodes:
            client = redis.Redis(port=node.port)
            if client.info("replication").get("master_port") == master.port:
                replicas.append(client)
            else:
                client.close()
        assert replicas
        for i in range(20):
            sent(served.base_url, key, f"+4670123480{i % 10}")
            newest = listed(served.base_url, key)[-1]["id"]
            for replica in replicas:
                replica.execute_command("READONLY")
                where = keys.ROOTS[partition] + "0:" + keys.PARTITION["where"][0]
                assert replica.hget(where, newest) is not None
        for replica in replicas:
            replica.close()
    finally:
        served.stop()
        made.stop()
