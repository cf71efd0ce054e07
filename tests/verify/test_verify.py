"""`rcs-emulator verify` against a fake real provider (the emulator with deliberate deviations):
an identical one passes, each deviation is caught with one precise line, a slow or failing
service is that request's difference, a service that is down or answers garbage is one line and
exit 2, and no credential is ever printed or written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.cli import main
from tests.fake_provider import (
    GENERIC_AGENT,
    GENERIC_KEY,
    SERWERSMS_BOT,
    SERWERSMS_TOKEN,
    Deviations,
    add_fault,
    closed_port,
    garbage_server,
    real_provider,
)

GENERIC = ["--provider", "generic", "--credentials", f"key={GENERIC_KEY}", f"agent={GENERIC_AGENT}"]
SERWERSMS = [
    "--provider",
    "serwersms",
    "--credentials",
    f"token={SERWERSMS_TOKEN}",
    f"rcs_id={SERWERSMS_BOT}",
]
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


def verify(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = main(["verify", "--url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def lines_of(out: str, probe: str) -> list[str]:
    """The lines of one request in the printed report: its own, and its differences below."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[1:2] == [probe])
    following = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("      "):
            break
        following.append(line.strip())
    return following


@pytest.mark.parametrize("provider", [GENERIC, SERWERSMS], ids=["generic", "serwersms"])
def test_an_identical_service_has_no_difference(
    capsys: pytest.CaptureFixture[str], provider: list[str]
) -> None:
    with real_provider() as real:
        code, out, err = verify(capsys, real.base_url, *provider)
    assert (code, err) == (0, "")
    assert "DIFF" not in out
    sent = [line for line in out.splitlines() if line.startswith("ok ")]
    assert len(sent) >= 9
    assert "requests differ; " in out and "not sent (they send a message" in out
    assert all(
        line.startswith(("ok", "skip", "rcs-emulator", "sends:", "0 of")) or not line
        for line in out.splitlines()
    ), out


