"""Per-store limits through the real ApiFunction: rate-limit headers, the request quota, concurrency leases."""

import json
import time
from collections.abc import Callable

import pytest

from couponmint.adapters.factory import repositories
from couponmint.adapters.limits import LEASE_SECONDS
from tests.integration.helpers import HttpAnswer, Store, fresh_other_store

Caller = Callable[..., HttpAnswer]
RATE_HEADERS = {
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
}


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.mark.parametrize(
    ("method", "path", "body", "token_of", "status"),
    [
        ("POST", "/promotions/1/codegen", "garbage", "token", 400),
        ("POST", "/promotions/1/codegen", '{"batch_size": 1}', None, 401),
        ("POST", "/promotions/1/codegen", '{"batch_size": 1}', "readonly", 403),
        ("POST", "/promotions/9/codegen", '{"batch_size": 1}', "token", 404),
        ("POST", "/promotions/2/codegen", '{"batch_size": 1}', "token", 405),
        ("POST", "/promotions/1/codegen", '{"batch_size": 0}', "token", 422),
        ("GET", "/promotions/1/codes", None, "readonly", 200),
        ("DELETE", "/promotions/1/codes/5", None, "token", 204),
    ],
)
def test_limits_every_answer_carries_all_four_rate_headers(
    store: Store, call_api: Caller, method: str, path: str, body: str | None, token_of: str | None, status: int
) -> None:
    token = {"token": store.token, "readonly": store.readonly_token, None: None}[token_of]
    answer = call_api(method, f"/stores/{store.store_hash}/v3{path}", body, token)
    assert answer.status == status
    assert set(answer.headers) >= RATE_HEADERS
    assert answer.headers["X-Rate-Limit-Requests-Quota"] == "450"
    assert answer.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    assert 0 < int(answer.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30_000


def test_limits_quota_counts_requests_and_answers_429_past_it(store: Store, call_api: Caller) -> None:
    # Given a store whose operator set a quota of 3 requests a minute
    repositories().limits.set_store_limits(store.store_hash, request_quota=3, window_ms=60_000)
    path = f"/stores/{store.store_hash}/v3/promotions/1/codes"
    # When it makes 4 requests
    answers = [call_api("GET", path, None, store.token) for _ in range(4)]
    # Then the first 3 pass with the quota counting down, and the 4th is refused with a retry time
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-Rate-Limit-Requests-Left"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-Rate-Limit-Requests-Quota"] == "3"
    refused = answers[3]
    assert refused.body["status"] == 429
    assert 1 <= int(refused.headers["X-Retry-After"]) <= 60


def test_limits_eleventh_concurrent_codegen_gets_429(store: Store, call_api: Caller) -> None:
    # Given ten codegen requests of the store in flight (their leases held)
    stores = repositories()
    for holder in range(10):
        assert stores.limits.take_lease(store.store_hash, "codegen", f"in-flight-{holder}", now_ms(), 10)
    # When an eleventh arrives
    answer = call_api("POST", f"/stores/{store.store_hash}/v3/promotions/1/codegen", '{"batch_size": 1}', store.token)
    # Then it is refused with 429, the four headers and X-Retry-After, and nothing was queued
    assert answer.status == 429
    assert set(answer.headers) >= RATE_HEADERS and answer.headers["X-Retry-After"] == "1"
    assert stores.promotions.store_code_count(store.store_hash) == 0
    # And list requests have slots of their own
    listing = call_api("GET", f"/stores/{store.store_hash}/v3/promotions/1/codes", None, store.token)
    assert listing.status == 200


def test_limits_lease_of_a_dead_request_expires(generator_running: None, store: Store, call_api: Caller) -> None:
    # Given ten leases taken by requests that died before giving them back (taken long enough ago to expire)
    stores = repositories()
    long_ago = now_ms() - (LEASE_SECONDS + 1) * 1000
    for holder in range(10):
        assert stores.limits.take_lease(store.store_hash, "codegen", f"crashed-{holder}", long_ago, 10)
    # When a new request arrives
    answer = call_api("POST", f"/stores/{store.store_hash}/v3/promotions/1/codegen", '{"batch_size": 2}', store.token)
    # Then the expired leases are dropped and it is served
    assert answer.status == 201
    assert len(answer.body["data"]["codes"]) == 2


def test_limits_leases_are_given_back_after_each_request(
    generator_running: None, store: Store, call_api: Caller
) -> None:
    # When twelve requests run one after another
    statuses = [
        call_api(
            "POST", f"/stores/{store.store_hash}/v3/promotions/1/codegen", json.dumps({"batch_size": 1}), store.token
        ).status
        for _ in range(12)
    ]
    # Then none was refused: each gave its slot back
    assert statuses == [201] * 12


def test_limits_refused_requests_show_no_store_figures_and_read_no_quota(
    store: Store, call_api: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store with its own quota of 5, two requests into its window
    repositories().limits.set_store_limits(store.store_hash, request_quota=5, window_ms=60_000)
    path = f"/stores/{store.store_hash}/v3/promotions/1/codes"
    for _ in range(2):
        assert call_api("GET", path, None, store.token).status == 200
    other = fresh_other_store(store)
    # When requests without a token, with an unknown one, or with another store's token arrive, while any
    # read or count of a quota would fail
    from couponmint.adapters.limits import LimitRepository

    def no_quota(self: LimitRepository, *args: object, **kwargs: object) -> object:
        raise AssertionError("a refused request touched the store's quota")

    with monkeypatch.context() as refusing:
        for name in ("store_limits", "count_request"):
            refusing.setattr(LimitRepository, name, no_quota)
        refused = [call_api("GET", path, None, token) for token in (None, "cm_nobody", other.token)]
    # Then each is refused with the default quota's headers, not the store's, and none was counted
    assert [a.status for a in refused] == [401, 401, 403]
    for answer in refused:
        assert answer.headers["X-Rate-Limit-Requests-Quota"] == "450"
        assert answer.headers["X-Rate-Limit-Requests-Left"] == "450"
    assert call_api("GET", path, None, store.token).headers["X-Rate-Limit-Requests-Left"] == "2"
