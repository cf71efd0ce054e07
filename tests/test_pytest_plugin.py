"""The pytest plugin, as a user meets it: a pytest run (pytester) of a suite that only uses the
fixtures. The README's examples run as a user runs them, in a pytest process of their own; the
other suites run inside this process (a fresh pytest session each, without an interpreter's
start-up)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import Config, EmulatorServer
from tests.inprocess import runpytest

pytest_plugins = ["pytester"]
EXAMPLES = Path(__file__).parent.parent / "examples" / "pytest"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return runpytest(pytester, "-p", "anyio", "-p", "no:cacheprovider", *args)


def run_apart(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """In a pytest process of its own, with the plugin found through its entry point."""
    return pytester.runpytest_subprocess("-p", "anyio", "-p", "no:cacheprovider", *args)


def user_suite(pytester: pytest.Pytester) -> None:
    """The README's examples as a user's suite: no conftest (anyio's runs asyncio by default)."""
    for path in EXAMPLES.glob("test_*.py"):
        pytester.makepyfile(**{path.stem: path.read_text()})


def test_the_readme_examples_pass_as_a_user_suite(pytester: pytest.Pytester) -> None:
    user_suite(pytester)
    result = run_apart(pytester)
    result.assert_outcomes(passed=2)


def test_the_readme_shows_the_examples_verbatim() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for path in EXAMPLES.glob("test_*.py"):
        assert path.read_text().strip() in readme, path.name


def test_user_suite_under_xdist(pytester: pytest.Pytester) -> None:
    user_suite(pytester)
    pytester.makepyfile(
        test_isolation="""
        import httpx, pytest

        @pytest.mark.parametrize("n", range(6))
        def test_each_sees_only_its_own(rcs_mock, n):
            httpx.post("https://api2.serwersms.pl/messages/send_rcs",
                       headers={"Authorization": "Bearer t"},
                       json={"rcs_id": "b", "phone": f"50060070{n}", "message": {"text": "x"}})
            assert [m["phone"] for m in rcs_mock.messages()] == [f"+4850060070{n}"]
        """
    )
    result = run(pytester, "-n", "2")
    result.assert_outcomes(passed=8)


def test_sync_async_and_requests_clients(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest, requests

        KEY = {"Authorization": "Bearer k"}
        BODY = {"agentId": "a", "number": ["+46701234567"], "messageType": "Text", "text": "x"}
        URL = "https://api.genericmobile.se/Rcs/api/v1/Message"

        def test_sync(rcs_mock):
            with httpx.Client() as client:
                assert client.post(URL, json=BODY, headers=KEY).status_code == 200
            assert len(rcs_mock.messages(provider="generic")) == 1

        @pytest.mark.anyio
        async def test_async(rcs_mock):
            async with httpx.AsyncClient() as client:
                response = await client.post(URL, json=BODY, headers=KEY)
            assert response.status_code == 200

        def test_other_hosts_are_untouched(rcs_mock, rcs_webhook_receiver):
            response = httpx.post(rcs_webhook_receiver.url, json={"hello": 1})
            assert response.status_code == 200
            assert rcs_webhook_receiver.calls[0]["json"] == {"hello": 1}

        def test_requests_against_base_url(rcs_emulator):
            url = rcs_emulator.base_url + "/Rcs/api/v1/Message"
            assert requests.post(url, json=BODY, headers=KEY, timeout=10).status_code == 200
            assert rcs_emulator.messages()[0]["phone"] == "+46701234567"

        def test_reset_between_tests(rcs_emulator):
            assert rcs_emulator.messages() == []
        """
    )
    run(pytester).assert_outcomes(passed=5)


def test_marker_gives_a_test_its_own_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest

        @pytest.mark.rcs_emulator(scenario="no-rcs", seed=5)
        def test_no_rcs(rcs_mock):
            r = httpx.post("https://api.genericmobile.se/Rcs/api/v1/Capability/a",
                           headers={"Authorization": "Bearer k"}, content='"+46701234567"')
            assert r.json() is False
            assert rcs_mock.health()["scenario"] == "no-rcs"

        def test_default(rcs_emulator):
            assert rcs_emulator.health()["scenario"] == "default"
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_surprises_fail_the_test_unless_expected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        URL = "https://api.genericmobile.se/Rcs/api/v1/Message"

        def test_malformed_request(rcs_mock):
            httpx.post(URL, headers={"Authorization": "Bearer k"}, json={"agentId": "a"})

        def test_expected_refusal(rcs_mock):
            rcs_mock.expect_errors("request")
            assert httpx.post(URL, json={}).status_code == 401

        def test_webhook_down(rcs_mock):
            rcs_mock.set_agent("generic", "a", webhook_url="http://127.0.0.1:9/down")
            httpx.post(URL, headers={"Authorization": "Bearer k"}, json={
                "agentId": "a", "number": ["+46701234567"], "messageType": "Text", "text": "x"})
            rcs_mock.advance(10)

        def test_refused_get(rcs_mock):
            httpx.get("https://api.genericmobile.se/Rcs/api/v1/Message/Agent/a?limit=abc",
                      headers={"Authorization": "Bearer k"})
        """
    )
    result = run(pytester)
    # each surprise is one failure of the test that caused it, not a pass and an error
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    assert "refused POST /Rcs/api/v1/Message -> 400" in out
    assert 'sent: {"agentId":"a"}' in out
    assert "webhook to http://127.0.0.1:9/down attempt 1" in out
    assert "refused GET /Rcs/api/v1/Message/Agent/a?limit=abc -> 400" in out
    assert "ERROR at teardown" not in out


def test_marker_misuse_is_one_clear_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.rcs_emulator("chatty")
        def test_positional(rcs_emulator):
            pass

        @pytest.mark.rcs_emulator(scenaro="chatty")
        def test_typo(rcs_emulator):
            pass

        @pytest.mark.rcs_emulator(clock="manual", speed=60)
        def test_contradiction(rcs_emulator):
            pass

        @pytest.mark.rcs_emulator(scenario="chaty")
        def test_scenario_typo(rcs_emulator):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=4)
    out = result.stdout.str()
    assert (
        "usage: @pytest.mark.rcs_emulator takes config fields as keywords, e.g. "
        "@pytest.mark.rcs_emulator(scenario='chatty'); it was given 'chatty' by position"
    ) in out
    assert (
        "usage: @pytest.mark.rcs_emulator(...): unknown setting 'scenaro' (did you mean 'scenario'?)"
        in out
    )
    assert "speed 60 goes with a scaled clock, not a manual one" in out
    assert (
        "usage: @pytest.mark.rcs_emulator(...): unknown scenario 'chaty' (did you mean "
        "'chatty'?); known: chatty, default, no-rcs"
    ) in out
    assert "Traceback" not in out and "emulator/config.py" not in out
    assert "emulator/app.py" not in out and "emulator/core/scenarios.py" not in out
    # Each error is its line, under pytest's own header of the test it belongs to.
    assert len(out.split("= ERRORS =", 1)[1].split("short test summary")[0].splitlines()) < 20
    assert "During handling of the above exception" not in out  # no chained ConfigError