def test_sends_only_with_allow_sends_and_then_every_kind_compares(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with real_provider() as real:
        code, out, _ = verify(
            capsys,
            real.base_url,
            *SERWERSMS,
            "--allow-sends",
            "--to",
            "+48500600700",
            "--settle",
            "0",
        )
        sent = messages(real.base_url)
    assert code == 0, out
    for probe in (
        "send-text",
        "send-file",
        "send-rich-card",
        "send-carousel",
        "view-sent",
        "reports-sent",
    ):
        assert lines_of(out, probe)[0].startswith("ok "), out
    # What reached the fake real service: one message of each kind, to the number given only
    # (the over-long text is refused there as here, so it never becomes a message).
    assert sorted(m["kind"] for m in sent) == ["carousel", "file", "richcard", "text"]
    assert {m["phone"] for m in sent} == {"+48500600700"}


def test_without_allow_sends_nothing_reaches_a_phone(capsys: pytest.CaptureFixture[str]) -> None:
    for provider in (GENERIC, SERWERSMS):
        with real_provider() as real:
            code, out, _ = verify(capsys, real.base_url, *provider)
            assert code == 0, out
            assert messages(real.base_url) == []
        assert lines_of(out, "send-text")[0].split()[0] == "skip"


def messages(base_url: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base_url}/_emulator/messages", params={"exchange": "false"})
    return list(response.json()["items"])


def test_another_error_text_is_one_precise_line(capsys: pytest.CaptureFixture[str]) -> None:
    deviations = Deviations(texts={"Authorization header missing.": "Missing bearer token"})
    with real_provider(deviations) as real:
        code, out, _ = verify(capsys, real.base_url, *GENERIC)
    assert code == 1
    assert lines_of(out, "no-key")[1:] == [
        "body.detail: real 'Missing bearer token', emulator 'Authorization header missing.'"
    ]
    assert "1 of 9 requests differ" in out


def test_an_extra_field_is_one_precise_line(capsys: pytest.CaptureFixture[str]) -> None:
    deviations = Deviations(extra_in_error={"hint": "see https://example.com/errors"})
    with real_provider(deviations) as real:
        code, out, _ = verify(capsys, real.base_url, *SERWERSMS)
    assert code == 1
    # Every JSON error envelope has it; the XML answer is left as it was.
    assert lines_of(out, "bad-number")[1:] == ["body.error.hint: real text, emulator absent"]
    assert lines_of(out, "xml")[0].startswith("ok ")


def test_another_time_format_is_caught_where_a_time_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with real_provider(Deviations(iso_times=True)) as real:
        code, out, _ = verify(
            capsys,
            real.base_url,
            *SERWERSMS,
            "--allow-sends",
            "--to",
            "+48500600700",
            "--settle",
            "0",
        )
    assert code == 1
    assert lines_of(out, "send-text")[1:] == [
        "body.items[*].queued: real time YYYY-MM-DDTHH:MM:SSZ, emulator time YYYY-MM-DD HH:MM:SS"
    ]
    assert "body.queued: real time YYYY-MM-DDTHH:MM:SSZ, emulator time YYYY-MM-DD HH:MM:SS" in (
        lines_of(out, "view-sent")
    )


def test_a_failing_service_is_that_requests_difference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with real_provider() as real:
        add_fault(real, path=f"/Rcs/api/v1/Message/{NO_SUCH_ID}", status=503, count=1)
        code, out, err = verify(capsys, real.base_url, *GENERIC)
    assert (code, err) == (1, "")
    assert lines_of(out, "unknown-message")[1:] == [
        "status: real 503, emulator 404",
        "body.type: real 'https://tools.ietf.org/html/rfc9110#section-15.6.4', "
        "emulator 'https://tools.ietf.org/html/rfc9110#section-15.5.5'",
        "body.title: real 'Service Unavailable', emulator 'Not Found'",
        "body.status: real 503, emulator 404",
        "body.detail: real absent, emulator 'No message was found with this id.'",
    ]
    assert lines_of(out, "unknown-tag")[0].startswith("ok ")  # the others go on


def test_a_slow_service_and_a_dropped_connection_are_lines_not_tracebacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with real_provider() as real:
        add_fault(real, path=f"/Rcs/api/v1/Message/Tag/{NO_SUCH_ID}", delay_ms=5000, count=1)
        add_fault(real, path=f"/Rcs/api/v1/Message/{NO_SUCH_ID}", drop=True, count=1)
        code, out, err = verify(capsys, real.base_url, *GENERIC, "--timeout", "0.5")
    assert (code, err) == (1, "")
    base = f"{real.base_url}/Rcs/api/v1"
    assert lines_of(out, "unknown-tag")[1:] == [
        f"answer: real {base} gave no answer within 0.5 s, emulator an HTTP answer"
    ]
    [dropped] = lines_of(out, "unknown-message")[1:]
    assert dropped.startswith(f"answer: real {base} ") and "emulator an HTTP answer" in dropped
    assert "Traceback" not in out + err


def test_a_service_that_is_down_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = closed_port()
    code, out, err = verify(capsys, url, *GENERIC)
    assert code == 2
    assert err.splitlines() == [
        f"rcs-emulator: cannot reach {url}/Rcs/api/v1: All connection attempts failed"
    ]
    assert "Traceback" not in out + err


def test_a_service_that_answers_garbage_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with garbage_server() as url:
        code, out, err = verify(capsys, url, *SERWERSMS)
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"rcs-emulator: {url} did not answer as an HTTP server does (")
    assert "Traceback" not in out + err


def test_no_credential_is_printed_or_written_even_when_the_service_echoes_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake real service puts the token in an error text; verify prints and writes none of it.
    deviations = Deviations(texts={"Invalid phone number": f"Invalid phone for {SERWERSMS_TOKEN}"})
    monkeypatch.setenv("MY_TOKEN", SERWERSMS_TOKEN)
    with real_provider(deviations) as real:
        code, out, err = verify(
            capsys,
            real.base_url,
            "--provider",
            "serwersms",
            "--credentials",
            "token=env:MY_TOKEN",
            f"rcs_id={SERWERSMS_BOT}",
            "--allow-sends",
            "--to",
            "+48500600700",
            "--settle",
            "0",
            "--report",
            str(tmp_path / "report.json"),
        )
    assert code == 1
    assert "body.error.message: real 'Invalid phone for ***', emulator 'Invalid phone number'" in (
        lines_of(out, "bad-number")
    )
    written = (tmp_path / "report.json").read_text() + (tmp_path / "report.txt").read_text()
    assert SERWERSMS_TOKEN not in out + err + written
    assert "500600700" not in out + err + written  # the user's own number shows masked
    assert "+485******00" in written


