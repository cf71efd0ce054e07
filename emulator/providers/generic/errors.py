"""Every error the Generic API answers with. The API is ASP.NET: failures come as RFC 9457
problem details (validation errors keyed by field), except UploadFile, which answers
{"statusCode": 400, "Message": ...}."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ...core.surprises import SurpriseKind
from ...http.body import excerpt, path_and_query
from ...http.exchange import record
from ...http.responses import JSONResponse
from .provider import NAME

if TYPE_CHECKING:
    from ...core.emulator import Emulator

_RFC9110 = "https://tools.ietf.org/html/rfc9110#section-"


class GenericError(Enum):
    #            status, title, default detail, problem type
    VALIDATION = (400, "One or more validation errors occurred.", None, _RFC9110 + "15.5.1")
    UNAUTHORIZED = (401, "Unauthorized", "A valid Bearer API key is required.", _RFC9110 + "15.5.2")
    FORBIDDEN = (403, "Forbidden", "This API key may not use this agent.", _RFC9110 + "15.5.4")
    TAG_NOT_FOUND = (
        404,
        "Not Found",
        "No messages were found for this tagId.",
        _RFC9110 + "15.5.5",
    )
    MESSAGE_NOT_FOUND = (
        404,
        "Not Found",
        "No message was found with this id.",
        _RFC9110 + "15.5.5",
    )
    NOT_FOUND = (404, "Not Found", "No endpoint matches this path.", _RFC9110 + "15.5.5")
    METHOD_NOT_ALLOWED = (405, "Method Not Allowed", None, _RFC9110 + "15.5.6")
    NOT_ACCEPTABLE = (406, "Not Acceptable", "Responses are application/json.", _RFC9110 + "15.5.7")
    UNSUPPORTED_MEDIA_TYPE = (415, "Unsupported Media Type", None, _RFC9110 + "15.5.16")
    TOO_MANY_REQUESTS = (
        429,
        "Too Many Requests",
        "Rate limit exceeded; retry after the time in Retry-After.",
        "https://tools.ietf.org/html/rfc6585#section-4",
    )
    # UploadFile's own shape
    UNSUPPORTED_FILE_TYPE = (400, "Unsupported file type", None, "upload")
    FILE_TOO_LARGE = (400, "File size exceeds the maximum allowed size of 100 MB", None, "upload")
    NO_FILE = (400, "No file was uploaded; send it as the multipart field 'file'", None, "upload")
    EMPTY_FILE = (400, "The uploaded file is empty", None, "upload")
    # The emulator's own trouble, in the same shape: its disk is full or read-only.
    CANNOT_STORE = (503, "The emulator cannot store the file", None, "upload")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def title(self) -> str:
        return self.value[1]


class GenericApiError(Exception):
    """Raised anywhere in the Generic provider; one handler renders it."""

    def __init__(
        self,
        error: GenericError,
        detail: str | None = None,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or error.title)
        self.error = error
        self.detail = detail
        self.errors = errors
        self.headers = headers

    def body(self, trace_id: str) -> dict[str, Any]:
        status, title, default_detail, problem_type = self.error.value
        if problem_type == "upload":
            return {"statusCode": status, "Message": self.detail or title}
        body: dict[str, Any] = {"type": problem_type, "title": title, "status": status}
        detail = self.detail or default_detail
        if detail:
            body["detail"] = detail
        if self.errors:
            body["errors"] = self.errors
        body["traceId"] = trace_id
        return body


def validation(field: str, message: str) -> GenericApiError:
    return GenericApiError(GenericError.VALIDATION, errors={field: [message]})


def problem(status: int, trace_id: str) -> dict[str, Any]:
    """Problem details for any status (injected faults), as ASP.NET renders a bare status."""
    from http import HTTPStatus

    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    section = _SECTIONS.get(status)
    kind = _RFC9110 + section if section else "https://tools.ietf.org/html/rfc9110"
    return {"type": kind, "title": title, "status": status, "traceId": trace_id}


_SECTIONS = {
    400: "15.5.1",
    401: "15.5.2",
    403: "15.5.4",
    404: "15.5.5",
    405: "15.5.6",
    406: "15.5.7",
    408: "15.5.9",
    409: "15.5.10",
    415: "15.5.16",
    429: None,
    500: "15.6.1",
    501: "15.6.2",
    502: "15.6.3",
    503: "15.6.4",
    504: "15.6.5",
}


class Rendering:
    """How a Generic error reaches the client (problem details with a trace id), noted as a
    surprise for the test that caused it."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def trace(self) -> str:
        return f"00-{self.emulator.ids.hex(32)}-{self.emulator.ids.hex(16)}-00"

    def render(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GenericApiError)
        body = exc.body(self.trace())
        media = "application/json" if "statusCode" in body else "application/problem+json"
        response = JSONResponse(body, exc.error.status, headers=exc.headers, media_type=media)
        self.emulator.surprises.note(
            SurpriseKind.REQUEST,
            provider=NAME,
            tenant=tenant_named(request),
            method=request.method,
            path=path_and_query(request),
            status=exc.error.status,
            answer=body,
            sent=excerpt(request),
            exchange=record(request, response),
        )
        return response

    def http_error(self, request: Request, status: int) -> Response:
        error = GenericError.METHOD_NOT_ALLOWED if status == 405 else GenericError.NOT_FOUND
        return self.render(request, GenericApiError(error))

    def fault(self, request: Request, status: int, retry_after: int | None) -> Response:
        """An injected fault, as ASP.NET renders a bare status."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return JSONResponse(
            problem(status, self.trace()),
            status,
            headers=headers,
            media_type="application/problem+json",
        )


def tenant_named(request: Request) -> str | None:
    """The API key a request names, valid or not (for surprises and faults)."""
    value = request.headers.get("authorization", "")
    return value[7:].strip() or None if value[:7].lower() == "bearer " else None
