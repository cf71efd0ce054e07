"""Schemathesis against the app, from the OpenAPI descriptions it serves: no 5xx, no status,
content type or body outside the description, for every operation of both providers.

Each operation gets its schema's examples and boundary cases, then EXAMPLES generated ones,
derandomized: every run sends the same requests, so a failure here is one that repeats (the
random search stays for `schemathesis run` against a served emulator)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from emulator import Config, create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # schemathesis's own client

EXAMPLES = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,  # a busy machine is not a slow emulator
    suppress_health_check=[HealthCheck.too_slow],
)
APP = create_app(Config(clock="manual", seed=11))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
generic = schemathesis.openapi.from_asgi("/_emulator/openapi/generic.json", APP)
serwersms = schemathesis.openapi.from_asgi("/_emulator/openapi/serwersms.json", APP)
# The event stream never ends: nothing to validate in one call.
control = schemathesis.openapi.from_asgi("/_emulator/openapi.json", APP).exclude(
    path="/_emulator/stream"
)


@generic.parametrize()
@EXAMPLES
def test_generic(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": "Bearer fuzz"}, checks=CHECKS)


@serwersms.parametrize()
@EXAMPLES
def test_serwersms(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": "Bearer fuzz"}, checks=CHECKS)


@control.parametrize()
@EXAMPLES
def test_control(case: schemathesis.Case) -> None:
    """Whatever the fuzzer sends the control API (wrong types, unknown fields, odd paths), the
    answer is an answer: never a 5xx."""
    case.call_and_validate(
        headers={"content-type": "application/json"}, checks=[not_a_server_error]
    )
