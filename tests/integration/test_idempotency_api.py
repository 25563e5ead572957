"""Idempotency-Key on POST: a retry gets the first answer back and creates nothing."""

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from couponmint.adapters.factory import repositories
from couponmint_dev.local.lambdas import load_handler
from tests.integration.helpers import TEMPLATE, HttpAnswer, Store

Caller = Callable[..., HttpAnswer]


def post(call_api: Caller, store: Store, path: str, body: dict[str, Any], key: str | None) -> HttpAnswer:
    event_path = f"/stores/{store.store_hash}/v3{path}"
    return call_api("POST", event_path, json.dumps(body), store.token, headers={"Idempotency-Key": key} if key else {})


def test_idempotency_retry_with_the_same_key_returns_the_first_answer(
    generator_running: None, store: Store, call_api: Caller
) -> None:
    # Given a codegen request made with an Idempotency-Key
    first = post(call_api, store, "/promotions/1/codegen", {"batch_size": 5}, "retry-1")
    assert first.status == 201
    # When the client retries it (same key, same body, even spelled differently)
    again = call_api(
        "POST",
        f"/stores/{store.store_hash}/v3/promotions/1/codegen",
        '{ "batch_size" : 5 }',
        store.token,
        headers={"Idempotency-Key": "retry-1"},
    )
    # Then it gets the same codes back and no second batch exists
    assert again.status == 201
    assert again.body == first.body
    assert repositories().promotions.store_code_count(store.store_hash) == 5
    # And a new key makes a new batch
    other = post(call_api, store, "/promotions/1/codegen", {"batch_size": 5}, "retry-2")
    assert other.status == 201 and other.body["data"]["codes"] != first.body["data"]["codes"]
    assert repositories().promotions.store_code_count(store.store_hash) == 10


def test_idempotency_same_key_with_another_body_is_refused(
    generator_running: None, store: Store, call_api: Caller
) -> None:
    assert post(call_api, store, "/promotions/1/codegen", {"batch_size": 2}, "k-body").status == 201
    answer = post(call_api, store, "/promotions/1/codegen", {"batch_size": 3}, "k-body")
    assert answer.status == 422
    assert answer.body == {
        "errors": [{"status": 422, "title": "Idempotency-Key: already used with a different request body"}]
    }
    assert repositories().promotions.store_code_count(store.store_hash) == 2


def test_idempotency_keys_are_scoped_to_the_path(store: Store, call_api: Caller) -> None:
    # The same key on two different operations does two different things
    a = post(call_api, store, "/promotions/1/codes", {"code": "SCOPE-A"}, "same-key")
    b = post(
        call_api,
        store,
        "/promotions",
        {"name": "P", "redemption_type": "AUTOMATIC", "rules": [{"action": {}}]},
        "same-key",
    )
    assert (a.status, b.status) == (201, 201)


def test_idempotency_retried_promotion_and_code_are_created_once(store: Store, call_api: Caller) -> None:
    body = {"name": "Once", "redemption_type": "COUPON", "coupon_type": "BULK", "rules": [{"action": {}}]}
    first = post(call_api, store, "/promotions", body, "promo-1")
    second = post(call_api, store, "/promotions", body, "promo-1")
    assert first.body == second.body
    assert [p.id for p in repositories().promotions.of_store(store.store_hash)] == [1, 2, 3, 4]
    code_1 = post(call_api, store, "/promotions/1/codes", {"code": "ONCE1"}, "code-1")
    code_2 = post(call_api, store, "/promotions/1/codes", {"code": "ONCE1"}, "code-1")
    assert (code_1.status, code_2.status) == (201, 201) and code_1.body == code_2.body


def test_idempotency_errors_are_not_remembered(store: Store, call_api: Caller) -> None:
    # A refused request (unknown promotion) with a key, then the same key once the promotion exists... the
    # second attempt runs for real
    assert post(call_api, store, "/promotions/1/codes", {"code": "DUP1"}, None).status == 201
    refused = post(call_api, store, "/promotions/1/codes", {"code": "DUP1"}, "err-1")
    assert refused.status == 409
    repositories().codes.delete([repositories().codes.get(store.store_hash, "DUP1")])  # type: ignore[list-item]
    assert post(call_api, store, "/promotions/1/codes", {"code": "DUP1"}, "err-1").status == 201


def test_idempotency_concurrent_duplicates_make_one_batch(
    generator_running: None, store: Store, call_api: Caller, resources: Any
) -> None:
    # Given six copies of one request sent at once (each thread with its own copy of the handler, as Lambda)
    def send(_: int) -> HttpAnswer:
        handler = load_handler(TEMPLATE, "ApiFunction")
        return call_api(
            "POST",
            f"/stores/{store.store_hash}/v3/promotions/1/codegen",
            '{"batch_size": 7}',
            store.token,
            headers={"Idempotency-Key": "burst"},
            handler=handler,
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(send, range(6)))
    # Then each is the one answer or a 409 "in progress", and exactly one batch of 7 exists
    created = [a for a in answers if a.status == 201]
    assert created and all(a.status in (201, 409) for a in answers)
    assert all(a.body == created[0].body for a in created)
    assert repositories().promotions.store_code_count(store.store_hash) == 7
