"""The cassette file, as plain functions: any answer's bytes come back exactly from YAML and from
JSON, a file that is not a cassette is one line naming the place, and the key replay matches on
leaves out credentials and the fields clients add."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.cassette.capture import capture, match_key
from emulator.cassette.format import (
    Cassette,
    CassetteError,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    body_fields,
    load,
    save,
)
from emulator.providers import REGISTRY

SERWERSMS = REGISTRY.get("serwersms").real_service()  # type: ignore[union-attr]
GENERIC = REGISTRY.get("generic").real_service()  # type: ignore[union-attr]


def one(content: bytes) -> Cassette:
    response = RecordedResponse(
        status=200, headers=[("content-type", "text/plain")], **body_fields(content)
    )
    request = RecordedRequest(method="POST", path="/x", body={"text": content.decode("latin-1")})
    return Cassette(
        provider="generic",
        upstream="https://real.example",
        recorded="2025-01-01T00:00:00Z",
        interactions=[Interaction(id=1, at=0.0, request=request, response=response)],
    )


@settings(max_examples=150, deadline=None)
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_any_answer_comes_back_byte_for_byte(suffix: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"c{suffix}"
        save(one(content), path)
        assert load(path).interactions[0].response.content() == content


@pytest.mark.parametrize(
    "tricky",
    [
        "line one\nline two\n",
        "trailing spaces   \nand more  ",
        "\r\n windows\r\n",
        "tab\there",
        "  leading",
        "ünïcödé ✓ 😀",
        "\x00\x01 control",
        "key: value",
        "- a list?",
        "'quoted'",
        '{"json": true}\n',
        "",
        "\n\n\n",
        "#not a comment",
        "null",
        "123",
        "yes",
    ],
)
def test_tricky_texts_survive_yaml(tmp_path: Path, tricky: str) -> None:
    path = tmp_path / "c.yaml"
    save(one(tricky.encode()), path)
    assert load(path).interactions[0].response.content() == tricky.encode()


def test_yaml_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(one(b'{"tagId":"x"}'), path)
    text = path.read_text()
    assert "- [content-type, text/plain]" in text and 'body: \'{"tagId":"x"}\'' in text


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (  # in the words of every YAML file the emulator reads (core/yaml_errors.py)
            "cassette: 1\nprovider: [",
            "not valid YAML: line 2, column 12: expected the node content, but found '<stream end>'",
        ),
        ("- 1\n- 2\n", "a cassette is a mapping"),
        (
            "cassette: 2\nprovider: generic\nupstream: u\nrecorded: r\n",
            "cassette: Input should be 1",
        ),
        (
            "cassette: 1\nprovider: generic\nupstream: u\nrecorded: r\ninteractions:\n"
            "- {id: 1, at: 0, request: {method: GET, path: /}, response: {status: abc}}\n",
            "interactions[0].response.status: Input should be a valid integer",
        ),
        (
            "cassette: 1\nprovider: generic\nupstream: u\nrecorded: r\ninteractions:\n"
            "- {id: 1, at: 0, request: {method: GET, path: /, body: {json: 1, text: x}}, "
            "response: {status: 200}}\n",
            "interactions[0].request.body: a body is one of json, form, multipart, text, or sha256 "
            "with size",
        ),
        (
            "cassette: 1\nprovider: generic\nupstream: u\nrecorded: r\ninteraction: []\n",
            "interaction: unknown field (did you mean 'interactions'?)",
        ),
    ],
)
def test_a_file_that_is_not_a_cassette_is_one_line(tmp_path: Path, content: str, line: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(content)
    with pytest.raises(CassetteError) as raised:
        load(path)
    assert str(raised.value).startswith(f"cassette {path}: ")
    assert line in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_cassette_and_a_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="cannot be read: No such file"):
        load(tmp_path / "none.yaml")
    with pytest.raises(CassetteError, match=r"name it \.yaml, \.yml or \.json"):
        save(one(b""), tmp_path / "c.txt")


def key(
    method: str, target: str, body: bytes, upstream=SERWERSMS, ctype="application/json", headers=()
) -> bytes:
    request, _ = capture(method, target, [("content-type", ctype), *headers], body, upstream)
    return match_key(request, upstream)


def test_the_matching_key() -> None:
    base = key("POST", "/messages/send_rcs.json", b'{"phone": "1", "rcs_id": "b"}')
    # JSON keys in any order, credentials and `system` left out, the method's case
    assert (
        key(
            "post",
            "/messages/send_rcs.json",
            b'{"rcs_id": "b", "username": "u", "password": "p", "phone": "1", "system": "x"}',
        )
        == base
    )
    assert key("POST", "/messages/send_rcs.json", b'{"phone": "2", "rcs_id": "b"}') != base
    assert key("POST", "/messages/send_rcs.xml", b'{"phone": "1", "rcs_id": "b"}') != base
    assert (
        key(
            "POST",
            "/messages/send_rcs.json?username=u&password=p",
            b'{"phone": "1", "rcs_id": "b"}',
        )
        == base
    )
    # Paths without regard to case where the provider's routing has none
    assert key("GET", "/rcs/API/v1/message/Tag/x/", b"", GENERIC) == key(
        "GET", "/Rcs/api/v1/Message/Tag/x", b"", GENERIC
    )
    assert key("GET", "/Messages/view.json", b"") != key("GET", "/messages/view.json", b"")


def test_what_is_captured_of_a_request() -> None:
    request, secrets = capture(
        "POST",
        "/messages/send_rcs.json?password=p4ss",
        [
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", "Bearer t0ken"),
            ("cookie", "session=abc"),
            ("content-length", "60"),
            ("host", "h"),
        ],
        b"username=me&password=p4ss&phone%5B%5D=1&message%5Btext%5D=mentions+t0ken",
        SERWERSMS,
    )
    assert secrets == {"t0ken", "p4ss", "me", "session=abc"}
    assert request.query == "password=***"
    assert request.headers == {
        "content-type": "application/x-www-form-urlencoded",
        "authorization": "Bearer ***",
        "cookie": "***",
    }
    assert request.body == {
        "form": [
            ["username", "***"],
            ["password", "***"],
            ["phone[]", "1"],
            ["message[text]", "mentions ***"],
        ]
    }
    binary, _ = capture(
        "POST", "/x", [("content-type", "application/octet-stream")], b"\xff\xfe\x00", SERWERSMS
    )
    assert binary.body == {"sha256": hashlib.sha256(b"\xff\xfe\x00").hexdigest(), "size": 3}