def test_advance_reads_a_time_as_the_cli_and_files_write_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_minutes(rcs_emulator):
            before = rcs_emulator.advance(0)["epoch"]
            assert rcs_emulator.advance("5m")["epoch"] - before == 300

        def test_backwards(rcs_emulator):
            with pytest.raises(AssertionError) as refused:
                rcs_emulator.advance(-5)
            assert str(refused.value) == (
                "emulator POST /clock/advance: 400 seconds: cannot be negative")
        """
    )
    run(pytester).assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "http://127.0.0.1:9",
            "rcs-emulator: RCS_EMULATOR_URL=http://127.0.0.1:9: no emulator answers there (",
        ),
        ("127.0.0.1:9", "rcs-emulator: RCS_EMULATOR_URL=127.0.0.1:9: no emulator answers there ("),
        (
            "ftp://127.0.0.1:9",
            "rcs-emulator: RCS_EMULATOR_URL=ftp://127.0.0.1:9: 'ftp://127.0.0.1:9' is not an emulator's URL (ftp:// is not http:// or https://), as http://127.0.0.1:8080",
        ),
    ],
)
def test_an_emulator_url_that_is_not_one_fails_each_test_with_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("RCS_EMULATOR_URL", url)
    pytester.makepyfile(
        "def test_one(rcs_emulator):\n    pass\n\ndef test_two(rcs_mock):\n    pass\n"
    )
    result = run(pytester)
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    # The errors section, once per test; the short summary may repeat it (untruncated when CI is set).
    errors = out.split("short test summary info")[0]
    assert errors.count(says) == 2, out
    assert "Traceback" not in out and "httpx" not in out.replace(says, "")
    assert len(out.splitlines()) < 30, out


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        (
            "RCS_EMULATOR_CLOCK",
            "sundial",
            "rcs-emulator: RCS_EMULATOR_CLOCK=sundial: must be one of real, scaled, manual, not 'sundial'",
        ),
        (
            "RCS_EMULATOR_SCENARIO",
            "chaty",
            "rcs-emulator: unknown scenario 'chaty' (did you mean 'chatty'?); known: chatty, default, no-rcs",
        ),
    ],
)
def test_a_session_config_it_cannot_start_with_is_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    pytester.makepyfile("def test_one(rcs_emulator):\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert says in out
    assert "Traceback" not in out and "emulator/" not in out


def test_an_emulator_url_without_its_scheme_is_read_as_http(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmulatorServer(Config(port=0, clock="manual")) as server:
        monkeypatch.setenv("RCS_EMULATOR_URL", server.base_url.removeprefix("http://"))
        pytester.makepyfile(
            """
            def test_it(rcs_emulator, rcs_emulator_url):
                assert rcs_emulator_url.startswith("http://127.0.0.1:")
                rcs_emulator.set_agent("generic", "a", name="Shop")
            """
        )
        run(pytester).assert_outcomes(passed=1)


def test_a_wait_that_times_out_says_why_nothing_came(pytester: pytest.Pytester) -> None:
    """The two ways a newcomer waits for nothing: a manual clock never advanced, an agent
    without a webhook URL; and a receiver that is not the one the agent calls."""
    pytester.makepyfile(
        """
        import httpx

        GENERIC = "https://api.genericmobile.se/Rcs/api/v1"
        KEY = {"Authorization": "Bearer k"}
        BODY = {"agentId": "shop", "number": ["+46700000004"], "messageType": "TextMessage",
                "text": "hi"}

        def test_forgets_advance(rcs_mock, rcs_webhook_receiver):
            rcs_mock.set_agent("generic", "shop", webhook_url=rcs_webhook_receiver.url)
            httpx.post(f"{GENERIC}/Message", headers=KEY, json=BODY)
            rcs_webhook_receiver.wait(lambda calls: len(calls) == 2, timeout=0.2)

        def test_advances_too_little(rcs_mock, rcs_webhook_receiver):
            rcs_mock.set_agent("generic", "shop", webhook_url=rcs_webhook_receiver.url)
            httpx.post(f"{GENERIC}/Message", headers=KEY, json=BODY)
            rcs_mock.advance("500ms")
            rcs_webhook_receiver.wait(timeout=0.2)

        def test_forgets_the_url(rcs_mock, rcs_webhook_receiver):
            httpx.post(f"{GENERIC}/Message", headers=KEY, json=BODY)
            rcs_mock.advance("1m")
            rcs_webhook_receiver.wait(lambda calls: len(calls) == 2, timeout=0.2)

        def test_another_receiver(rcs_mock, rcs_webhook_receiver):
            rcs_mock.set_agent("generic", "shop", webhook_url="http://127.0.0.1:9/other")
            httpx.post(f"{GENERIC}/Message", headers=KEY, json=BODY)
            rcs_mock.expect_errors("webhook")
            rcs_mock.advance(60)
            rcs_webhook_receiver.wait(timeout=0.2)
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    assert (
        "E       - the emulator's clock is manual: time stands still until the test advances it, "
        "and this test never did, so 1 message still waits for its scenario's first step "
        "(delivered, read...): call rcs_emulator.advance(60) (or '5m') before waiting"
    ) in out
    assert (
        "E       - 1 message still waits for its scenario's next step after "
        "rcs_emulator.advance() moved time 0.5 s in all: advance further"
    ) in out
    assert (
        "E       - generic agent shop has no webhook URL (rcs_emulator.set_agent('generic', "
        "'shop', webhook_url=rcs_webhook_receiver.url), or webhook_url in the config)"
    ) in out
    assert "E       - callbacks went to http://127.0.0.1:9/other, not to this receiver (" in out
    assert "emulator/testing.py" not in out  # the test's own line, not the wait's loop


