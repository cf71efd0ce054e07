"""Schemathesis against the app, from the OpenAPI descriptions it serves: no 5xx, no status,
content type or body outside the description, for every operation of both providers."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from emulator import Config, create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # schemathesis's own client

APP = create_app(Config(clock="manual", seed=11))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip
generic = schemathesis.openapi.from_asgi("/_emulator/openapi/generic.json", APP)
serwersms = schemathesis.openapi.from_asgi("/_emulator/openapi/serwersms.json", APP)
# The event stream never ends: nothing to validate in one call.
control = schemathesis.openapi.from_asgi("/_emulator/openapi.json", APP).exclude(
    path="/_emulator/stream"
)


@generic.parametrize()
def test_generic(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": "Bearer fuzz"}, checks=CHECKS)


@serwersms.parametrize()
def test_serwersms(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": "Bearer fuzz"}, checks=CHECKS)


@control.parametrize()
def test_control(case: schemathesis.Case) -> None:
    """Whatever the fuzzer sends the control API (wrong types, unknown fields, odd paths), the
    answer is an answer: never a 5xx."""
    case.call_and_validate(
        headers={"content-type": "application/json"}, checks=[not_a_server_error]
    )
