"""The lifecycle's baseline: the same HTTP traffic as the emulator's whole job (one send in, two
callbacks out per recipient) made by a bare Starlette app on the same stack. A send is parsed
and answered with a uuid, and each recipient's two callbacks (delivered, read) are held, as the
emulator's manual clock holds them; POST /advance then delivers every held callback with the
fastest plain client loop of bench/dispatch.py (LOOPS keep-alive connections, the emulator's own
http1 client), and answers once all are delivered.

Run: uvicorn bench.bare_lifecycle:app with RECEIVER=http://host:port/hook."""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.delivery.http1 import Http1Pool

LOOPS = 16
HELD: list[bytes] = []
SENT = [0]


async def send(request: Request) -> Response:
    body = orjson.loads(await request.body())
    tag = str(uuid.uuid4())
    for number in body["number"]:
        SENT[0] += 1
        for status in ("DELIVERED", "READ"):
            HELD.append(orjson.dumps({"tagId": tag, "phoneNumber": number, "status": status}))
    return JSONResponse({"tagId": tag})


async def advance(request: Request) -> Response:
    target = urlsplit(os.environ["RECEIVER"])
    pool = Http1Pool(LOOPS)
    held, HELD[:] = list(HELD), []
    queue = iter(held)

    async def loop() -> None:
        for payload in queue:  # one shared iterator: each callback is taken once
            await pool.post(target, payload, 10.0)

    await asyncio.gather(*(loop() for _ in range(LOOPS)))
    pool.close()
    return JSONResponse({"delivered": len(held)})


async def count(request: Request) -> Response:
    return JSONResponse({"received": SENT[0], "held": len(HELD)})


async def reset(request: Request) -> Response:
    HELD.clear()
    SENT[0] = 0
    return JSONResponse({"reset": True})


app = Starlette(
    routes=[
        Route("/advance", advance, methods=["POST"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/count", count, methods=["GET"]),
        Route("/{path:path}", send, methods=["POST"]),
    ]
)
