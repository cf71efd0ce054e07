"""A Redis Cluster of three masters, each with `replicas` replicas (Debian's redis-server, AOF
fsync'd on every write as the scale example ships it), for the benchmarks: started, joined with
`redis-cli --cluster create`, its replicas synced, and each node's pid for its CPU."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis

from .common import BOTH_CORES, free_port, pinned, redis_argv


@dataclass
class Cluster:
    ports: list[int]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.poll() is None]

    def master_of(self, slot: int) -> int:
        """The port of the master serving a slot (asked of a node that answers)."""
        for port in self.ports:
            client = redis.Redis(port=port)
            with contextlib.suppress(redis.RedisError):
                for start, end, master, *_ in client.cluster("slots"):
                    if start <= slot <= end:
                        client.close()
                        return int(master[1])
            client.close()
        raise RuntimeError(f"no node serves slot {slot}")

    def process_of(self, port: int) -> subprocess.Popen[bytes]:
        return self.procs[self.ports.index(port)]


def _port() -> int:
    while True:  # (its bus port, 10000 above, must exist too)
        port = free_port()
        if port + 10000 <= 65535:
            return port


@contextlib.contextmanager
def cluster(replicas: int = 1, fsync: str = "always") -> Iterator[Cluster]:
    folder = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    made = Cluster([_port() for _ in range(3 * (1 + replicas))])
    try:
        for port in made.ports:
            node = folder / str(port)
            node.mkdir()
            argv = [
                *redis_argv(port, node, fsync=fsync),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--cluster-require-full-coverage",
                "no",
            ]
            made.procs.append(subprocess.Popen(pinned(BOTH_CORES, argv), stdout=subprocess.DEVNULL))
        for port in made.ports:
            answering(port)
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in made.ports),
                "--cluster-replicas",
                str(replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while not _whole(made, replicas):
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not become whole")
            time.sleep(0.1)
        yield made
    finally:
        for proc in made.procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def answering(port: int) -> None:
    """Once the redis-server on `port` answers (10 s at most)."""
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(redis.RedisError):
            client.ping()
            break
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.02)
    client.close()


def _whole(made: Cluster, replicas: int) -> bool:
    """Every node says the cluster is ok, and every replica's link to its master is up."""
    synced = 0
    for port in made.ports:
        client = redis.Redis(port=port)
        try:
            if client.cluster("info").get("cluster_state") != "ok":
                return False
            info = client.info("replication")
            synced += info.get("role") == "slave" and info.get("master_link_status") == "up"
        except redis.RedisError:
            return False
        finally:
            client.close()
    return synced == 3 * replicas
