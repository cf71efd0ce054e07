"""The comparison verify makes, as plain functions: formats of ids and times, shapes of JSON and
XML bodies, headers that matter, and values where a provider asks for them."""

from __future__ import annotations

import pytest

from emulator.providers.upstream import HeaderCheck
from emulator.verify.compare import Answer, BodyKind, Rules, compare, parse_body, render
from emulator.verify.shape import same_format, text_format

RULES = Rules(
    {
        "content-type": HeaderCheck.MEDIA_TYPE,
        "www-authenticate": HeaderCheck.VALUE,
        "retry-after": HeaderCheck.PRESENCE,
    },
    ("error.code", "error.message", "errors.*.*", "items.*.status"),
)


def lines(real: bytes, emulator: bytes, real_headers=(), emulator_headers=(), status=(200, 200)):
    a = Answer(status[0], list(real_headers), real)
    b = Answer(status[1], list(emulator_headers), emulator)
    return [d.line for d in compare(a, b, RULES)]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2014-10-16 16:49:05", "time YYYY-MM-DD HH:MM:SS"),
        ("2025-03-18T14:30:00Z", "time YYYY-MM-DDTHH:MM:SSZ"),
        ("2025-05-05T11:35:07", "time YYYY-MM-DDTHH:MM:SS"),
        ("2025-05-05T11:35:07.1234567+02:00", "time YYYY-MM-DDTHH:MM:SS.F+HH:MM"),
        ("2025-05-05T11:35+0200", "time YYYY-MM-DDTHH:MM+HHMM"),
        ("2025-05-05", "date YYYY-MM-DD"),
        ("deadc0de-2bad-c4fe-feed-beefca1ff002", "uuid"),
        ("DEADC0DE-2BAD-C4FE-FEED-BEEFCA1FF002", "uuid (upper case)"),
        ("1c142d81c7", "id hex(10)"),
        ("7HydhfmN", "id alphanumeric(8)"),
        ("files/a1bcde2FGHIJKLMn3opqrs", "id token(28)"),
        ("+46701234567", "phone (E.164)"),
        ("https://tools.ietf.org/html/rfc9110", "URL"),
        ("1001", "digits"),
        ("queued", "word"),
        ("in_progress", "word"),
        ("Invalid phone number", "text"),
        ("", "empty"),
    ],
)
def test_text_formats(value: str, shown: str) -> None:
    assert text_format(value) == shown


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("id hex(10)", "id digits(10)", True),  # a hex id is all digits now and then
        ("id hex(10)", "id alphanumeric(10)", False),
        ("id hex(10)", "id hex(12)", False),
        ("id alphanumeric(10)", "word", True),  # an id of letters only reads as a word
        ("digits", "id digits(8)", True),  # a count grows longer
        ("time YYYY-MM-DD HH:MM:SS", "time YYYY-MM-DDTHH:MM:SSZ", False),
        ("uuid", "uuid (upper case)", False),
    ],
)
def test_which_formats_are_the_same(a: str, b: str, same: bool) -> None:
    assert same_format(a, b) is same and same_format(b, a) is same


def test_other_ids_and_times_in_the_same_formats_are_alike() -> None:
    assert (
        lines(
            b'{"tagId": "3fde268c-50dd-47f9-a9d7-3738556ee29d", "at": "2025-01-01T10:00:00Z"}',
            b'{"tagId": "b2221a58-008a-45a6-8464-7159c324c985", "at": "2026-12-06T07:05:58Z"}',
        )
        == []
    )


def test_shape_differences_each_say_where() -> None:
    real = b'{"items": [{"id": "1c142d81c7", "n": 1}], "errors": {"Number": ["x"]}, "more": true}'
    emulator = b'{"items": [{"id": "1c142d81c7ab", "n": "1"}], "errors": {"number[0]": ["x"]}}'
    assert lines(real, emulator) == [
        "body.items[*].id: real id hex(10), emulator id hex(12)",
        "body.items[*].n: real integer, emulator digits",
        "body.errors.Number: real array, emulator absent",
        'body.errors["number[0]"]: real absent, emulator array',
        "body.more: real boolean, emulator absent",
    ]


