"""SerwerSMS's real service, as `verify`, `record` and `--replay` need to know it: a Bearer token
or `username` and `password` among the parameters, answers whose Content-Type matters (JSON or
XML), error envelopes and send counts compared word for word, and the fixed set of requests
`verify` sends.

Without --allow-sends nothing can reach a phone: every send is addressed to "12", which no
reading makes a phone number, or is refused before it is read (no credentials, a token that
cannot be valid); the bad credentials are always a made-up token, never your username with a
wrong password (an account is never locked by a check). The reads name a message that cannot
exist. With --allow-sends --to NUMBER, one message of each kind goes to NUMBER, with details, and
the reads name what they created."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..upstream import (
    CredentialError,
    Credentials,
    HeaderCheck,
    Probe,
    ProbeContext,
    ProbeRequest,
)
from .parse import MAX_TEXT, normalize

NOT_A_NUMBER = "12"  # too short for any reading, the Polish one included: nothing is sent
NO_SUCH_ID = "0000000000"
NO_SUCH_BOT = "rcsEmulatorVerifyNoSuchBot"
INVALID_TOKEN = "rcs-emulator-verify-invalid-token"
SEND = "/messages/send_rcs.json"
# A picture on the web to show in file and card sends (the SerwerSMS document's own are
# placeholders); its declared size is the document's example, which the emulator never checks.
EXAMPLE_PICTURE = (
    "https://www.generic.se/wp-content/uploads/2023/06/GENERIC-startsida-3uspar-soveraldrig-"
    "300x254.png"
)
EXAMPLE_SIZE = 26802


def _signed(context: ProbeContext, params: dict[str, Any], path: str = SEND) -> ProbeRequest:
    """A POST of JSON params with the user's credentials, as the official clients send it."""
    token = context.credentials.get("token")
    if token:
        return ProbeRequest("POST", path, {"Authorization": f"Bearer {token}"}, json=params)
    auth = {
        "username": context.credentials["username"],
        "password": context.credentials["password"],
    }
    return ProbeRequest("POST", path, json=auth | params)


def _send(context: ProbeContext, phone: str, message: dict[str, Any]) -> dict[str, Any]:
    return {"rcs_id": context.credentials["rcs_id"], "phone": phone, "message": message}


TEXT = {"text": "rcs-emulator verify"}


def _no_credentials(context: ProbeContext) -> ProbeRequest:
    return ProbeRequest("POST", SEND, json=_send(context, NOT_A_NUMBER, TEXT))


def _bad_credentials(context: ProbeContext, path: str = SEND) -> ProbeRequest:
    return ProbeRequest(
        "POST",
        path,
        {"Authorization": f"Bearer {INVALID_TOKEN}"},
        json=_send(context, NOT_A_NUMBER, TEXT),
    )


def _bad_number(context: ProbeContext) -> ProbeRequest:
    return _signed(context, _send(context, NOT_A_NUMBER, TEXT))


def _long_text(context: ProbeContext) -> ProbeRequest:
    message = {"text": "x" * (MAX_TEXT + 1)}
    return _signed(context, _send(context, context.to or NOT_A_NUMBER, message))


def _empty_message(context: ProbeContext) -> ProbeRequest:
    return _signed(context, _send(context, NOT_A_NUMBER, {}))


def _missing_parameters(context: ProbeContext) -> ProbeRequest:
    return _signed(context, {"phone": NOT_A_NUMBER, "message": TEXT})


def _unknown_bot(context: ProbeContext) -> ProbeRequest:
    return _signed(context, {"rcs_id": NO_SUCH_BOT, "phone": NOT_A_NUMBER, "message": TEXT})


def _unknown_action(context: ProbeContext) -> ProbeRequest:
    return _signed(context, {}, "/messages/rcs_emulator_verify.json")


def _unknown_message(context: ProbeContext) -> ProbeRequest:
    return _signed(context, {"id": NO_SUCH_ID}, "/messages/view.json")


