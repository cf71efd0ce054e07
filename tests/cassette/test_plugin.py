"""A recorded session as a regression test: the pytest plugin's emulator replays the cassette
RCS_EMULATOR_REPLAY names, from the start in every test, and with RCS_EMULATOR_REPLAY_STRICT a
request the session did not hold fails the test that sent it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cassette.helpers import SEND, answer, cassette_file

pytest_plugins = ["pytester"]


def test_the_plugin_replays_a_cassette_and_fails_what_it_does_not_hold(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cassette = cassette_file(
        tmp_path, "serwersms", [{"request": SEND, "response": answer(200, '{"recorded":true}')}]
    )
    monkeypatch.setenv("RCS_EMULATOR_REPLAY", str(cassette))
    monkeypatch.setenv("RCS_EMULATOR_REPLAY_STRICT", "true")
    pytester.makepyfile(
        f"""
        import httpx

        SEND = {SEND["body"]["json"]!r}
        URL = "https://api2.serwersms.pl/messages/send_rcs.json"
        AUTH = {{"Authorization": "Bearer t"}}

        def test_recorded(rcs_mock):
            assert httpx.post(URL, json=SEND, headers=AUTH).json() == {{"recorded": True}}

        def test_recorded_again_from_the_start(rcs_mock):
            assert httpx.post(URL, json=SEND, headers=AUTH).json() == {{"recorded": True}}

        def test_not_recorded(rcs_mock):
            httpx.post(URL, json={{**SEND, "phone": "+48500600799"}}, headers=AUTH)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*refused POST /messages/send_rcs.json -> 501*"])
