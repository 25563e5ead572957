"""One store's token neither reads nor changes another store's data, on any route."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from couponmint.adapters.aws import dynamodb_resource
from couponmint.adapters.factory import repositories
from couponmint.config import get_settings
from couponmint.models.records import Scope
from couponmint.service import accounts
from tests.integration.helpers import HttpAnswer, Store

Caller = Callable[..., HttpAnswer]

# Every operation of the API, with a body that would succeed for the store's own token.
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/promotions/1/codegen", {"batch_size": 1}),
    ("GET", "/promotions/1/codegen/batches/" + "0" * 32, None),
    ("GET", "/promotions/codes?code=MINE1", None),
    ("DELETE", "/promotions/codes?code=MINE1", None),
    ("GET", "/promotions/1/codes", None),
    ("POST", "/promotions/1/codes", {"code": "THEIRS1"}),
    ("DELETE", "/promotions/1/codes?id:in=1", None),
    ("DELETE", "/promotions/1/codes/1", None),
    ("GET", "/promotions", None),
    ("POST", "/promotions", {"name": "x", "redemption_type": "AUTOMATIC", "rules": [{"action": {}}]}),
    ("DELETE", "/promotions?id:in=3", None),
    ("GET", "/promotions/1", None),
    ("PUT", "/promotions/1", {"name": "taken over"}),
    ("DELETE", "/promotions/3", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_security_another_stores_token_is_refused_on_every_route(
    store: Store, call_api: Caller, method: str, path: str, body: dict[str, Any] | None
) -> None:
    # Given a code in the store, and a token of another store with every scope
    stores = repositories()
    assert (
        call_api("POST", f"/stores/{store.store_hash}/v3/promotions/1/codes", '{"code": "MINE1"}', store.token).status
        == 201
    )
    intruder = accounts.create_token(stores.tokens, store.store_hash + "-other", [Scope.MODIFY, Scope.READ_ONLY])
    # When it is used on this store's path
    answer = call_api(method, f"/stores/{store.store_hash}/v3{path}", json.dumps(body) if body else None, intruder)
    # Then it is refused, and the store's data is as it was
    assert answer.status == 403
    assert answer.body["title"] == "You don't have a required scope to access the endpoint"
    assert stores.codes.get(store.store_hash, "MINE1") is not None
    assert [p.id for p in stores.promotions.of_store(store.store_hash)] == [1, 2, 3]
    assert stores.promotions.get(store.store_hash, 1).name == "Bulk"  # type: ignore[union-attr]
    assert stores.promotions.store_code_count(store.store_hash) == 1


@pytest.mark.parametrize(("method", "path", "body"), [r for r in ROUTES if r[0] != "GET"])
def test_security_read_only_token_cannot_change_anything(
    store: Store, call_api: Caller, method: str, path: str, body: dict[str, Any] | None
) -> None:
    answer = call_api(
        method, f"/stores/{store.store_hash}/v3{path}", json.dumps(body) if body else None, store.readonly_token
    )
    assert answer.status == 403


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
