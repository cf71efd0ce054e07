"""The baseline: a bare Starlette endpoint on the same uvicorn, that only parses the JSON, makes a
uuid, appends to a list and answers. Sends are compared with it; as a webhook receiver it counts
what arrived, and when the last did."""

from __future__ import annotations

import time
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

STORED: list[dict[str, object]] = []
LAST = [0.0]  # wall time of the newest request


async def send(request: Request) -> Response:
    body = await request.json()
    tag = str(uuid.uuid4())
    STORED.append({"id": tag, "body": body})
    LAST[0] = time.time()
    return JSONResponse({"tagId": tag})


async def count(request: Request) -> Response:
    return JSONResponse({"received": len(STORED), "last": LAST[0]})


app = Starlette(
    routes=[Route("/{path:path}", send, methods=["POST"]), Route("/count", count, methods=["GET"])]
)
