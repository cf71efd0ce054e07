"""Why a callback has not come, as plain functions over the control API's views (the runner and
the plugin read the views; what they make of them is decided here)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.callback_hints import (
    Fate,
    after_step,
    callback_for,
    not_accepted,
    why_no_callback,
)

URL = "http://127.0.0.1:8000/hook"


def delivery(state: str, *statuses: int | None, event: str = "read") -> dict[str, Any]:
    attempts = [{"status": s, "error": None if s else "connection refused"} for s in statuses]
    return {
        "message_id": "m1",
        "event": event,
        "url": URL,
        "state": state,
        "name": "READ",
        "attempts": attempts,
    }


@pytest.mark.parametrize(
    ("deliveries", "fate"),
    [
        ([], Fate.NOT_MADE),
        ([delivery("delivered", 200, event="delivered")], Fate.NOT_MADE),  # another event's
        ([delivery("pending")], Fate.UNDER_WAY),
        ([delivery("in_flight")], Fate.UNDER_WAY),
        ([delivery("retrying", 500)], Fate.NOT_ACCEPTED),
        ([delivery("failed", 500, None)], Fate.NOT_ACCEPTED),
        ([delivery("failed")], Fate.NOT_ACCEPTED),  # never attempted: the backlog was full
        ([delivery("failed", 500), delivery("delivered", 200)], Fate.DELIVERED),  # the newest
    ],
)
def test_the_fate_of_an_events_callback(deliveries, fate) -> None:
    assert callback_for(deliveries, "read").fate is fate


def test_a_refusal_says_its_status_or_error_and_state() -> None:
    assert not_accepted(delivery("retrying", 503)) == (
        f"callback to {URL} was not accepted (status 503; retrying)"
    )
    assert not_accepted(delivery("failed", None)) == (
        f"callback to {URL} was not accepted (connection refused; failed)"
    )
    assert not_accepted(delivery("failed")) == (
        f"callback to {URL} was not accepted (never attempted: the webhook backlog was full; "
        "failed)"
    )


def message(status: str, *events: str) -> dict[str, Any]:
    return {
        "id": "m1",
        "kind": "text",
        "provider": "generic",
        "agent_id": "shop",
        "status": status,
        "events": [{"type": e, "inbound": e != "sent"} for e in events],
    }


def test_nothing_wrong_says_nothing_and_a_running_clock_is_not_blamed() -> None:
    read = message("read", "sent", "delivered", "read")
    assert (
        why_no_callback([read], [delivery("delivered", 200)], {"mode": "manual"}, 60, URL, "") == []
    )
    waiting = message("sent", "sent")
    assert why_no_callback([waiting], [], {"mode": "real"}, 0, URL, "") == []
    assert why_no_callback([], [], {"mode": "manual"}, 0, URL, "") == [
        "the emulator holds no message of this test: nothing was sent to it (a client pointed "
        "at another URL, or at the real host without rcs_mock?)"
    ]


def test_a_phone_without_rcs_is_not_taken_for_an_agent_without_a_url() -> None:
    fallback = message("no_capability", "sent", "no_capability")
    assert why_no_callback([fallback], [], {"mode": "manual"}, 60, URL, "{agent}") == []


def test_callbacks_refused_or_under_way_at_this_receiver() -> None:
    read = message("read", "sent", "delivered", "read")
    deliveries = [delivery("retrying", 500), delivery("pending", event="delivered")]
    assert why_no_callback([read], deliveries, {"mode": "manual"}, 60, URL, "") == [
        f"the READ callback to {URL} was not accepted (status 500; retrying)",
        "1 callback is still under way (waiting for a slot, or retried later by the provider's "
        "rule)",
    ]


@pytest.mark.parametrize(
    ("deliveries", "answered", "hint"),
    [
        (
            [delivery("delivered", 200)],
            False,
            "the bot accepted step 2's callback (status 200) and has sent this phone nothing since",
        ),
        ([delivery("delivered", 200)], True, None),  # the bot answered after it: nothing wrong
        (
            [delivery("retrying", 500)],
            True,
            f"step 2's callback to {URL} was not accepted (status 500; retrying)",
        ),
        (
            [delivery("failed")],
            False,
            f"step 2's callback to {URL} was not accepted (never attempted: the webhook backlog was "
            "full; failed)",
        ),
        ([delivery("in_flight")], False, f"step 2's callback to {URL} is still in_flight"),
        ([], False, None),  # never made: the runner says why (no URL, or the message is gone)
    ],
)
def test_what_the_runner_says_of_a_steps_callback(deliveries, answered, hint) -> None:
    assert after_step(2, callback_for(deliveries, "read"), answered) == hint
