"""`rcs-emulator serve` on a read-only file system (`docker run --read-only`), as a private mount
namespace makes one: it starts, says once that uploads have nowhere to go, serves everything else,
and answers an upload with the provider's own error (not a trace, not a 500)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import GENERIC_AUTH
from tests.ports import free_port
from tests.robustness.process import BIN


def _can_make_a_read_only_root() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    argv = ["unshare", "-m", "sh", "-c", "mount -o remount,ro,bind / / && ! touch /ro-probe"]
    return subprocess.run(argv, capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(
    not _can_make_a_read_only_root(), reason="needs root and unshare -m for a read-only root"
)
READ_ONLY = 'mount -o remount,ro,bind / / && exec "$@"'  # in this process's own mount namespace


def test_serve_works_on_a_read_only_file_system_but_uploads(tmp_path: Path) -> None:
    port = free_port()
    serve = [str(BIN / "rcs-emulator"), "serve", "--port", str(port), "--clock", "manual"]
    argv = ["unshare", "-m", "sh", "-c", READ_ONLY, "sh", *serve]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(base + "/_emulator/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        body = {"agentId": "a", "number": ["+46701234567"], "messageType": "TextMessage"}
        body["text"] = "hi"
        sent = httpx.post(base + "/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
        assert sent.status_code == 200, sent.text
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        files = {"file": ("a.png", png, "image/png")}
        upload = httpx.post(base + "/Rcs/api/v1/UploadFile/a", headers=GENERIC_AUTH, files=files)
    finally:
        proc.terminate()
        proc.wait(20)
    assert upload.status_code == 503
    message = upload.json()["Message"]
    assert message.startswith("The emulator cannot store the file: No usable temporary directory")
    assert message.endswith(
        "Give it a writable temporary folder (docker run --tmpfs /tmp) or a state_file on a "
        "writable volume."
    )
    text = log.read_text()
    assert "Traceback" not in text
    assert (
        "WARNING:  no writable temporary folder (a read-only file system?): everything works but "
        "uploads, refused until one is given (docker run --tmpfs /tmp, or TMPDIR=...)"
    ) in text.splitlines()
