"""examples/demo: the consumer answers the user end to end against a live emulator (as
`docker compose up` runs it, without the engine), and the compose file fits the image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator import Config, EmulatorServer
from emulator.client import EmulatorHandle
from tests.ports import free_port

DEMO = Path(__file__).parents[1] / "examples" / "demo"
GENERIC_PHONE, SERWERSMS_PHONE = "+46701234567", "+48500600700"


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("the consumer never answered")
        time.sleep(0.05)


@pytest.fixture
def demo() -> Iterator[EmulatorHandle]:
    port = free_port()
    config = Config(clock="manual", port=0, webhook_url=f"http://127.0.0.1:{port}/webhook")
    with EmulatorServer(config) as server:
        env = os.environ | {
            "EMULATOR_URL": server.base_url,
            "PORT": str(port),
            "GENERIC_PHONE": GENERIC_PHONE,
            "SERWERSMS_PHONE": SERWERSMS_PHONE,
        }
        consumer = subprocess.Popen(
            [sys.executable, str(DEMO / "consumer.py")], env=env, stderr=subprocess.PIPE, text=True
        )
        handle = EmulatorHandle(server.base_url)
        try:
            yield handle
            assert handle.surprises() == [], "a request was refused or a webhook not accepted"
        finally:
            handle.close()
            consumer.terminate()
            _, log = consumer.communicate(timeout=10)
            print(log)


def messages_to(handle: EmulatorHandle, phone: str, count: int) -> list[dict[str, Any]]:
    return eventually(
        lambda: (found := handle.messages(phone=phone)) and len(found) >= count and found
    )


def test_the_consumer_greets_and_answers_on_both_providers(demo: EmulatorHandle):
    (greeting,) = messages_to(demo, GENERIC_PHONE, 1)
    assert greeting["provider"] == "generic" and greeting["agent_id"] == "demo_shop"
    assert greeting["text"].startswith("Welcome to the Demo Shop")
    chips = [(s["label"], s["kind"]) for s in greeting["suggestions"]]
    assert chips == [
        ("See offers", "reply"),
        ("Opening hours", "reply"),
        ("Visit the shop", "url"),
        ("Call us", "dial"),
    ]
    (serwersms,) = messages_to(demo, SERWERSMS_PHONE, 1)
    assert serwersms["provider"] == "serwersms" and serwersms["text"] == greeting["text"]

    # A tap on "See offers": the real callback reaches the consumer, which sends a carousel.
    demo.inbound("generic", "demo_shop", GENERIC_PHONE, postback="offers")
    offers = messages_to(demo, GENERIC_PHONE, 2)[-1]
    assert offers["kind"] == "carousel"
    cards = offers["content"]["carouselContent"]["richCardContents"]
    (picture,) = demo.files()
    assert [c["title"] for c in cards] == ["A mug", "A T-shirt", "A cap"]
    assert {c["fileId"] for c in cards} == {picture["id"]}
    demo.inbound("generic", "demo_shop", GENERIC_PHONE, postback="buy-cap")
    assert messages_to(demo, GENERIC_PHONE, 3)[-1]["text"].startswith("A cap is yours")

    # SerwerSMS: a typed message and a tap, each answered through send_rcs.
    demo.inbound("serwersms", serwersms["agent_id"], SERWERSMS_PHONE, text="Do you ship to Kraków?")
    echo = messages_to(demo, SERWERSMS_PHONE, 2)[-1]
    assert (
        echo["text"]
        == "You wrote: \u201cDo you ship to Kraków?\u201d. I am a demo bot; pick an option:"
    )
    demo.inbound("serwersms", serwersms["agent_id"], SERWERSMS_PHONE, postback="offers")
    carousel = messages_to(demo, SERWERSMS_PHONE, 3)[-1]
    assert carousel["kind"] == "carousel" and len(carousel["content"]["cards"]) == 3
    assert carousel["content"]["cards"][0]["media"]["url"].endswith(
        f"/_emulator/files/{picture['id']}/content"
    )
    # Every callback the consumer got was accepted at the first attempt.
    reactions = [w for w in demo.webhooks() if w["event"] in ("reply", "message")]
    assert len(reactions) == 4
    assert all(w["state"] == "delivered" and len(w["attempts"]) == 1 for w in reactions)


def test_the_compose_file_fits_the_image_and_the_consumer():
    compose = yaml.safe_load((DEMO / "docker-compose.yml").read_text())
    emulator, consumer = compose["services"]["emulator"], compose["services"]["consumer"]
    dockerfile = (DEMO / emulator["build"] / "Dockerfile").read_text()
    assert "EXPOSE 8080" in dockerfile and "HEALTHCHECK" in dockerfile
    assert emulator["ports"] == ["${DEMO_PORT:-8080}:8080"]  # the host side moves
    assert consumer["environment"]["PUBLIC_EMULATOR_URL"] == "http://localhost:${DEMO_PORT:-8080}"
    # Its faster health probe is the image's own command.
    healthcheck = next(line for line in dockerfile.splitlines() if line.strip().startswith("CMD ["))
    assert json.loads(healthcheck.strip()[4:]) == emulator["healthcheck"]["test"][1:]
    # The emulator's settings are real config keys, and its callbacks go to the consumer's port.
    config = Config.from_sources(env=emulator["environment"])
    assert config.webhook_url == f"http://consumer:{consumer['environment']['PORT']}/webhook"
    assert config.scenario == "default" and config.seed == 42
    source, target = emulator["volumes"][0].split(":")[:2]
    assert (DEMO / source).is_dir() and target == "/config"
    # The consumer runs the file next to it, reaches the emulator by its service name, and waits
    # for the HEALTHCHECK.
    mounted = consumer["volumes"][0].split(":")
    assert (DEMO / mounted[0]).is_file() and consumer["command"][-1] == mounted[1]
    assert consumer["environment"]["EMULATOR_URL"] == "http://emulator:8080"
    assert consumer["depends_on"]["emulator"]["condition"] == "service_healthy"


def test_the_scale_example_fits_the_image_redis_and_the_balancer():
    scale = DEMO.parent / "scale"
    compose = yaml.safe_load((scale / "docker-compose.yml").read_text())
    services = compose["services"]
    replicas = [name for name in services if name.startswith("emulator-")]
    assert len(replicas) == 3
    configs = [Config.from_sources(env=services[name]["environment"]) for name in replicas]
    # One config for all (a replica with another would be refused), on the shared Redis.
    assert len({c.model_dump_json() for c in configs}) == 1
    config = configs[0]
    assert config.state == "redis://redis:6379/0"
    # ... which the image can serve: it installs the Redis engine, an extra of the package.
    dockerfile = (scale / compose["services"][replicas[0]]["build"] / "Dockerfile").read_text()
    assert "-c requirements.lock '.[redis]'" in dockerfile
    consumer = services["consumer"]
    assert config.webhook_url == f"http://consumer:{consumer['environment']['PORT']}/webhook"
    assert consumer["environment"]["EMULATOR_URL"] == "http://balancer:8080"
    for name in replicas:
        source = services[name]["volumes"][0].split(":")[0]
        assert (scale / source).is_dir()
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert (scale / consumer["volumes"][0].split(":")[0]).is_file()
    # Redis keeps what it acknowledged (AOF, fsync'd on every write).
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "always"
    # The balancer's one port reaches every replica, the live stream unbuffered.
    nginx = (scale / services["balancer"]["volumes"][0].split(":")[0]).read_text()
    assert all(f"server {name}:8080" in nginx for name in replicas)
    assert "proxy_buffering off" in nginx and services["balancer"]["ports"] == ["8080:8080"]
