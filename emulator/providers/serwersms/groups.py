"""SerwerSMS contact groups (`group_id` in send_rcs): set from config and steered through the
control API at /_emulator/serwersms/groups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from ...http.operations import Operation, Page, Strict, page
from ...http.responses import JSONResponse


class Groups:
    """The groups in force: the config's, then as the control API sets them. A part of the
    Emulator's settings (core/parts.py): every process holds them alike."""

    name = "serwersms"

    def __init__(self, configured: Mapping[str, list[str]]) -> None:
        self.configured = {k: list(v) for k, v in configured.items()}
        self.phones: dict[str, list[str]] = {}
        self.restore()

    def data(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.phones.items()}

    def load(self, data: dict[str, list[str]] | None) -> None:
        self.phones.clear()  # (the dict the control API edits stays the same object)
        self.phones.update({k: list(v) for k, v in (data or {}).items()})

    def restore(self) -> None:
        self.load(self.configured)

    def reset(self) -> None:
        return None  # (settings only: nothing of a run)


class GroupBody(Strict):
    phones: list[str]  # as a client would list them: the send normalises each


def group_operations(
    groups: dict[str, list[str]], changed: Callable[[], Awaitable[None]]
) -> list[Operation]:
    async def put_group(request: Request, body: GroupBody) -> Response:
        group_id = request.path_params["group_id"]
        groups[group_id] = list(body.phones)
        await changed()  # every process of a shared state takes it
        return JSONResponse({"group_id": group_id, "phones": groups[group_id]})

    async def list_groups(request: Request, query: Page) -> Response:
        items = [{"group_id": k, "phones": v} for k, v in groups.items()]
        return page(items, dict, query)

    return [
        Operation(
            "GET",
            "/serwersms/groups",
            "SerwerSMS contact groups.",
            list_groups,
            query=Page,
            responses={200: '{"items": [...], "total": N}'},
        ),
        Operation(
            "PUT",
            "/serwersms/groups/{group_id}",
            "Set a SerwerSMS contact group's numbers.",
            put_group,
            body=GroupBody,
            responses={200: "The group."},
        ),
    ]
