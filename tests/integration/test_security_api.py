"""One store's token neither reads nor changes another store's data, on any route."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from couponmint.adapters.aws import dynamodb_resource
from couponmint.adapters.factory import repositories
from couponmint.api.methods import served_routes
from couponmint.api.paths import (
    BATCH,
    CODE,
    CODE_REDEMPTIONS,
    CODEGEN,
    CODES,
    CODES_BY_TEXT,
    HOOK,
    HOOKS,
    JOB,
    JOBS,
    PROMOTION,
    PROMOTIONS,
    REDEMPTION,
    REDEMPTIONS,
    SCHEDULE,
    SCHEDULES,
    VALIDATE,
)
from couponmint.config import get_settings
from couponmint.models.records import Scope
from couponmint.service import accounts
from couponmint_dev.local.lambdas import load_handler
from tests.integration.helpers import TEMPLATE, HttpAnswer, Store

Caller = Callable[..., HttpAnswer]

# A request that would succeed for the store's own token, for each route the API serves (method, path as
# registered): the routes themselves come from the resolver, so a new route without an example fails below.
EXAMPLES: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {
    ("POST", CODEGEN): ("", {"batch_size": 1}),
    ("GET", BATCH): ("", None),
    ("POST", JOBS): ("", {"quantity": 1}),
    ("GET", JOBS): ("", None),
    ("GET", JOB): ("", None),
    ("DELETE", JOB): ("", None),
    ("GET", CODES_BY_TEXT): ("?code=MINE1", None),
    ("DELETE", CODES_BY_TEXT): ("?code=MINE1", None),
    ("GET", CODES): ("", None),
    ("POST", CODES): ("", {"code": "THEIRS1"}),
    ("DELETE", CODES): ("?id:in=1", None),
    ("DELETE", CODE): ("", None),
    ("GET", PROMOTIONS): ("", None),
    ("POST", PROMOTIONS): ("", {"name": "x", "redemption_type": "AUTOMATIC", "rules": [{"action": {}}]}),
    ("DELETE", PROMOTIONS): ("?id:in=3", None),
    ("GET", PROMOTION): ("", None),
    ("PUT", PROMOTION): ("", {"name": "taken over"}),
    ("DELETE", PROMOTION): ("", None),
    ("POST", VALIDATE): ("", {"code": "MINE1"}),
    ("POST", REDEMPTIONS): ("", {"code": "MINE1", "customer": "ann", "order_id": "o1"}),
    ("DELETE", REDEMPTION): ("", None),
    ("GET", CODE_REDEMPTIONS): ("", None),
    ("POST", SCHEDULES): ("", {"expression": "rate(1 day)", "quantity": 5}),
    ("GET", SCHEDULES): ("", None),
    ("GET", SCHEDULE): ("", None),
    ("PUT", SCHEDULE): ("", {"state": "DISABLED"}),
    ("DELETE", SCHEDULE): ("", None),
    ("POST", HOOKS): ("", {"scope": "store/promotion/codegen/job/completed", "destination": "https://example.com/in"}),
    ("GET", HOOKS): ("", None),
    ("GET", HOOK): ("", None),
    ("PUT", HOOK): ("", {"is_active": False}),
    ("DELETE", HOOK): ("", None),
}
PATH_VALUES = {
    "promotion_id": "1",
    "code_id": "1",
    "batch_id": "0" * 32,
    "job_id": "0" * 32,
    "redemption_id": "1-" + "0" * 32,
    "schedule_id": "0" * 32,
    "hook_id": "1",
}
# POSTs that change nothing, which a read-only token may send (api/admission.py).
READING_POSTS = {("POST", VALIDATE)}


def served() -> list[tuple[str, str]]:
    """Every (method, path) the API function's resolver serves under /stores."""
    app = load_handler(TEMPLATE, "ApiFunction").module.app
    return [(method, path) for path, methods in served_routes(app).items() for method in methods]


ROUTES = served()


def concrete(store: Store, method: str, path: str) -> tuple[str, str | None]:
    query, body = EXAMPLES[(method, path)]
    filled = path.replace("<store_hash>", store.store_hash)
    for name, value in PATH_VALUES.items():
        filled = filled.replace(f"<{name}>", value)
    return filled + query, json.dumps(body) if body is not None else None


def test_security_every_served_route_has_an_example() -> None:
    # Given the routes the resolver serves, read from it
    # Then each has an example request here, and each example names a served route
    assert set(ROUTES) == set(EXAMPLES)
    assert len(ROUTES) >= 32


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_security_another_stores_token_is_refused_on_every_route(
    store: Store, call_api: Caller, method: str, path: str
) -> None:
    # Given a code in the store, and a token of another store with every scope
    stores = repositories()
    assert (
        call_api("POST", f"/stores/{store.store_hash}/v3/promotions/1/codes", '{"code": "MINE1"}', store.token).status
        == 201
    )
    intruder = accounts.create_token(stores.tokens, store.store_hash + "-other", [Scope.MODIFY, Scope.READ_ONLY])
    # When it is used on this store's path
    target, body = concrete(store, method, path)
    answer = call_api(method, target, body, intruder)
    # Then it is refused, and the store's data is as it was
    assert answer.status == 403
    assert answer.body["title"] == "You don't have a required scope to access the endpoint"
    assert stores.codes.get(store.store_hash, "MINE1") is not None
    assert [p.id for p in stores.promotions.of_store(store.store_hash)] == [1, 2, 3]
    assert stores.promotions.get(store.store_hash, 1).name == "Bulk"  # type: ignore[union-attr]
    assert stores.promotions.store_code_count(store.store_hash) == 1
    assert stores.jobs.of_promotion(store.store_hash, 1) == []


WRITES = [(m, p) for m, p in ROUTES if m not in ("GET", "HEAD", "OPTIONS") and (m, p) not in READING_POSTS]


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_security_read_only_token_cannot_change_anything(
    store: Store, call_api: Caller, method: str, path: str
) -> None:
    target, body = concrete(store, method, path)
    answer = call_api(method, target, body, store.readonly_token)
    assert answer.status == 403
    assert [p.id for p in repositories().promotions.of_store(store.store_hash)] == [1, 2, 3]


def test_security_read_only_token_may_validate_a_code_and_nothing_else_it_posts(store: Store, call_api: Caller) -> None:
    # Given a code of the store
    assert call_api("POST", concrete(store, "POST", CODES)[0], '{"code": "MINE1"}', store.token).status == 201
    # When the read-only token sends each POST the API serves
    statuses = {
        path: call_api("POST", *concrete(store, "POST", path), store.readonly_token).status
        for method, path in ROUTES
        if method == "POST"
    }
    # Then validate, and only validate, is answered (it changes nothing)
    assert statuses.pop(VALIDATE) == 200
    assert set(statuses.values()) == {403}


def test_security_tokens_are_stored_only_as_hashes(store: Store) -> None:
    # Every page of the session's table (a scan answers at most 1 MB at a time)
    table = dynamodb_resource().Table(get_settings().table_name)
    page = table.scan()
    items = page["Items"]
    while "LastEvaluatedKey" in page:
        page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
        items += page["Items"]
    flattened = json.dumps(items, default=str)
    assert store.token not in flattened and store.readonly_token not in flattened
    assert accounts.hash_token(store.token) in flattened
