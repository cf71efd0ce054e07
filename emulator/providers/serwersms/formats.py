"""An answer in the format the path asks for: `/<action>` and `.json` as JSON, `.xml` as XML."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...http.responses import JSONResponse
from . import xml


def respond(request: Request, body: Any) -> Response:
    if request.scope["path"].endswith(".xml"):
        return Response(xml.render(body), media_type="application/xml")
    return JSONResponse(body)