def test_the_report_is_json_and_the_same_text_as_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    deviations = Deviations(texts={"Authorization header missing.": "Missing bearer token"})
    with real_provider(deviations) as real:
        code, out, _ = verify(
            capsys, real.base_url, *GENERIC, "--report", str(tmp_path / "out" / "generic.json")
        )
    assert code == 1
    report = json.loads((tmp_path / "out" / "generic.json").read_text())
    text = (tmp_path / "out" / "generic.txt").read_text()
    assert report["provider"] == "generic" and report["url"] == f"{real.base_url}/Rcs/api/v1"
    assert report["summary"] == {"requests": 15, "same": 8, "different": 1, "skipped": 6}
    [different] = [r for r in report["results"] if r["state"] == "different"]
    assert different["name"] == "no-key"
    assert different["differences"] == [
        {
            "where": "body.detail",
            "real": "'Missing bearer token'",
            "emulator": "'Authorization header missing.'",
            "line": "body.detail: real 'Missing bearer token', emulator 'Authorization header missing.'",
        }
    ]
    assert (
        different["real"]["status"] == 401 and "Missing bearer token" in different["real"]["body"]
    )
    assert different["request"] == {
        "method": "POST",
        "path": "/Message",
        "headers": {},
        "body": '{"agentId":"verify_agent","number":["+12"],"messageType":"TextMessage",'
        '"text":"rcs-emulator verify"}',
    }
    bad_key = next(r for r in report["results"] if r["name"] == "bad-number")
    assert bad_key["request"]["headers"] == {"Authorization": "Bearer ***"}
    for line in text.splitlines()[2:]:  # the heading aside, the text is what was printed
        assert line in out.splitlines()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--allow-sends"], "--allow-sends and --to NUMBER go together"),
        (["--to", "+48500600700"], "--allow-sends and --to NUMBER go together"),
        (["--allow-sends", "--to", "500600700"], "--to 500600700: a number in international form"),
        (["--credentials", "key=k", "agnet=a"], "unknown name 'agnet' (did you mean agent?)"),
        (["--credentials", "key=k"], "--credentials: needs agent=..."),
        (["--credentials", "just-a-secret"], "--credentials takes NAME=VALUE"),
        (
            ["--credentials", "key=env:RCS_NO_SUCH_VARIABLE", "agent=a"],
            "the variable RCS_NO_SUCH_VARIABLE is not set",
        ),
        (["--timeout", "0"], "--timeout 0: must be a positive number"),
    ],
)
def test_a_mistake_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    given = ["--credentials", "key=my-secret-key", "agent=a"] if "--credentials" not in args else []
    code = main(["verify", "--provider", "generic", "--url", "http://127.0.0.1:9", *given, *args])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("rcs-emulator: ") and said in line
    assert "my-secret-key" not in line and "just-a-secret" not in line


def test_a_url_with_credentials_in_it_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "verify",
            "--provider",
            "generic",
            "--url",
            "https://me:pw@api.example.com",
            "--credentials",
            "key=k",
            "agent=a",
        ]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        "rcs-emulator: --url: the URL holds credentials: give them with --credentials instead\n"
    )


def test_a_mistyped_flag_never_repeats_a_credential(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "verify",
            "--provider",
            "generic",
            "--url",
            "http://x",
            "--credentails",
            "key=my-secret-key",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "my-secret-key" not in err and "key=***" in err


def test_list_says_what_would_be_sent_and_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--provider", "serwersms", "--list"]) == 0
    out = capsys.readouterr().out
    assert (
        "bad-credentials" in out and "only with --allow-sends: POST messages/send_rcs.json" in out
    )


def test_a_report_that_cannot_be_written_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a folder")
    with real_provider() as real:
        code, out, err = verify(
            capsys, real.base_url, *GENERIC, "--report", str(tmp_path / "file" / "report.json")
        )
    assert code == 2 and "0 of 9 requests differ" in out
    assert err == (
        f"rcs-emulator: --report {tmp_path}/file/report.json: cannot be written: File exists\n"
    )
