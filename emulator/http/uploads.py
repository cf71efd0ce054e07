"""Reading one uploaded file from a multipart body as a stream: the bytes go to a temporary file
as they arrive, so memory stays flat whatever the size, and reading stops at the size limit."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request


class UploadTooLarge(Exception):
    pass


class NotMultipart(Exception):
    pass


class MalformedUpload(Exception):
    pass


@dataclass
class UploadedFile:
    name: str
    content_type: str
    size: int
    head: bytes  # the first bytes, for sniffing the real type
    file: IO[bytes] = field(repr=False)


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    field_name: str | None = None
    filename: str | None = None
    sink: IO[bytes] | None = None
    size: int = 0
    head: bytes = b""


async def read_file_field(request: Request, field_name: str, max_bytes: int) -> UploadedFile | None:
    """The part named `field_name`, spooled to disk; other fields are read and dropped."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise NotMultipart()
    found: list[_Part] = []
    current = _Part()
    header_name = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        nonlocal current
        current = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        current.headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, disp = parse_options_header(current.headers.get(b"content-disposition", b""))
        name = disp.get(b"name")
        current.field_name = name.decode("utf-8", "replace") if name is not None else None
        filename = disp.get(b"filename")
        current.filename = filename.decode("utf-8", "replace") if filename is not None else None
        if current.field_name == field_name and not found:
            current.sink = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
            found.append(current)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if current.sink is None:
            return
        chunk = data[start:end]
        current.size += len(chunk)
        if current.size > max_bytes:
            raise UploadTooLarge()
        if len(current.head) < 64:
            current.head += chunk[: 64 - len(current.head)]
        current.sink.write(chunk)

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except UploadTooLarge:
        _close(found)
        raise
    except ClientDisconnect:
        _close(found)
        raise MalformedUpload("the client went away during the upload") from None
    except Exception as exc:  # python-multipart raises its own errors for broken bodies
        _close(found)
        raise MalformedUpload(str(exc)) from None
    if not found:
        return None
    part = found[0]
    assert part.sink is not None
    part.sink.seek(0)
    content_type = part.headers.get(b"content-type", b"application/octet-stream").decode("latin-1")
    return UploadedFile(
        name=part.filename or "upload",
        content_type=content_type.split(";")[0].strip().lower(),
        size=part.size,
        head=part.head,
        file=part.sink,
    )


def _close(found: list[_Part]) -> None:
    for part in found:
        if part.sink is not None:
            part.sink.close()