def test_every_fixture_says_what_it_is(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--fixtures")
    out = result.stdout.str()
    for fixture in (
        "rcs_emulator",
        "rcs_mock",
        "rcs_webhook_receiver",
        "rcs_emulator_config",
        "rcs_emulator_tenant",
    ):
        entry = out.split(f"\n{fixture} ", 1)[1].split("\n\n", 1)[0]
        assert "no docstring available" not in entry, (fixture, entry)


def test_a_mistyped_variable_is_named_in_the_header_and_the_warnings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCS_EMULATOR_SCENARO", "chatty")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    said = (
        "rcs-emulator: RCS_EMULATOR_SCENARO is not a setting of rcs-emulator (did you mean "
        "RCS_EMULATOR_SCENARIO?); it is ignored"
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, warnings=1)
    assert said in result.stdout.str()
    quiet = run(pytester, "-q")  # no header: the warnings summary says it
    quiet.assert_outcomes(passed=1, warnings=1)
    assert f"PytestConfigWarning: {said}" in quiet.stdout.str()
    # Where warnings are errors, it is one, in one line, before any test runs.
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    strict = run(pytester, "-q")
    assert strict.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in strict.stderr.lines if line] == [
        f"ERROR: {said} (a warning this run's filters make an error)"
    ]


def test_real_provider_hosts_are_never_reached(pytester: pytest.Pytester) -> None:
    """Fail closed: httpx without rcs_mock, and requests, are stopped before the network, and
    the test fails even when the code under test swallows the error."""
    pytester.makepyfile(
        """
        import httpx, pytest, requests

        def test_httpx_without_the_mock(rcs_emulator):
            httpx.post("https://api.genericmobile.se/Rcs/api/v1/Message", json={})

        def test_requests_swallowed(rcs_emulator):
            try:
                requests.post("https://api2.serwersms.pl/messages/send_rcs.json", json={},
                              timeout=5)
            except Exception:
                pass  # an over-eager client retries or logs and goes on

        def test_without_any_fixture():
            httpx.get("https://api2.serwersms.pl/messages/reports.json")

        def test_urllib(rcs_emulator):
            import urllib.request
            urllib.request.urlopen("https://api.genericmobile.se/Rcs/api/v1/Message", b"{}",
                                   timeout=5)

        @pytest.mark.anyio
        async def test_aiohttp_swallowed(rcs_emulator):
            import aiohttp
            try:
                async with aiohttp.ClientSession() as session:
                    await session.get("https://api2.serwersms.pl/messages/reports.json")
            except Exception:
                pass

        def test_urllib_to_the_emulator_is_fine(rcs_emulator):
            import urllib.request
            with urllib.request.urlopen(rcs_emulator.base_url + "/_emulator/health") as r:
                assert r.status == 200

        def test_the_mock_routes_them(rcs_mock):
            r = httpx.post("https://api.genericmobile.se/Rcs/api/v1/Capability/a",
                           headers={"Authorization": "Bearer k"}, content='"+46701234567"')
            assert r.status_code == 200
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=2, failed=5)
    out = result.stdout.str()
    assert "this test called the real provider (POST https://api.genericmobile.se" in out
    assert "(POST https://api2.serwersms.pl/messages/send_rcs.json)" in out
    assert "use the rcs_mock fixture" in out
    assert "FAILED test_real_provider_hosts_are_never_reached.py::test_urllib - " in out
    assert "called the real provider (GET https://api2.serwersms.pl/messages/reports.json)" in out
    assert "FAILED test_real_provider_hosts_are_never_reached.py::test_aiohttp_swallowed" in out


def test_failing_test_shows_the_conversations(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_fails(rcs_mock):
            httpx.post("https://api2.serwersms.pl/messages/send_rcs",
                       headers={"Authorization": "Bearer t"},
                       json={"rcs_id": "bot", "phone": "100000004", "message": {
                           "text": "Pick one", "suggestions": [
                               {"reply": {"text": "Yes", "postback": "yes"}}]}})
            rcs_mock.advance(60)
            assert False, "on purpose"
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "rcs-emulator conversations" in out
    assert "+48100000004" in out
    assert "-> serwersms bot text: 'Pick one' [Yes] (status read)" in out
    assert "<- reply 'Yes' (postback 'yes')" in out