def test_values_count_only_where_the_provider_says_and_never_for_ids_or_times() -> None:
    real = b'{"error": {"code": 6306, "type": "RcsError", "message": "Invalid phone"}}'
    emulator = b'{"error": {"code": 6306, "type": "RcsErr", "message": "Invalid phone number"}}'
    assert lines(real, emulator) == [
        "body.error.message: real 'Invalid phone', emulator 'Invalid phone number'"
    ]
    assert lines(b'{"items": [{"status": "queued"}]}', b'{"items": [{"status": "sent"}]}') == [
        "body.items[*].status: real 'queued', emulator 'sent'"
    ]
    assert (
        lines(
            b'{"error": {"code": "2025-01-01T00:00:00Z"}}',
            b'{"error": {"code": "2025-01-02T00:00:00Z"}}',
        )
        == []
    )


def test_a_list_is_compared_by_every_key_its_items_have() -> None:
    real = b'[{"messageType": "READ"}, {"messageType": "ACTION", "reply": "Yes"}]'
    emulator = b'[{"messageType": "DELIVERED"}]'
    assert lines(real, emulator) == ["body[*].reply: real text, emulator absent"]
    assert lines(b"[]", emulator) == []  # an empty list says nothing about its items
    assert lines(b"[1]", b'["1"]') == ["body[*]: real integer, emulator string"]


def test_headers_that_matter() -> None:
    json = [("content-type", "application/json; charset=utf-8")]
    assert lines(b"{}", b"{}", json, [("content-type", "application/json")]) == []
    assert lines(b"{}", b"{}", [("content-type", "application/problem+json")], json) == [
        "header content-type: real 'application/problem+json', emulator 'application/json'"
    ]
    assert lines(
        b"",
        b"",
        [("www-authenticate", "Bearer")],
        [("www-authenticate", 'Bearer error="invalid_token"')],
    ) == ["header www-authenticate: real 'Bearer', emulator 'Bearer error=\"invalid_token\"'"]
    assert lines(b"", b"", [("retry-after", "5")], [("retry-after", "1")]) == []
    assert lines(b"", b"", [("retry-after", "5")], []) == [
        "header retry-after: real present, emulator absent"
    ]


def test_the_kind_of_body() -> None:
    assert lines(b"<html>Bad gateway</html>", b'{"tagId": "x"}', status=(502, 200)) == [
        "status: real 502, emulator 200",
        "body: real XML, emulator JSON",
    ]
    assert lines(
        b"Service down for maintenance, back at noon today, thank you for waiting!", b"{}"
    ) == [
        "body: real text 'Service down for maintenance, back at noon today, thank you ...', "
        "emulator JSON"
    ]
    assert lines(b"", b"{}") == ["body: real no body, emulator JSON"]
    assert lines(b"true", b"false") == []


def test_xml_bodies_compare_as_their_elements() -> None:
    real = b'<?xml version="1.0"?><result><error><code>1001</code><type>InvalidUser</type></error></result>'
    emulator = b'<?xml version="1.0" encoding="UTF-8"?>\n<result><error><code>1001</code><type>InvalidUser</type><message>Incorrect login or password</message></error></result>'
    assert lines(real, emulator) == [
        "body.error.message: real absent, emulator 'Incorrect login or password'"
    ]
    items = parse_body(
        b"<result><items><item><id>a1</id></item><item><id>b2</id></item></items></result>"
    )
    assert items.kind is BodyKind.XML and items.value == {"items": [{"id": "a1"}, {"id": "b2"}]}
    assert lines(b"<answer><x>1</x></answer>", b"<result><x>1</x></result>") == [
        "body (root element): real <answer>, emulator <result>"
    ]


def test_malformed_xml_is_text_and_no_entity_is_expanded() -> None:
    assert parse_body(b"<result><unclosed></result>").kind is BodyKind.TEXT
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'
        b'<!ENTITY ext SYSTEM "file:///etc/passwd">]><r>&c;&ext;</r>'
    )
    assert parse_body(bomb).kind is BodyKind.TEXT


def test_places_are_written_as_a_reader_finds_them() -> None:
    assert render(("items", "[*]", "queued")) == "body.items[*].queued"
    assert render(("errors", "number[0]")) == 'body.errors["number[0]"]'
    assert render(()) == "body"