def _no_reports(context: ProbeContext) -> ProbeRequest:
    return _signed(context, {"id": NO_SUCH_ID}, "/messages/reports.json")


def _error_code(context: ProbeContext) -> ProbeRequest:
    return _signed(context, {}, "/error/6300.json")


def _xml(context: ProbeContext) -> ProbeRequest:
    return _bad_credentials(context, "/messages/send_rcs.xml")


def _media(context: ProbeContext) -> dict[str, Any]:
    return {"url": context.media_url or EXAMPLE_PICTURE, "size": EXAMPLE_SIZE, "type": "image/png"}


def _card(context: ProbeContext, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": "Sent by rcs-emulator verify to compare the answers.",
        "media": _media(context),
    }


def _details(context: ProbeContext, message: dict[str, Any]) -> ProbeRequest | None:
    if context.to is None:
        return None
    return _signed(context, _send(context, context.to, message) | {"details": True})


def _send_text(context: ProbeContext) -> ProbeRequest | None:
    reply = {"reply": {"text": "OK", "postback": "verify-ok"}}
    text = "rcs-emulator verify: a text message with a reply chip"
    return _details(context, {"text": text, "suggestions": [reply]})


def _send_file(context: ProbeContext) -> ProbeRequest | None:
    return _details(context, {"file": {"name": "verify.png"} | _media(context)})


def _send_rich_card(context: ProbeContext) -> ProbeRequest | None:
    return _details(context, {"richcard": [_card(context, "rcs-emulator verify")]})


def _send_carousel(context: ProbeContext) -> ProbeRequest | None:
    cards = [_card(context, "Card 1"), _card(context, "Card 2")]
    return _details(context, {"richcard": cards, "cardWidth": "MEDIUM"})


def _sent_id(context: ProbeContext) -> str | None:
    sent = context.answers.get("send-text")
    items = sent.get("items") if isinstance(sent, dict) else None
    if isinstance(items, list) and items and isinstance(items[0], dict):
        found = items[0].get("id")
        return found if isinstance(found, str) and found else None
    return None


def _view_sent(context: ProbeContext) -> ProbeRequest | None:
    sent = _sent_id(context)
    return _signed(context, {"id": sent}, "/messages/view.json") if sent else None


def _reports_sent(context: ProbeContext) -> ProbeRequest | None:
    sent = _sent_id(context)
    return _signed(context, {"id": sent}, "/messages/reports.json") if sent else None


PROBES = [
    Probe(
        "no-credentials",
        "POST messages/send_rcs.json without credentials (to 12, no phone number)",
        _no_credentials,
    ),
    Probe(
        "bad-credentials",
        f"POST messages/send_rcs.json with the token {INVALID_TOKEN!r} (to 12)",
        _bad_credentials,
    ),
    Probe(
        "bad-number",
        "POST messages/send_rcs.json with your credentials and bot to 12, which is no phone number",
        _bad_number,
    ),
    Probe(
        "long-text",
        f"POST messages/send_rcs.json with a text of {MAX_TEXT + 1} characters "
        "to 12 (to --to with --allow-sends, where a service that does not enforce the limit "
        "delivers it)",
        _long_text,
    ),
    Probe(
        "empty-message", "POST messages/send_rcs.json with an empty message (to 12)", _empty_message
    ),
    Probe(
        "missing-parameters",
        "POST messages/send_rcs.json without rcs_id (to 12)",
        _missing_parameters,
    ),
    Probe(
        "unknown-bot",
        f"POST messages/send_rcs.json from the bot {NO_SUCH_BOT!r} (to 12)",
        _unknown_bot,
    ),
    Probe(
        "unknown-action",
        "POST messages/rcs_emulator_verify.json, an action that does not exist",
        _unknown_action,
    ),
    Probe(
        "unknown-message",
        f"POST messages/view.json for the id {NO_SUCH_ID}: a read",
        _unknown_message,
    ),
    Probe("no-reports", f"POST messages/reports.json for the id {NO_SUCH_ID}: a read", _no_reports),
    Probe("error-code", "POST error/6300.json: the envelope of an error code", _error_code),
    Probe(
        "xml", f"POST messages/send_rcs.xml with the token {INVALID_TOKEN!r}: the XML form", _xml
    ),
    Probe(
        "send-text",
        "POST messages/send_rcs.json: a text with a reply chip to --to, details on",
        _send_text,
        sends=True,
    ),
    Probe(
        "send-file",
        "POST messages/send_rcs.json: a file (a picture, --media-url) to --to",
        _send_file,
        sends=True,
    ),
    Probe(
        "send-rich-card",
        "POST messages/send_rcs.json: a rich card with a picture to --to",
        _send_rich_card,
        sends=True,
    ),
    Probe(
        "send-carousel",
        "POST messages/send_rcs.json: a carousel of two cards to --to",
        _send_carousel,
        sends=True,
    ),
    Probe(
        "view-sent",
        "POST messages/view.json for send-text's id",
        _view_sent,
        reads=("send-text",),
    ),
    Probe(
        "reports-sent",
        "POST messages/reports.json for send-text's id",
        _reports_sent,
        reads=("send-text",),
    ),
]


