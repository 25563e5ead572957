"""The OpenAPI document: served by the API, generated from the routes and models, committed without drift."""

import json
from collections.abc import Callable

from tests.integration.helpers import ROOT, HttpAnswer

COMMITTED = ROOT / "docs" / "openapi.json"


def test_openapi_document_is_served_without_a_token_and_matches_the_committed_copy(
    call_api: Callable[..., HttpAnswer],
) -> None:
    # When the document is asked for without a token
    answer = call_api("GET", "/openapi.json")
    # Then it is served, describes every operation, and equals docs/openapi.json (run `make openapi` after a change)
    assert answer.status == 200
    assert answer.body == json.loads(COMMITTED.read_text()), "docs/openapi.json is stale: run `make openapi`"
    operations = {(path, method) for path, item in answer.body["paths"].items() for method in item}
    assert ("/stores/{store_hash}/v3/promotions/{promotion_id}/codegen", "post") in operations
    # BigCommerce's 13, and couponmint's batch, 4 job, 4 redemption, 5 schedule and 5 webhook operations
    assert len(operations) == 32


def test_openapi_document_describes_the_codegen_body_with_the_contracts_bounds(
    call_api: Callable[..., HttpAnswer],
) -> None:
    schemas = call_api("GET", "/openapi.json").body["components"]["schemas"]
    batch_size = schemas["CodegenRequest"]["properties"]["batch_size"]
    assert (batch_size["type"], batch_size["minimum"], batch_size["maximum"]) == ("integer", 1, 250)
    assert schemas["CodegenRequest"]["required"] == ["batch_size"]


def test_swagger_ui_is_served(call_api: Callable[..., HttpAnswer]) -> None:
    raw = call_api("GET", "/swagger")
    assert raw.status == 200
    assert "swagger-ui" in raw.body
