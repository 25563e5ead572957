"""The local stack over HTTP, driven by the public `bigcommerce` client as an integrator would drive it."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from bigcommerce.connection import OAuthConnection
from bigcommerce.exception import ClientRequestException

from tests.e2e.conftest import LocalStack


def test_e2e_codegen_returns_stored_codes_through_the_bigcommerce_client(
    stack: LocalStack, bc_client: OAuthConnection
) -> None:
    # When an integrator asks for 5 codes with the public client, unchanged
    answer = bc_client.post(
        stack.v3_url("promotions/1/codegen"), {"batch_size": 5, "max_uses": 10, "max_uses_per_customer": 5}
    )
    # Then it gets BigCommerce's body with 5 distinct 16-character codes
    assert answer["meta"] == {}
    data = answer["data"]
    assert (data["batch_size"], data["max_uses"], data["max_uses_per_customer"]) == (5, 10, 5)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", data["created"])
    codes = [entry["code"] for entry in data["codes"]]
    assert len(set(codes)) == 5
    assert all(re.fullmatch(r"[A-Z0-9]{16}", code) for code in codes)
    assert bc_client._last_response.status_code == 201


def test_e2e_codegen_errors_reach_the_client_with_the_contract_status(
    stack: LocalStack, bc_client: OAuthConnection
) -> None:
    # When the batch is too large
    with pytest.raises(ClientRequestException) as too_large:
        bc_client.post(stack.v3_url("promotions/1/codegen"), {"batch_size": 251})
    # Then the client sees the 422 and its contract body
    assert too_large.value.response.status_code == 422
    assert too_large.value.response.json()["errors"][0]["title"].startswith("batch_size")
    # When the promotion is not a bulk coupon
    with pytest.raises(ClientRequestException) as not_bulk:
        bc_client.post(stack.v3_url("promotions/2/codegen"), {"batch_size": 1})
    assert not_bulk.value.response.status_code == 405


def test_e2e_codegen_read_only_token_is_forbidden(stack: LocalStack) -> None:
    answer = requests.post(
        stack.v3_url("promotions/1/codegen"),
        data=json.dumps({"batch_size": 1}),
        headers={"X-Auth-Token": stack.readonly_token, "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 403
    assert answer.json()["title"] == "You don't have a required scope to access the endpoint"


def test_e2e_codegen_garbage_and_huge_bodies_are_refused(stack: LocalStack) -> None:
    headers = {"X-Auth-Token": stack.token, "Content-Type": "application/json"}
    garbage = requests.post(stack.v3_url("promotions/1/codegen"), data="{nope", headers=headers, timeout=30)
    assert garbage.status_code == 400 and garbage.json()["status"] == 400
    huge = requests.post(
        stack.v3_url("promotions/1/codegen"), data=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers=headers, timeout=30
    )
    assert huge.status_code == 413


def test_e2e_ten_concurrent_batches_of_250_are_all_distinct(stack: LocalStack) -> None:
    # Given ten clients at once, the endpoint's concurrency limit
    def generate(_: int) -> list[str]:
        answer = requests.post(
            stack.v3_url("promotions/1/codegen"),
            data=json.dumps({"batch_size": 250}),
            headers={"X-Auth-Token": stack.token, "Content-Type": "application/json"},
            timeout=60,
        )
        assert answer.status_code == 201, answer.text
        return [entry["code"] for entry in answer.json()["data"]["codes"]]

    with ThreadPoolExecutor(max_workers=10) as pool:
        batches = list(pool.map(generate, range(10)))
    # Then every request got 250 codes and no code repeats across them
    codes = [code for batch in batches for code in batch]
    assert len(codes) == 2_500 == len(set(codes))
