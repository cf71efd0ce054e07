"""POST /_emulator/webhooks/{id}/redeliver: a finished delivery sent once more, now."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.emulator import Emulator
from ..http.responses import JSONResponse
from ..http.validators import is_whole_number
from .params import ControlError


def redeliver_routes(emulator: Emulator) -> list[BaseRoute]:
    async def redeliver(request: Request) -> Response:
        """
        summary: Send a delivered or failed webhook delivery again, now.
        description: >-
          One new attempt to the delivery's URL with its payload, logged like the others (the
          attempt log and surprises), with no retries after it. A delivery still under way
          (pending, in flight, waiting for a retry) answers 409.
        parameters: [{name: delivery_id, in: path, required: true, schema: {type: integer}}]
        responses:
          202: {description: The delivery, its new attempt under way.}
          404: {description: No such delivery.}
          409: {description: The delivery is not finished.}
        """
        raw = request.path_params["delivery_id"]
        if not is_whole_number(raw):
            raise ControlError(404, "no webhook delivery with that id")
        try:
            delivery = emulator.dispatcher.redeliver(int(raw))
        except KeyError:
            raise ControlError(404, "no webhook delivery with that id") from None
        except ValueError as exc:
            raise ControlError(409, str(exc)) from None
        return JSONResponse(delivery.to_dict(), 202)

    return [Route("/webhooks/{delivery_id}/redeliver", redeliver, methods=["POST"])]
