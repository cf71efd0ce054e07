"""SerwerSMS contact groups (`group_id` in send_rcs): set from config and steered through the
control API at /_emulator/serwersms/groups."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...http.body import BadJson, BodyTooLarge, parse_json, read_limited
from ...http.responses import JSONResponse

MAX_BODY = 8 * 1024 * 1024


def group_routes(groups: dict[str, list[str]]) -> list[BaseRoute]:
    async def put_group(request: Request) -> Response:
        try:
            data = parse_json(await read_limited(request, MAX_BODY))
        except (BadJson, BodyTooLarge):
            data = None
        phones = data.get("phones") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or set(data) != {"phones"}
            or not isinstance(phones, list)
            or not all(isinstance(p, str) for p in phones)
        ):
            raise HTTPException(400, 'send {"phones": ["+48500600700", ...]} and nothing else')
        groups[request.path_params["group_id"]] = phones
        return JSONResponse({"group_id": request.path_params["group_id"], "phones": phones})

    async def list_groups(request: Request) -> Response:
        items = [{"group_id": k, "phones": v} for k, v in groups.items()]
        return JSONResponse({"items": items, "total": len(items)})

    return [
        Route("/serwersms/groups", list_groups, methods=["GET"]),
        Route("/serwersms/groups/{group_id}", put_group, methods=["PUT"]),
    ]
