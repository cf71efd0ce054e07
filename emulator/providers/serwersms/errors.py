"""Every SerwerSMS error: {"error": {"code", "type", "message"}}, answered with HTTP 200 because
the official clients treat any other status as a transport failure."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ...core.surprises import SurpriseKind
from ...http.body import excerpt, path_and_query
from ...http.exchange import record
from .formats import respond
from .provider import NAME

if TYPE_CHECKING:
    from ...core.emulator import Emulator


class SerwerSmsError(Enum):
    INVALID_ACTION = (1000, "InvalidAction", "Invalid action")
    INVALID_USER = (1001, "InvalidUser", "Incorrect login or password")
    NO_API_ACCESS = (1002, "InvalidRole", "No permission to use the API")
    INVALID_IP = (1003, "InvalidIP", "Access from this IP address is not allowed")
    INVALID_ID = (1004, "InvalidID", "Invalid ID")
    NOT_PERMITTED = (1005, "InvalidRole", "No permission for this action")
    INVALID_DATA = (1006, "InvalidData", "Invalid data format")
    ACCOUNT_INACTIVE = (1007, "InvalidRole", "The account is not fully active")
    NO_NUMBER_PREVIEW = (1008, "InvalidRole", "No permission to view the numbers")
    REQUIRED = (2000, "ValidationRequiredError", "Missing required parameters")
    INVALID_PHONE = (2001, "ValidationPhoneError", "Invalid phone number")
    INVALID_CODE = (2002, "ValidationCodeError", "Invalid error code")
    # The general page's message errors: limits and permissions of the other channels.
    ECO_LIMIT = (3000, "SendError", "Exhausted the limit of available SMS ECO+")
    ECO_DENIED = (3001, "SendError", "No permission to send messages SMS ECO+")
    FULL_LIMIT = (3002, "SendError", "Exhausted the limit of available SMS FULL")
    FULL_DENIED = (3003, "SendError", "No permission to send messages SMS FULL")
    MMS_LIMIT = (3004, "SendError", "Exhausted the limit of available MMS")
    MMS_DENIED = (3005, "SendError", "No permission to send messages MMS")
    VOICE_LIMIT = (3006, "SendError", "Exhausted the limit of available messages VOICE")
    VOICE_DENIED = (3007, "SendError", "No permission to send messages VOICE")
    FLASH_DENIED = (3008, "SendError", "No permission to send Flash SMS")
    SMS_DENIED = (3009, "SendError", "No permission to send messages SMS")
    SENDING_BLOCKED = (3100, "SendError", "Sending SMS is blocked")
    MESSAGE_EMPTY = (3101, "SendError", "Message is empty")
    MESSAGE_TOO_LONG = (3102, "SendError", "Message exceeded the allowed length")
    RCS_NO_PERMISSION = (6300, "RcsError", "You do not have permission to send messages")
    RCS_INVALID_BOT = (6301, "RcsError", "Invalid BOT ID or configuration is inactive")
    RCS_BAD_STRUCTURE = (6302, "RcsError", "The message structure is incorrect")
    RCS_REQUIRED = (6303, "RcsError", "No required parameters")
    RCS_INVALID_IP = (6304, "RcsError", "Invalid IP address")
    RCS_INVALID_PHONE = (6306, "RcsError", "Invalid phone number")
    RCS_EMPTY_STRUCTURE = (6307, "RcsError", "Empty message structure")
    RCS_NO_TYPE = (6308, "RcsError", "Set the selected message type (text, audio, file, richcard)")
    RCS_BAD_SUGGESTION = (6309, "RcsError", "The suggestion structure is incorrect")
    RCS_EMPTY_BODY = (6310, "RcsError", "The message body is empty")
    RCS_BAD_AUDIO = (
        6311,
        "RcsError",
        "Audio message structure is invalid or missing required parameters (name, file)",
    )
    RCS_BAD_FILE = (
        6312,
        "RcsError",
        "File message structure is incorrect or required parameters are missing "
        "(name, url, mime, size)",
    )
    RCS_BAD_RICHCARD = (
        6313,
        "RcsError",
        "File message structure is invalid Richcard message structure is invalid or missing "
        "required parameters (title, description, media) or missing required parameters "
        "(name, url, mime, size)",
    )
    RCS_BAD_MAP = (6314, "RcsError", "The Map message structure is invalid")
    RCS_OVERALL = (6315, "RcsError", "Overall error")
    RCS_NETWORK = (6317, "RcsError", "Network not supported")

    @property
    def code(self) -> int:
        return self.value[0]

    @property
    def type(self) -> str:
        return self.value[1]

    @property
    def message(self) -> str:
        return self.value[2]

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "type": self.type, "message": self.message}}

    @classmethod
    def by_code(cls, code: int) -> SerwerSmsError | None:
        return _BY_CODE.get(code)


_BY_CODE = {e.code: e for e in SerwerSmsError}


class SerwerSmsApiError(Exception):
    """Raised anywhere in the SerwerSMS provider; `why` is for the emulator's own log only."""

    def __init__(self, error: SerwerSmsError, why: str | None = None) -> None:
        super().__init__(why or error.message)
        self.error = error
        self.why = why


# The body that goes with an injected HTTP status: the nearest error of the provider's own.
FAULT_ERRORS = {
    401: SerwerSmsError.INVALID_USER,
    403: SerwerSmsError.NO_API_ACCESS,
    404: SerwerSmsError.INVALID_ACTION,
}
TENANT = "rcs_emulator.tenant"  # the scope key of the account a request authenticated as


class Rendering:
    """How a SerwerSMS error reaches the client (its envelope, HTTP 200, JSON or XML as the path
    asks), noted as a surprise for the test that caused it."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def render(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SerwerSmsApiError)
        body = exc.error.body()
        response = respond(request, body)
        self.emulator.surprises.note(
            SurpriseKind.REQUEST,
            provider=NAME,
            tenant=request.scope.get(TENANT),
            method=request.method,
            path=path_and_query(request),
            status=200,
            answer=body,
            why=exc.why,
            sent=excerpt(request),
            exchange=record(request, response),
        )
        return response

    def http_error(self, request: Request, status: int) -> Response:
        """Every path it owns that no route takes (or a method a route does not) is an unknown
        action."""
        error = SerwerSmsApiError(SerwerSmsError.INVALID_ACTION, request.url.path)
        return self.render(request, error)

    def fault(self, request: Request, status: int, retry_after: int | None) -> Response:
        error = FAULT_ERRORS.get(status, SerwerSmsError.RCS_OVERALL)
        response = respond(request, error.body())
        response.status_code = status
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response


def tenant_named(request: Request) -> str:
    """The account a request names, valid or not (for faults): the token, else the username."""
    value = request.headers.get("authorization", "")
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    user = request.query_params.get("username")
    return user or (request.client.host if request.client else "anonymous")