class SerwerSmsUpstream:
    base_path = ""
    paths_case_insensitive = False
    credential_names = ("token", "username", "password", "rcs_id")
    headers = {"content-type": HeaderCheck.MEDIA_TYPE}
    values = (
        "error.code",
        "error.type",
        "error.message",
        "success",
        "queued",
        "unsent",
        "items.*.status",
        "items.*.error_code",
        "items.*.error_message",
    )
    secret_headers = frozenset({"authorization"})
    secret_fields = frozenset({"username", "password"})
    ignored_fields = frozenset({"system"})  # every official client adds it
    default_media_url = EXAMPLE_PICTURE

    def credentials(self, given: Mapping[str, str]) -> Credentials:
        token, user, password = given.get("token"), given.get("username"), given.get("password")
        if token and (user or password):
            raise CredentialError("give token=... or username=... and password=..., not both")
        if not token and not (user and password):
            raise CredentialError(
                "needs token=... (your API token), or username=... and password=..."
            )
        if not given.get("rcs_id"):
            raise CredentialError("needs rcs_id=... (your bot's RCS id, from the panel)")
        return Credentials(
            {k: v for k, v in given.items() if v}, secret=("token", "username", "password")
        )

    def emulator_section(self, credentials: Credentials, to: str | None) -> dict[str, Any]:
        token = credentials.get("token")
        account: dict[str, Any] = (
            {"token": token}
            if token
            else {"username": credentials["username"], "password": credentials["password"]}
        )
        account["bots"] = [credentials["rcs_id"]]
        # The user's own number is reached whatever network it is on, as on their account.
        networks = ["+48"] + ([to] if to else [])
        return {"strict": True, "accounts": [account], "networks": networks}

    def probes(self) -> list[Probe]:
        return list(PROBES)

    def agent_of(self, path: str, body: Any) -> str | None:
        rcs_id = body.get("rcs_id") if isinstance(body, Mapping) else None
        return str(rcs_id) if isinstance(rcs_id, str | int) else None

    def request_phones(self, body: Any) -> set[str]:
        if not isinstance(body, Mapping):
            return set()
        phones = body.get("phone")
        items = (
            phones
            if isinstance(phones, list)
            else list(phones.values())
            if isinstance(phones, Mapping)
            else [phones]
        )
        return {p for p in (normalize(item) for item in items) if p}

    def callback_agent(self, payload: Any) -> str | None:
        items = payload if isinstance(payload, list) else [payload]
        found = [
            i["rcs_id"]
            for i in items
            if isinstance(i, Mapping) and isinstance(i.get("rcs_id"), str)
        ]
        return found[0] if found else None

    def callback_phones(self, payload: Any) -> set[str]:
        items = payload if isinstance(payload, list) else [payload]
        return {
            i["phone"] for i in items if isinstance(i, Mapping) and isinstance(i.get("phone"), str)
        }


UPSTREAM = SerwerSmsUpstream()
