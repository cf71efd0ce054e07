"""Why a callback someone waits for has not come, in words, from the control API's views (messages,
webhook deliveries, the clock): the one explanation the conversation runner gives when the bot
sent nothing and the pytest plugin gives when `rcs_webhook_receiver.wait()` times out. Pure
functions: each caller reads the views its own way (async or not) and says how to fix it in its
own terms (a conversation file's key, a fixture's method); only what is true is said (a callback
the bot accepted and then answered is no reason)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .core.models import USER_MESSAGE

View = dict[str, Any]
NOT_ARRIVED = {"sent", "queued", "scheduled"}  # a message's statuses before it reaches the phone
# Events every provider calls back for (a phone without RCS, say, may make none).
CALLED_BACK = {"delivered", "read", "reply", "message"}


class Fate(StrEnum):
    """What became of the callback an event should have made."""

    NOT_MADE = "not_made"  # no delivery: the agent had no webhook URL
    UNDER_WAY = "under_way"  # waiting for a slot, on the wire, or first attempt not yet made
    NOT_ACCEPTED = "not_accepted"  # the receiver answered with an error (retrying or failed)
    DELIVERED = "delivered"


@dataclass(frozen=True)
class Callback:
    fate: Fate
    delivery: View | None = None  # the newest delivery for the event, when there is one


def callback_for(deliveries: Iterable[View], event: str) -> Callback:
    """The fate of the callback `event` (a message's event type) made, from that message's
    deliveries (GET /_emulator/webhooks?message=ID)."""
    ours = [d for d in deliveries if d["event"] == event]
    if not ours:
        return Callback(Fate.NOT_MADE)
    delivery = ours[-1]
    state = delivery["state"]
    if state == "delivered":
        return Callback(Fate.DELIVERED, delivery)
    if state == "failed" or (state == "retrying" and delivery["attempts"]):
        return Callback(Fate.NOT_ACCEPTED, delivery)  # (failed unattempted: the backlog was full)
    return Callback(Fate.UNDER_WAY, delivery)


def no_webhook_url(agent: str, how: str) -> str:
    """An agent whose events make no callback, and how to give it a URL (`how`: the caller's
    own way, a file's key or a fixture's method)."""
    return f"agent {agent} has no webhook URL ({how})"


def not_accepted(delivery: View) -> str:
    """'callback to URL was not accepted (status 500; retrying)'."""
    last = delivery["attempts"][-1] if delivery["attempts"] else None
    if last is None:
        why = "never attempted: the webhook backlog was full"
    else:
        why = f"status {last['status']}" if last["status"] is not None else last["error"]
    return f"callback to {delivery['url']} was not accepted ({why}; {delivery['state']})"


def under_way(delivery: View) -> str:
    """'callback to URL is still pending'."""
    return f"callback to {delivery['url']} is still {delivery['state']}"


def after_step(number: int, callback: Callback, answered: bool) -> str | None:
    """What the conversation runner says of the callback one of the phone's actions (its step
    `number`) made: refused, still under way, or accepted while the bot has sent the phone
    nothing since (`answered`: a message of the bot came after that step, so nothing is wrong
    there). None when it says nothing; a callback never made is the caller's to explain (it
    knows the agent, and whether the message is still there)."""
    delivery = callback.delivery
    if delivery is None:
        return None
    if callback.fate is Fate.NOT_ACCEPTED:
        return f"step {number}'s {not_accepted(delivery)}"
    if callback.fate is Fate.UNDER_WAY:
        return f"step {number}'s {under_way(delivery)}"
    if callback.fate is Fate.DELIVERED and delivery["attempts"] and not answered:
        status = delivery["attempts"][-1]["status"]
        return (
            f"the bot accepted step {number}'s callback (status {status}) and has sent this "
            "phone nothing since"
        )
    return None


def why_no_callback(
    messages: Sequence[View],
    deliveries: Sequence[View],
    clock: View,
    advanced: float,
    receiver: str | None,
    how: str,
) -> list[str]:
    """Why callbacks to `receiver` may not have come, for a test that sent `messages` (its
    views, events included) and moved a manual `clock` on by `advanced` seconds in all: time
    that stood still, agents without a webhook URL, callbacks that went elsewhere, that were
    refused or are still under way. `how` says how to give an agent a URL. Empty when nothing
    looks wrong (the condition waited for may simply be another)."""
    hints: list[str] = []
    sent = [m for m in messages if m["kind"] != USER_MESSAGE]
    if not messages:
        hints.append(
            "the emulator holds no message of this test: nothing was sent to it (a "
            "client pointed at another URL, or at the real host without rcs_mock?)"
        )
    waiting = [m for m in sent if m["status"] in NOT_ARRIVED]
    if waiting and clock.get("mode") == "manual":
        waits = (
            f"{len(waiting)} messages still wait for their"
            if len(waiting) > 1
            else "1 message still waits for its"
        )
        if advanced == 0:
            hints.append(
                "the emulator's clock is manual: time stands still until the test advances "
                f"it, and this test never did, so {waits} scenario's first step (delivered, "
                "read...): call rcs_emulator.advance(60) (or '5m') before waiting"
            )
        else:
            hints.append(
                f"{waits} scenario's next step after rcs_emulator.advance() moved time "
                f"{advanced:g} s in all: advance further (the default scenario delivers 1-3 s "
                "after the send and reads 2-5 s later)"
            )
    by_message: dict[str, list[View]] = {}
    for delivery in deliveries:
        by_message.setdefault(delivery["message_id"], []).append(delivery)
    # Receipts and answers, and no delivery at all: there was no URL to send them to.
    silent = sorted(
        {
            (m["provider"], m["agent_id"])
            for m in messages
            if any(e["type"] in CALLED_BACK for e in m["events"]) and not by_message.get(m["id"])
        }
    )
    for provider, agent in silent:
        said = no_webhook_url(agent, how.format(provider=provider, agent=agent))
        hints.append(f"{provider} {said}")
    elsewhere = sorted({d["url"] for d in deliveries if receiver and d["url"] != receiver})
    for url in elsewhere:
        hints.append(f"callbacks went to {url}, not to this receiver ({receiver})")
    ours = [d for d in deliveries if not receiver or d["url"] == receiver]
    refused = [d for d in ours if callback_for([d], d["event"]).fate is Fate.NOT_ACCEPTED]
    for delivery in refused[-3:]:
        hints.append(f"the {delivery['name']} {not_accepted(delivery)}")
    under_way = [d for d in ours if callback_for([d], d["event"]).fate is Fate.UNDER_WAY]
    if under_way:
        hints.append(
            f"{len(under_way)} callback{'s are' if len(under_way) > 1 else ' is'} still "
            "under way (waiting for a slot, or retried later by the provider's rule)"
        )
    return hints
