"""Property-based run against the local stack from couponmint's own OpenAPI document.

Each run gets its own stack (its operations delete promotions and codes at random). Store hashes are pinned
to the stack's demo store, and the modify token is sent, so the generated requests reach the real handlers
instead of stopping at 403.
"""

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import LocalStack

ROOT = Path(__file__).resolve().parents[2]
FUZZ_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)

couponmint_schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
# Requests sent by this module's run (checked by its last test).
SENT = {"requests": 0}


@couponmint_schema.parametrize()
# Each operation makes up to 80 requests; a busy 2-core machine needs more than the suite's 300 s for some.
@pytest.mark.timeout(900)
@FUZZ_SETTINGS
def test_schemathesis_couponmint_api_conforms_to_its_document(case: Any, own_stack: LocalStack) -> None:
    # Given any request the document allows (and many it does not)
    if case.path_parameters and "store_hash" in case.path_parameters:
        case.path_parameters["store_hash"] = own_stack.store_hash
    SENT["requests"] += 1
    # Then the answer is never a 5xx, its status is documented, and its body matches the document
    case.call_and_validate(
        base_url=own_stack.base_url,
        headers={"X-Auth-Token": own_stack.token},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        timeout=60,
    )


def test_schemathesis_run_sent_at_least_a_thousand_requests() -> None:
    # Runs after the run above (pytest keeps a module's order): the fuzzing was not a token effort.
    print(f"schemathesis requests from couponmint's document: {SENT['requests']}")
    assert SENT["requests"] >= 1_000
