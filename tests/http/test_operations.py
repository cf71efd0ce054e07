"""The HTTP toolkit's operations, on a tiny app of their own: bodies and queries are models that
refuse what they do not know, and the OpenAPI description is generated from the same models."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from emulator.http.operations import (
    ApiError,
    Operation,
    Page,
    Strict,
    error_response,
    openapi,
    page,
)
from emulator.http.responses import JSONResponse

pytestmark = pytest.mark.anyio


class ItemQuery(Page):
    colour: str | None = Field(None, description="Only items of this colour.")


class ItemBody(Strict):
    name: str
    size: int = Field(1, ge=1)


ITEMS = [{"name": f"item{i}", "colour": "red" if i % 2 else "blue"} for i in range(5)]


async def list_items(request: Request, query: ItemQuery) -> Response:
    found = [i for i in ITEMS if query.colour is None or i["colour"] == query.colour]
    return page(found, dict, query)


async def add_item(request: Request, body: ItemBody) -> Response:
    if body.name == "taken":
        raise ApiError(409, "that name is taken")
    return JSONResponse({"name": body.name, "size": body.size, "id": request.path_params["id"]})


OPERATIONS = [
    Operation("GET", "/items", "Items.", list_items, query=ItemQuery),
    Operation(
        "PUT",
        "/items/{id:path}",
        "Add an item.",
        add_item,
        body=ItemBody,
        responses={200: "The item.", 409: "Taken."},
    ),
]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[op.route() for op in OPERATIONS], exception_handlers={ApiError: error_response}
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://toolkit") as c:
        yield c


async def test_queries_filter_and_page(client: httpx.AsyncClient) -> None:
    answer = (await client.get("/items", params={"colour": "red", "limit": 1})).json()
    assert answer == {"items": [{"name": "item1", "colour": "red"}], "total": 2}


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        (
            {"color": "red"},
            "color",
            "unknown filter 'color' (did you mean 'colour'?) (this one takes: limit, offset, colour)",
        ),
        ({"limit": "lots"}, "limit", "limit: must be a valid integer"),
        ({"offset": "-1"}, "offset", "offset: must be greater than or equal to 0"),
    ],
)
async def test_queries_refuse_what_they_do_not_know(client, params, field, says) -> None:
    answer = await client.get("/items", params=params)
    assert answer.status_code == 400
    assert answer.json()["field"] == field and answer.json()["error"].startswith(says)


async def test_bodies_are_strict(client: httpx.AsyncClient) -> None:
    ok = await client.put("/items/a/b", json={"name": "x"})
    assert ok.json() == {"name": "x", "size": 1, "id": "a/b"}
    for body, field in (
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": 5}, "name"),
        ({"name": "x", "size": "2"}, "size"),
        ({}, "name"),
    ):
        answer = await client.put("/items/a", json=body)
        assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    taken = await client.put("/items/a", json={"name": "taken"})
    assert taken.status_code == 409 and taken.json() == {"error": "that name is taken"}


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    answer = await client.put(
        "/items/a",
        content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413


def test_openapi_is_generated_from_the_models() -> None:
    spec = openapi(OPERATIONS, "/api", {"title": "t", "version": "1"})
    listing = spec["paths"]["/api/items"]["get"]
    colour = next(p for p in listing["parameters"] if p["name"] == "colour")
    assert colour["description"] == "Only items of this colour." and colour["in"] == "query"
    put = spec["paths"]["/api/items/{id}"]["put"]
    assert put["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    body = spec["components"]["schemas"]["ItemBody"]
    assert body["required"] == ["name"] and body["additionalProperties"] is False
    assert set(put["responses"]) == {"200", "400", "409"}
