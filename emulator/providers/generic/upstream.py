"""Generic's real service, as `verify`, `record` and `--replay` need to know it: a Bearer API key
on every request, answers whose Content-Type, WWW-Authenticate, Allow and Retry-After matter,
problem details whose type, title, status, detail and errors are compared word for word, and the
fixed set of requests `verify` sends.

Without --allow-sends nothing can reach a phone: every send is addressed to "+12", which is no
phone number, or is refused before it is read (no key, a key that cannot be valid, the wrong
content type); the reads name a tag and a message that cannot exist. With --allow-sends --to
NUMBER, one message of each kind goes to NUMBER, and the reads name what they created."""

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
from .parse import MAX_TEXT
from .paths import PREFIX

NOT_A_NUMBER = "+12"  # E.164 needs at least 7 digits: nothing can be sent to it
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"  # a GUID no service hands out
INVALID_KEY = "rcs-emulator-verify-invalid-key"
# The document's own examples: a picture it shows in a rich card, a number it checks.
EXAMPLE_PICTURE = (
    "https://www.generic.se/wp-content/uploads/2023/06/GENERIC-startsida-3uspar-soveraldrig-"
    "300x254.png"
)
EXAMPLE_NUMBER = "+46701234567"


def _key(context: ProbeContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {context.credentials['key']}"}


def _text(context: ProbeContext, number: str, text: str = "rcs-emulator verify") -> dict[str, Any]:
    return {
        "agentId": context.credentials["agent"],
        "number": [number],
        "messageType": "TextMessage",
        "text": text,
    }


def _card(url: str, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": "Sent by rcs-emulator verify to compare the answers.",
        "fileUrl": url,
        "suggestedReplies": [{"text": "OK", "postbackData": "verify-ok"}],
    }


def _no_key(context: ProbeContext) -> ProbeRequest:
    return ProbeRequest("POST", "/Message", json=_text(context, NOT_A_NUMBER))


def _bad_key(context: ProbeContext) -> ProbeRequest:
    return ProbeRequest(
        "POST",
        "/Message",
        {"Authorization": f"Bearer {INVALID_KEY}"},
        json=_text(context, NOT_A_NUMBER),
    )


def _bad_number(context: ProbeContext) -> ProbeRequest:
    return ProbeRequest("POST", "/Message", _key(context), json=_text(context, NOT_A_NUMBER))


def _long_text(context: ProbeContext) -> ProbeRequest:
    body = _text(context, context.to or NOT_A_NUMBER, "x" * (MAX_TEXT + 1))
    return ProbeRequest("POST", "/Message", _key(context), json=body)


def _wrong_type(context: ProbeContext) -> ProbeRequest:
    headers = _key(context) | {"Content-Type": "text/plain"}
    return ProbeRequest("POST", "/Message", headers, content=b"rcs-emulator verify")


def _unknown_tag(context: ProbeContext) -> ProbeRequest:
    return ProbeRequest("GET", f"/Message/Tag/{NO_SUCH_ID}", _key(context))


def _unknown_message(context: ProbeContext) -> ProbeRequest:
    return ProbeRequest("GET", f"/Message/{NO_SUCH_ID}", _key(context))


def _not_acceptable(context: ProbeContext) -> ProbeRequest:
    headers = _key(context) | {"Accept": "text/xml"}
    return ProbeRequest("GET", f"/Message/Tag/{NO_SUCH_ID}", headers)


def _capability(context: ProbeContext) -> ProbeRequest:
    headers = _key(context) | {"Content-Type": "application/json"}
    number = context.to or EXAMPLE_NUMBER
    return ProbeRequest(
        "GET",
        f"/Capability/{context.credentials['agent']}",
        headers,
        content=f'"{number}"'.encode(),
    )


def _send_text(context: ProbeContext) -> ProbeRequest | None:
    if context.to is None:
        return None
    body = _text(context, context.to, "rcs-emulator verify: a text message with a reply chip")
    body["suggestedReplies"] = [{"text": "OK", "postbackData": "verify-ok"}]
    return ProbeRequest("POST", "/Message", _key(context), json=body)


def _send_rich_card(context: ProbeContext) -> ProbeRequest | None:
    if context.to is None:
        return None
    body = {
        "agentId": context.credentials["agent"],
        "number": [context.to],
        "messageType": "RichCard",
        "richCardContent": _card(context.media_url or EXAMPLE_PICTURE, "rcs-emulator verify"),
    }
    return ProbeRequest("POST", "/Message", _key(context), json=body)


def _send_carousel(context: ProbeContext) -> ProbeRequest | None:
    if context.to is None:
        return None
    url = context.media_url or EXAMPLE_PICTURE
    body = {
        "agentId": context.credentials["agent"],
        "number": [context.to],
        "messageType": "Carousel",
        "carouselContent": {
            "cardWidth": "MEDIUM",
            "richCardContents": [_card(url, "Card 1"), _card(url, "Card 2")],
        },
    }
    return ProbeRequest("POST", "/Message", _key(context), json=body)


def _tag_statistics(context: ProbeContext) -> ProbeRequest | None:
    sent = context.answers.get("send-text")
    if not isinstance(sent, dict) or not isinstance(sent.get("tagId"), str):
        return None
    return ProbeRequest("GET", f"/Message/Tag/{sent['tagId']}", _key(context))


def _message_events(context: ProbeContext) -> ProbeRequest | None:
    stats = context.answers.get("tag-statistics")
    if not isinstance(stats, dict):
        return None
    for channel in ("rcs", "sms"):
        entries = stats.get(channel)
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            message_id = entries[0].get("messageId")
            if isinstance(message_id, str):
                return ProbeRequest("GET", f"/Message/{message_id}", _key(context))
    return None


def _agent_messages(context: ProbeContext) -> ProbeRequest | None:
    if context.to is None:
        return None
    query = f"?limit=5&phoneNumber={context.to.lstrip('+')}"
    return ProbeRequest(
        "GET", f"/Message/Agent/{context.credentials['agent']}{query}", _key(context)
    )


PROBES = [
    Probe(
        "no-key", "POST /Message without an Authorization header (to +12, no phone number)", _no_key
    ),
    Probe("bad-key", f"POST /Message with the key {INVALID_KEY!r} (to +12)", _bad_key),
    Probe(
        "bad-number",
        "POST /Message with your key and agent to +12, which is no phone number",
        _bad_number,
    ),
    Probe(
        "long-text",
        f"POST /Message with a text of {MAX_TEXT + 1} characters, one over the "
        "limit, to +12 (to --to with --allow-sends, where a service that does not enforce the "
        "limit delivers it)",
        _long_text,
    ),
    Probe("wrong-content-type", "POST /Message with a text/plain body", _wrong_type),
    Probe("unknown-tag", f"GET /Message/Tag/{NO_SUCH_ID}", _unknown_tag),
    Probe("unknown-message", f"GET /Message/{NO_SUCH_ID}", _unknown_message),
    Probe("not-acceptable", f"GET /Message/Tag/{NO_SUCH_ID} asking for text/xml", _not_acceptable),
    Probe(
        "capability",
        f"GET /Capability/{{agent}} for {EXAMPLE_NUMBER} (the document's "
        "example; --to with --allow-sends): a read",
        _capability,
    ),
    Probe(
        "send-text",
        "POST /Message: a TextMessage with one suggested reply to --to",
        _send_text,
        sends=True,
    ),
    Probe(
        "send-rich-card",
        "POST /Message: a RichCard with a picture (--media-url) to --to",
        _send_rich_card,
        sends=True,
    ),
    Probe(
        "send-carousel",
        "POST /Message: a Carousel of two cards to --to",
        _send_carousel,
        sends=True,
    ),
    Probe(
        "tag-statistics",
        "GET /Message/Tag/{tagId} of send-text",
        _tag_statistics,
        reads=("send-text",),
    ),
    Probe(
        "message-events",
        "GET /Message/{messageId} of send-text's first recipient",
        _message_events,
        reads=("tag-statistics",),
    ),
    Probe(
        "agent-messages",
        "GET /Message/Agent/{agent}?limit=5&phoneNumber={--to}",
        _agent_messages,
        reads=("send-text",),
    ),
]


def _field(body: Any, name: str) -> Any:
    """A JSON property read as ASP.NET binds it: in any case."""
    if isinstance(body, Mapping):
        for key, value in body.items():
            if isinstance(key, str) and key.lower() == name.lower():
                return value
    return None


class GenericUpstream:
    base_path = PREFIX
    paths_case_insensitive = True
    credential_names = ("key", "agent")
    headers = {
        "content-type": HeaderCheck.MEDIA_TYPE,
        "www-authenticate": HeaderCheck.VALUE,
        "allow": HeaderCheck.VALUE,
        "retry-after": HeaderCheck.PRESENCE,
    }
    values = ("type", "title", "status", "detail", "errors.*.*", "statusCode", "Message")
    secret_headers = frozenset({"authorization"})
    secret_fields: frozenset[str] = frozenset()
    ignored_fields: frozenset[str] = frozenset()
    default_media_url = EXAMPLE_PICTURE

    def credentials(self, given: Mapping[str, str]) -> Credentials:
        missing = [n for n in self.credential_names if not given.get(n)]
        if missing:
            raise CredentialError(
                "needs "
                + " and ".join(f"{n}=..." for n in missing)
                + " (key: your API key; agent: your agentId)"
            )
        return Credentials({n: given[n] for n in self.credential_names}, secret=("key",))

    def emulator_section(self, credentials: Credentials, to: str | None) -> dict[str, Any]:
        return {"strict": True, "keys": {credentials["key"]: [credentials["agent"]]}}

    def probes(self) -> list[Probe]:
        return list(PROBES)

    def agent_of(self, path: str, body: Any) -> str | None:
        agent = _field(body, "agentId")
        if isinstance(agent, str):
            return agent
        parts = path.rstrip("/").split("/")
        if len(parts) == 6 and parts[4].lower() in ("uploadfile", "capability"):
            return parts[5]
        return None

    def request_phones(self, body: Any) -> set[str]:
        numbers = _field(body, "number")
        items = numbers if isinstance(numbers, list) else [numbers]
        return {n for n in items if isinstance(n, str)}

    def callback_phones(self, payload: Any) -> set[str]:
        phone = _field(payload, "SenderPhoneNo")
        return {phone} if isinstance(phone, str) else set()

    def callback_agent(self, payload: Any) -> str | None:
        agent = _field(payload, "AgentId")
        return agent if isinstance(agent, str) else None


UPSTREAM = GenericUpstream()
