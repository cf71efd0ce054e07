"""`emulator.mock()` outside pytest, as its users meet it: a unittest suite run by `python -m
unittest`, and plain scripts, each in its own process (no pytest plugin anywhere near)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples" / "unittest"


def run_python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    return run_python(str(path), cwd=tmp_path)


def test_the_unittest_example_passes_under_unittest() -> None:
    done = run_python("-m", "unittest", "-v", "test_shop", cwd=EXAMPLES)
    assert done.returncode == 0, done.stderr
    assert "Ran 2 tests" in done.stderr and done.stderr.rstrip().endswith("OK")


def test_the_readme_shows_the_unittest_example_verbatim() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert (EXAMPLES / "test_shop.py").read_text().strip() in readme


def test_a_test_case_method_decorated_or_with_a_block(tmp_path: Path) -> None:
    path = tmp_path / "test_cases.py"
    path.write_text(
        textwrap.dedent("""
        import unittest

        import httpx

        import emulator

        URL = "https://api2.serwersms.pl/messages/send_rcs.json"
        TOKEN = {"Authorization": "Bearer t"}


        class Cases(unittest.TestCase):
            @emulator.mock(scenario="chatty", seed=3)
            def test_decorated_method(self, rcs):
                httpx.post(URL, headers=TOKEN, json={"rcs_id": "b", "phone": "500600700",
                                                     "message": {"text": "Hi"}})
                self.assertEqual(rcs.health()["scenario"], "chatty")
                self.assertEqual([m["phone"] for m in rcs.messages()], ["+48500600700"])

            def test_a_block(self):
                with emulator.mock() as rcs:
                    httpx.post(URL, headers=TOKEN, json={"rcs_id": "b", "phone": "600700800",
                                                         "message": {"text": "Hi"}})
                    rcs.advance(60)
                    self.assertEqual(rcs.messages()[0]["status"], "read")

            def test_each_block_starts_empty(self):
                with emulator.mock() as rcs:
                    self.assertEqual(rcs.messages(), [])


        if __name__ == "__main__":
            unittest.main()
    """)
    )
    done = run_python("-m", "unittest", "test_cases", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Ran 3 tests" in done.stderr


def test_a_script_with_a_block_a_sync_and_an_async_function(tmp_path: Path) -> None:
    done = script(
        tmp_path,
        """
        import asyncio

        import httpx

        import emulator

        URL = "https://api.genericmobile.se/Rcs/api/v1/Message"
        KEY = {"Authorization": "Bearer k"}
        BODY = {"agentId": "a", "number": ["+46701234567"], "messageType": "Text", "text": "x"}

        with emulator.mock() as rcs:
            assert httpx.post(URL, json=BODY, headers=KEY).status_code == 200
            rcs.advance(10)
            print("block", [m["status"] for m in rcs.messages()])

        @emulator.mock(seed=1)
        def sync_job(greeting, rcs):
            httpx.post(URL, json=BODY, headers=KEY)
            return greeting, len(rcs.messages())

        print("sync", *sync_job("hello"))

        @emulator.mock()
        async def async_job(rcs):
            async with httpx.AsyncClient() as client:
                await client.post(URL, json=BODY, headers=KEY)
            return len(rcs.messages())

        print("async", asyncio.run(async_job()))

        async def with_async_block():
            async with emulator.mock() as rcs:
                async with httpx.AsyncClient() as client:
                    await client.post(URL, json=BODY, headers=KEY)
                return rcs.messages()[0]["phone"]

        print("async block", asyncio.run(with_async_block()))
    """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "block ['read']",
        "sync hello 1",
        "async 1",
        "async block +46701234567",
    ]


def test_other_clients_are_stopped_before_the_network(tmp_path: Path) -> None:
    done = script(
        tmp_path,
        """
        import asyncio
        import urllib.request

        import aiohttp
        import requests

        import emulator
        from emulator.fail_closed import RealProviderCalled

        URL = "https://api2.serwersms.pl/messages/send_rcs.json"

        async def with_aiohttp():
            async with aiohttp.ClientSession() as session:
                async with session.post(URL, json={}) as response:
                    return response.status

        with emulator.mock() as rcs:
            for name, call in [("requests", lambda: requests.post(URL, json={}, timeout=5)),
                               ("urllib", lambda: urllib.request.urlopen(URL, b"{}", timeout=5)),
                               ("aiohttp", lambda: asyncio.run(with_aiohttp()))]:
                try:
                    call()
                except RealProviderCalled as exc:
                    print(name, "stopped:", str(exc).split(";")[0])
            # other clients reach the emulator at its base_url
            answer = requests.post(rcs.base_url + "/messages/send_rcs.json", timeout=5,
                                   headers={"Authorization": "Bearer t"},
                                   json={"rcs_id": "b", "phone": "500600700",
                                         "message": {"text": "x"}})
            print("base_url", answer.json()["queued"])
    """,
    )
    assert done.returncode == 1, done.stdout  # the calls were caught, so the block's end fails
    said = "stopped: rcs-emulator: the mocked block called the real provider (POST " + (
        "https://api2.serwersms.pl/messages/send_rcs.json)"
    )
    assert done.stdout.splitlines() == [
        f"requests {said}",
        f"urllib {said}",
        f"aiohttp {said}",
        "base_url 1",
    ]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "emulator.fail_closed.RealProviderCalled: rcs-emulator: the mocked "
        "block called the real provider (POST https://api2"
    )
    assert "and went on" in last


def test_routing_and_guards_end_with_the_block(tmp_path: Path) -> None:
    done = script(
        tmp_path,
        """
        import httpcore
        import requests.adapters

        import emulator

        before = (httpcore.ConnectionPool.handle_request, requests.adapters.HTTPAdapter.send)
        with emulator.mock() as rcs:
            inside = (httpcore.ConnectionPool.handle_request, requests.adapters.HTTPAdapter.send)
            base_url = rcs.base_url
        after = (httpcore.ConnectionPool.handle_request, requests.adapters.HTTPAdapter.send)
        print(before != inside, before == after)
        try:
            requests.get(base_url + "/_emulator/health", timeout=2)
        except requests.ConnectionError:
            print("stopped with the block")
    """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["True True", "stopped with the block"]


def test_the_readme_script_runs_as_written(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    body = readme.split("And a script:\n\n```python\n", 1)[1].split("```", 1)[0]
    done = script(tmp_path, body)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "+48500600700"
    assert "-> serwersms my-bot text: 'Hi!'  (status read)" in lines[1]
    assert any(line.strip().endswith("<- message") or "<- message '" in line for line in lines)
