"""The .xml form of every answer: the same content as the JSON, as elements.

XML 1.0 cannot hold every character a JSON string can: C0 controls other than tab, line feed
and carriage return, lone surrogates, U+FFFE and U+FFFF have no form in it, not even as
character references. The answer stays well-formed whatever a client sent: each such character
is written as U+FFFD (the JSON answer and the stored message keep the text as sent), and a
carriage return as `&#13;`, so that a parser gives it back rather than reading a line feed."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

# Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT = "\ufffd"


def xml_text(value: str) -> str:
    """`value` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub(REPLACEMENT, value)


def _fill(parent: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(SubElement(parent, str(key)), child)
    elif isinstance(value, list):
        for child in value:
            _fill(SubElement(parent, "item"), child)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = xml_text(str(value))


def render(body: Any) -> bytes:
    root = Element("result")
    _fill(root, body)
    # Element names are the answer's own keys, so a carriage return can only be in a text.
    text = tostring(root, encoding="unicode").replace("\r", "&#13;")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode()
