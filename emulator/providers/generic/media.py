"""Which uploads the Generic platform takes: the document's image and video types, judged by the
file's bytes as well as by what the client declares."""

from __future__ import annotations

import filetype

IMAGE_TYPES = ("image/jpeg", "image/jpg", "image/gif", "image/png")
VIDEO_TYPES = (
    "video/h263",
    "video/m4v",
    "video/mp4",
    "video/mpeg",
    "video/mpeg4",
    "video/webm",
)
ALLOWED = frozenset(IMAGE_TYPES + VIDEO_TYPES)
_ALIASES = {"image/jpg": "image/jpeg", "video/x-m4v": "video/m4v", "video/mpeg4": "video/mp4"}
_UNSPECIFIC = ("", "application/octet-stream")


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes show, among the allowed ones; None if none of them."""
    if len(head) >= 3 and head[0] == 0 and head[1] == 0 and head[2] & 0xFC == 0x80:
        return "video/h263"  # H.263 picture start code
    if head[4:8] == b"ftyp" and head[8:11] == b"M4V":
        return "video/m4v"
    kind = filetype.guess(head)
    if kind is None:
        return None
    mime = _ALIASES.get(kind.mime, kind.mime)
    if kind.mime in ("video/quicktime", "video/3gpp"):
        return None
    return mime if mime in ALLOWED else None


def accepted_type(declared: str, head: bytes) -> str | None:
    """The stored type of an upload, or None when it is refused."""
    actual = sniff(head)
    if actual is None:
        return None
    if declared in _UNSPECIFIC:
        return actual
    if declared not in ALLOWED:
        return None
    same_family = declared.split("/")[0] == actual.split("/")[0]
    return actual if same_family else None
