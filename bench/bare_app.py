"""The baseline: a bare Starlette endpoint on the same uvicorn, that only parses the JSON, makes a
uuid, appends to a list and answers. Sends are compared with it."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

STORED: list[dict[str, object]] = []


async def send(request: Request) -> Response:
    body = await request.json()
    tag = str(uuid.uuid4())
    STORED.append({"id": tag, "body": body})
    return JSONResponse({"tagId": tag})


async def count(request: Request) -> Response:
    return JSONResponse({"received": len(STORED)})


app = Starlette(routes=[Route("/{path:path}", send, methods=["POST"]),
                        Route("/count", count, methods=["GET"])])  # fmt: skip
