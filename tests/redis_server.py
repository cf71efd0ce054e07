"""A real redis-server (Debian's package) on a free loopback port in a temporary folder, with
AOF on, and a real three-master Redis Cluster of them: what the emulator's shared state is
tested against.

The AOF is written before Redis answers, so a redis-server killed with SIGKILL loses nothing it
acknowledged whatever its fsync; fsync only guards against the machine's own crash. Tests
therefore leave fsync to the system (`appendfsync no`), but for the tests about durability,
which run Redis as the scale example ships it (`always`)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Literal

import pytest
import redis
from redis.cluster import RedisCluster as ClusterClient

from tests.ports import free_port

Fsync = Literal["always", "everysec", "no"]  # Redis's appendfsync


class RedisServer:
    def __init__(
        self,
        folder: Path,
        port: int | None = None,
        snapshots_only: bool = False,
        cluster: bool = False,
        fsync: Fsync = "no",
        extra: tuple[str, ...] = (),
    ) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.snapshots_only = snapshots_only  # as Debian's default: no AOF, SAVE writes dump.rdb
        self.cluster = cluster  # a node of a Redis Cluster (RedisCluster below makes one)
        self.fsync = fsync
        self.extra = extra  # more of redis-server's flags
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, wait: bool = True) -> RedisServer:
        """Started; with `wait`, once it answers (a Redis loading its data does not yet)."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "the shared-state tests need redis-server: apt-get install redis-server "
                "(make test installs it)"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        argv += ["--save", "", "--loglevel", "warning", "--appendfsync", self.fsync]
        argv += ["--appendonly", "no" if self.snapshots_only else "yes"]
        if self.cluster:
            argv += [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--cluster-require-full-coverage",
                "no",
            ]
        argv += list(self.extra)
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait:
            return self
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        client.close()
        return self

    def kill(self) -> None:
        """kill -9: what the AOF holds is all that survives."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class RedisCluster:
    """Three masters, each a RedisServer node (and `replicas` replicas of each), joined with
    `redis-cli --cluster create`: the hash slots spread over them, as tenants' keys then are.
    A lost master stops only its own slots (cluster-require-full-coverage no)."""

    def __init__(self, folder: Path, replicas: int = 0) -> None:
        self.replicas = replicas
        self.nodes = [
            RedisServer(folder / f"node{i}", node_port(), cluster=True)
            for i in range(3 * (1 + replicas))
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def start(self) -> RedisCluster:
        for node in self.nodes:
            node.start()
        create = subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{n.port}" for n in self.nodes),
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if create.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {create.stdout}{create.stderr}")
        deadline = time.monotonic() + 20
        for node in self.nodes:  # every node agrees the cluster is whole
            client = redis.Redis(port=node.port)
            while client.cluster("info").get("cluster_state") != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError("the Redis Cluster did not become ready")
                time.sleep(0.05)
            client.close()
        while self.replicas and self._synced() < 3 * self.replicas:  # (each can take over)
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster's replicas did not sync")
            time.sleep(0.05)
        return self

    def _synced(self) -> int:
        """Replicas whose link to their master is up (a replica never synced cannot fail over)."""
        synced = 0
        for node in self.nodes:
            client = redis.Redis(port=node.port)
            try:
                info = client.info("replication")
                synced += info.get("role") == "slave" and info.get("master_link_status") == "up"
            finally:
                client.close()
        return synced

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def node(self, port: int) -> RedisServer:
        return next(n for n in self.nodes if n.port == port)

    def master_of(self, slot: int) -> RedisServer:
        """The node serving a hash slot now (asked of any node that answers)."""
        for node in self.nodes:
            if node.process is None:
                continue
            client = redis.Redis(port=node.port)
            try:
                for start, end, master, *_ in client.cluster("slots"):
                    if start <= slot <= end:
                        return self.node(int(master[1]))
            except redis.RedisError:
                continue
            finally:
                client.close()
        raise RuntimeError(f"no node of the cluster serves slot {slot}")


def node_port() -> int:
    """A free port whose cluster bus port (10000 above it) is free too, and exists."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


def is_cluster(url: str) -> bool:
    client = redis.Redis.from_url(url)
    try:
        return bool(client.info("server").get("redis_mode") == "cluster")
    finally:
        client.close()


def whole(url: str) -> redis.Redis | ClusterClient:
    """A client of the whole state: a cluster client on a Redis Cluster."""
    return ClusterClient.from_url(url) if is_cluster(url) else redis.Redis.from_url(url)


def masters(url: str) -> list[redis.Redis]:
    """A client of each master (of a single Redis, the one)."""
    if not is_cluster(url):
        return [redis.Redis.from_url(url)]
    client = redis.Redis.from_url(url)
    try:
        nodes = client.cluster("nodes")  # "host:port" (its bus port after an @): the node
    finally:
        client.close()
    addresses = [a.split("@")[0].rsplit(":", 1) for a, n in nodes.items() if "master" in n["flags"]]
    return [redis.Redis(host=host, port=int(port)) for host, port in addresses]


def flush(url: str) -> None:
    """Forget everything a Redis (every master of a Redis Cluster) holds: the next emulator on it
    begins a new state."""
    for node in masters(url):
        try:
            node.flushall()
        finally:
            node.close()
