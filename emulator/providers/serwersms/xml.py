"""The .xml form of every answer: the same content as the JSON, as elements."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring


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
        parent.text = str(value)


def render(body: Any) -> bytes:
    root = Element("result")
    _fill(root, body)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()
