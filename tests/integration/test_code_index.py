"""Listing through the index of batches: newest first, every live code once, with cursors and pages, when
batches, hand-made codes, another promotion's codes and deletions interleave."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from couponmint.adapters.factory import repositories
from tests.integration.helpers import HttpAnswer, Store

Caller = Callable[..., HttpAnswer]


def codes_url(store: Store, promotion_id: int = 1, query: str = "") -> str:
    return f"/stores/{store.store_hash}/v3/promotions/{promotion_id}/codes{query}"


def generate(store: Store, call_api: Caller, promotion_id: int, size: int) -> None:
    path = f"/stores/{store.store_hash}/v3/promotions/{promotion_id}/codegen"
    assert call_api("POST", path, json.dumps({"batch_size": size}), store.token).status == 201


@pytest.fixture
def mixed(generator_running: None, store: Store, call_api: Caller) -> list[dict[str, Any]]:
    """Promotion 1's live codes, newest first, after an interleaving of every kind of write."""
    other = call_api(
        "POST",
        f"/stores/{store.store_hash}/v3/promotions",
        json.dumps({"name": "Other", "redemption_type": "COUPON", "coupon_type": "BULK", "rules": [{"action": {}}]}),
        store.token,
    ).body["data"]["id"]
    generate(store, call_api, 1, 120)
    assert call_api("POST", codes_url(store), '{"code": "HAND1"}', store.token).status == 201
    generate(store, call_api, other, 40)
    generate(store, call_api, 1, 5)
    assert call_api("POST", codes_url(store), '{"code": "HAND2"}', store.token).status == 201
    generate(store, call_api, 1, 130)
    everything = repositories().codes.newest(store.store_hash, 1, limit=1000)
    assert len(everything) == 257
    # Deletions: one code of each batch, by id, and one hand-made code, by text
    by_batch: dict[str | None, int] = {}
    for code in everything:
        by_batch.setdefault(code.batch_id, code.id)
    doomed = ",".join(str(code_id) for batch_id, code_id in by_batch.items() if batch_id is not None)
    assert call_api("DELETE", codes_url(store, 1, f"?id:in={doomed}"), None, store.token).status == 204
    found = f"/stores/{store.store_hash}/v3/promotions/codes?code=hand1"
    assert call_api("DELETE", found, None, store.token).status == 204
    listed = call_api("GET", codes_url(store, 1, "?limit=250"), None, store.token).body
    second = call_api("GET", codes_url(store, 1, "?limit=250&page=2"), None, store.token).body
    return [*listed["data"], *second["data"]]


def test_code_index_lists_and_walks_every_live_code_newest_first(
    store: Store, call_api: Caller, mixed: list[dict[str, Any]]
) -> None:
    # Then the listing holds the 253 live codes exactly once, ids strictly descending
    ids = [code["id"] for code in mixed]
    assert len(ids) == 253 == len(set(ids))
    assert ids == sorted(ids, reverse=True)
    assert "HAND1" not in {code["code"] for code in mixed} and "HAND2" in {code["code"] for code in mixed}
    # And each is a code stored for promotion 1
    stored = {code.code for code in repositories().codes.newest(store.store_hash, 1, limit=1000)}
    assert {code["code"] for code in mixed} == stored
    # And cursor walks both ways, and offset pages, visit every code once, in that order
    # (limit 3, not 1: a walk of 253 one-code pages both ways would pass the store's 450 requests per 30 s)
    for limit in (3, 7, 250):
        walk_both_ways(store, call_api, mixed, limit)
    ids = [code["id"] for code in mixed]
    for page in (1, 3, 26, 27):
        body = call_api("GET", codes_url(store, 1, f"?limit=10&page={page}"), None, store.token).body
        assert [code["id"] for code in body["data"]] == ids[(page - 1) * 10 : page * 10]
        assert body["meta"]["pagination"]["total"] == 253


def walk_both_ways(store: Store, call_api: Caller, mixed: list[dict[str, Any]], limit: int) -> None:
    # When the list is walked to its end by `after` cursors
    seen: list[int] = []
    query = f"?limit={limit}"
    while True:
        page = call_api("GET", codes_url(store, 1, query), None, store.token).body
        seen += [code["id"] for code in page["data"]]
        following = page["meta"]["cursor_pagination"]["links"].get("next")
        if not following:
            break
        query = following
    # Then it visits every code once, in order
    assert seen == [code["id"] for code in mixed]
    # And walking back from the oldest page by `before` cursors visits them all again
    back: list[int] = []
    query = f"?limit={limit}&before={page['meta']['cursor_pagination']['end_cursor']}"
    back = [code["id"] for code in page["data"]][-1:]
    while query:
        page = call_api("GET", codes_url(store, 1, query), None, store.token).body
        back = [code["id"] for code in page["data"]] + back
        query = page["meta"]["cursor_pagination"]["links"].get("previous")
    assert back == seen


def test_code_index_finds_and_deletes_by_id_only_live_codes(
    store: Store, call_api: Caller, mixed: list[dict[str, Any]]
) -> None:
    # Given a generated code and a hand-made one, by id
    generated = next(code for code in mixed if code["code"] != "HAND2")
    hand = next(code for code in mixed if code["code"] == "HAND2")
    codes = repositories().codes
    assert codes.by_id(store.store_hash, 1, generated["id"]).code == generated["code"]  # type: ignore[union-attr]
    assert codes.by_id(store.store_hash, 1, hand["id"]).code == "HAND2"  # type: ignore[union-attr]
    # When both are deleted by id
    for code in (generated, hand):
        assert call_api("DELETE", codes_url(store, 1, f"/{code['id']}"), None, store.token).status == 204
    # Then neither is found by id or listed, and the count follows
    assert codes.by_id(store.store_hash, 1, generated["id"]) is None
    assert codes.by_id(store.store_hash, 1, hand["id"]) is None
    listed = call_api("GET", codes_url(store, 1, "?limit=250"), None, store.token).body
    assert generated["id"] not in {code["id"] for code in listed["data"]}
    assert listed["meta"]["pagination"]["total"] == 251
