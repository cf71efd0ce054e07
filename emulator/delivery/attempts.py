"""One webhook attempt: the POST of a delivery's payload and its outcome, whichever queue the
delivery waits in (the memory engine's dispatcher, or the Redis engine's claimed attempts)."""

from __future__ import annotations

import asyncio
import logging

import orjson

from ..core.clock import PINNED, Clock
from ..core.records import Attempt, Delivery
from .transport import DeliveryError, Transport

log = logging.getLogger("rcs_emulator.webhooks")


async def post(transport: Transport, clock: Clock, delivery: Delivery, number: int) -> Attempt:
    """One POST of the delivery's payload: the attempt's outcome, never an exception. It is
    stamped with the time it was due on a manual clock (an advance runs each at its own
    time), else now."""
    # The task making it may have been started by a callback of an event an advance ran at its
    # own time (a task inherits that context): this attempt's time is its own delivery's, and
    # so is the outcome's that its caller works out next in this task.
    PINNED.set(None)
    attempt = Attempt(number=number, time=clock.stamp(delivery.due_at))
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        body = orjson.dumps(delivery.payload)
        status, text = await transport.post(delivery.url, body, delivery.policy.timeout)
        attempt.status = status
        attempt.body = text
        attempt.accepted = delivery.policy.accepts(status, text)
    except DeliveryError as exc:
        attempt.error = str(exc)
    except Exception as exc:  # a bug of ours must not leave the delivery in flight forever
        log.exception("webhook %s to %s: unexpected error", delivery.id, delivery.url)
        attempt.error = f"InternalError: {type(exc).__name__}: {exc}"
    attempt.duration_ms = (loop.time() - started) * 1000
    return attempt
