"""Connections are served with TCP_NODELAY on asyncio's own loop too (where uvloop is not
installed): without it each response written in two parts waited out Nagle against the client's
delayed ACK, ~40 ms a request (bench/loop.py found it: 22 requests/s on one connection)."""

from __future__ import annotations

import subprocess

from tests.robustness.process import BIN

# The emulator as installed without uvloop, asked which loop it runs and whether the server's
# end of a keep-alive connection has TCP_NODELAY.
CHECK = """
import socket, sys
sys.modules['uvloop'] = None
import httpx
from emulator import Config, EmulatorServer

with EmulatorServer(Config(port=0)) as server, httpx.Client() as client:
    client.get(server.base_url + '/_emulator/health').raise_for_status()
    [connection] = server._server.server_state.connections
    sock = connection.transport.get_extra_info('socket')
    print(type(connection.loop).__module__)
    print(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
"""


def test_asyncios_loop_serves_with_tcp_nodelay() -> None:
    argv = [str(BIN / "python"), "-c", CHECK]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loop, nodelay = done.stdout.split()
    assert loop.startswith("asyncio")  # not uvloop: the loop that needs it set
    assert nodelay == "1"
