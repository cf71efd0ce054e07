"""The package as a library user installs it: the runtime holds what a memory-only emulator needs
(the server, the pytest plugin, emulator.mock()); the Redis engine is the `redis` extra, and
asking for it without the extra is one line naming the extra."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from tests.robustness.process import BIN

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# The Redis engine's libraries, blocked in a subprocess as if the extra were not installed.
WITHOUT_REDIS = "import sys; sys.modules.update(dict.fromkeys(('redis', 'msgpack', 'hiredis')))\n"


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=;! ]", requirement, maxsplit=1)[0].lower()


def _python(code: str) -> subprocess.CompletedProcess[str]:
    argv = [str(BIN / "python"), "-c", WITHOUT_REDIS + code]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_the_runtime_leaves_redis_to_its_extra_and_serves_without_extras() -> None:
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    assert not runtime & {"redis", "hiredis", "msgpack"}
    assert not [r for r in PROJECT["dependencies"] if r.startswith("uvicorn[")]  # no [standard]
    assert {"httptools", "uvicorn"} <= runtime  # the server's protocol imports httptools
    extras = PROJECT["optional-dependencies"]
    assert {_name(r) for r in extras["redis"]} == {"redis", "msgpack"}
    assert "rcs-emulator[redis]" in extras["dev"]  # the suite runs on Redis too
    assert {"Framework :: Pytest", "Typing :: Typed"} <= set(PROJECT["classifiers"])
    assert PROJECT["urls"]


def test_a_memory_emulator_its_plugin_and_mock_need_no_redis_library() -> None:
    done = _python(
        "import httpx, emulator, emulator.pytest_plugin\n"
        "with emulator.mock() as rcs:\n"
        "    httpx.post('https://api.genericmobile.se/Rcs/api/v1/Message',\n"
        "               headers={'Authorization': 'Bearer k'},\n"
        "               json={'agentId': 'a', 'number': ['+46700000003'],\n"
        "                     'messageType': 'TextMessage', 'text': 'hi'})\n"
        "    rcs.advance(60)\n"
        "    print([m['status'] for m in rcs.messages()])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('redis', 'msgpack')\n"
        "             and sys.modules[m] is not None))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['delivered']", "[]"]


def test_a_redis_state_without_the_extra_is_one_line_naming_it() -> None:
    said = (
        "the Redis engine is the extra rcs-emulator[redis], not installed here (no redis or "
        "msgpack): pip install 'rcs-emulator[redis]' (in a checkout: pip install -e '.[redis]')"
    )
    serve = "from emulator.cli import main\nsys.exit(main({args}))"
    done = _python(serve.format(args="['serve', '--state', 'redis://127.0.0.1:1/0']"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"rcs-emulator: --state redis://127.0.0.1:1/0: {said}"]
    assert done.stdout == ""
    variable = "import os\nos.environ['RCS_EMULATOR_STATE'] = 'redis://r:6379/0'\n"
    done = _python(variable + serve.format(args="['serve', '--port', '0']"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"rcs-emulator: RCS_EMULATOR_STATE=redis://r:6379/0: {said}"
    ]
