"""The Coupon Codes API: list with cursors and pages, add, find and delete, through the real ApiFunction."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from couponmint.adapters.factory import repositories
from tests.integration.helpers import HttpAnswer, Store

Caller = Callable[..., HttpAnswer]
ITEM_KEYS = {"id", "code", "current_uses", "max_uses", "max_uses_per_customer", "created"}


def codes_path(store: Store, promotion_id: int | str = 1, query: str = "") -> str:
    return f"/stores/{store.store_hash}/v3/promotions/{promotion_id}/codes{query}"


def generate(call_api: Caller, store: Store, *sizes: int) -> list[str]:
    made: list[str] = []
    for size in sizes:
        answer = call_api(
            "POST", f"/stores/{store.store_hash}/v3/promotions/1/codegen", json.dumps({"batch_size": size}), store.token
        )
        assert answer.status == 201
        made += [entry["code"] for entry in answer.body["data"]["codes"]]
    return made


def walk(call_api: Caller, store: Store, first_query: str, direction: str) -> list[dict[str, Any]]:
    """Follow `links[direction]` of cursor pagination from `first_query` to the end."""
    seen: list[dict[str, Any]] = []
    query: str | None = first_query
    while query is not None:
        answer = call_api("GET", codes_path(store, 1, query), None, store.readonly_token)
        assert answer.status == 200
        seen += answer.body["data"]
        query = answer.body["meta"]["cursor_pagination"]["links"].get(direction)
    return seen


def test_codes_list_walks_every_code_with_cursors_and_pages_newest_first(
    generator_running: None, store: Store, call_api: Caller
) -> None:
    # Given three batches: 15 codes
    made = generate(call_api, store, 5, 7, 3)
    # When the list is walked forwards with cursors, 4 at a time
    forwards = walk(call_api, store, "?limit=4", "next")
    # Then every code appears once, newest first, with the contract's fields and increasing integer ids
    assert sorted(item["code"] for item in forwards) == sorted(made)
    ids = [item["id"] for item in forwards]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 15
    assert all(set(item) == ITEM_KEYS for item in forwards)
    assert forwards[0]["code"] in made[-3:]  # the last batch is the newest
    # When walked backwards from the oldest code's cursor
    last_page = call_api("GET", codes_path(store, 1, "?limit=4"), None, store.token)
    end = walk(call_api, store, "?limit=4", "next")[-1]
    assert end == forwards[-1]
    oldest_cursor = None
    query: str | None = "?limit=4"
    while query:
        answer = call_api("GET", codes_path(store, 1, query), None, store.token)
        oldest_cursor = answer.body["meta"]["cursor_pagination"]["end_cursor"]
        query = answer.body["meta"]["cursor_pagination"]["links"].get("next")
    backwards = walk(call_api, store, f"?limit=4&before={oldest_cursor}", "previous")
    # Then it finds every newer code, and none twice
    assert sorted(item["id"] for item in backwards) == sorted(ids[:-1])
    # When walked with the deprecated pages
    paged: list[dict[str, Any]] = []
    for page in range(1, 5):
        answer = call_api("GET", codes_path(store, 1, f"?page={page}&limit=4"), None, store.token)
        assert set(answer.body["meta"]) == {"pagination"}
        assert answer.body["meta"]["pagination"]["total"] == 15
        assert answer.body["meta"]["pagination"]["total_pages"] == 4
        assert answer.body["meta"]["pagination"]["current_page"] == page
        paged += answer.body["data"]
    # Then the pages hold the same codes in the same order
    assert paged == forwards
    assert last_page.status == 200


def test_codes_list_meta_follows_the_spec_for_each_mode(
    generator_running: None, store: Store, call_api: Caller
) -> None:
    generate(call_api, store, 6)
    plain = call_api("GET", codes_path(store), None, store.token).body
    assert set(plain["meta"]) == {"cursor_pagination", "pagination"}
    cursor = plain["meta"]["cursor_pagination"]
    assert cursor["count"] == 6 and cursor["per_page"] == 50 and cursor["links"] == {}
    assert plain["meta"]["pagination"] == {
        "total": 6,
        "count": 6,
        "per_page": 50,
        "current_page": 1,
        "total_pages": 1,
        "links": {"current": "?page=1&limit=50"},
    }
    first = call_api("GET", codes_path(store, 1, "?limit=2"), None, store.token).body["meta"]["cursor_pagination"]
    assert first["links"] == {"next": f"?limit=2&after={first['end_cursor']}"}
    second = call_api("GET", codes_path(store, 1, first["links"]["next"]), None, store.token).body
    assert set(second["meta"]) == {"cursor_pagination"}
    links = second["meta"]["cursor_pagination"]["links"]
    assert set(links) == {"previous", "next"}
    assert links["previous"] == f"?limit=2&before={second['meta']['cursor_pagination']['start_cursor']}"


def test_codes_list_of_an_empty_promotion(store: Store, call_api: Caller) -> None:
    answer = call_api("GET", codes_path(store), None, store.token)
    assert answer.status == 200
    assert answer.body["data"] == []
    assert answer.body["meta"]["cursor_pagination"] == {"count": 0, "per_page": 50, "links": {}}
    assert answer.body["meta"]["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?limit=0", 422),
        ("?limit=1", 200),
        ("?limit=250", 200),
        ("?limit=251", 422),
        ("?limit=abc", 422),
        ("?page=0", 422),
        ("?page=1", 200),
        ("?after=nonsense", 422),
        ("?before=eyJpZCI6IjEifQ&after=eyJpZCI6IjEifQ", 422),
        ("?page=1&after=eyJpZCI6IjEifQ", 422),
    ],
)
def test_codes_list_checks_its_parameters(store: Store, call_api: Caller, query: str, status: int) -> None:
    answer = call_api("GET", codes_path(store, 1, query), None, store.token)
    assert answer.status == status, answer.body
    if status == 422:
        assert answer.body["errors"][0]["status"] == 422


def test_codes_create_find_delete_and_reuse_a_code(store: Store, call_api: Caller) -> None:
    # When a code is added by hand
    created = call_api("POST", codes_path(store), json.dumps({"code": "Summer Sale_1-A"}), store.token)
    # Then it is answered with the code object and its defaults
    assert created.status == 201
    assert set(created.body["data"]) == ITEM_KEYS
    assert (created.body["data"]["max_uses"], created.body["data"]["max_uses_per_customer"]) == (0, 0)
    # And the same text in another case is a conflict
    again = call_api("POST", codes_path(store), json.dumps({"code": "SUMMER SALE_1-a"}), store.token)
    assert again.status == 409
    # And it can be found by its text, case-insensitively, and through the filter
    found = call_api("GET", f"/stores/{store.store_hash}/v3/promotions/codes?code=summer%20sale_1-a", None, store.token)
    assert [item["id"] for item in found.body["data"]] == [created.body["data"]["id"]]
    filtered = call_api("GET", codes_path(store, 1, "?code=Summer%20Sale_1-A"), None, store.token)
    assert [item["code"] for item in filtered.body["data"]] == ["Summer Sale_1-A"]
    # When it is deleted by id
    code_id = created.body["data"]["id"]
    deleted = call_api("DELETE", codes_path(store, 1, f"?id:in={code_id}"), None, store.token)
    assert deleted.status == 204
    # Then it is gone, the store's count is back to zero, and its text can be used again
    assert repositories().codes.get(store.store_hash, "Summer Sale_1-A") is None
    assert repositories().promotions.store_code_count(store.store_hash) == 0
    reused = call_api("POST", codes_path(store), json.dumps({"code": "summer sale_1-a"}), store.token)
    assert reused.status == 201 and reused.body["data"]["id"] > code_id


def test_codes_delete_by_text_and_by_id_answer_204_even_when_absent(store: Store, call_api: Caller) -> None:
    call_api("POST", codes_path(store), json.dumps({"code": "GONE1"}), store.token)
    by_text = call_api("DELETE", f"/stores/{store.store_hash}/v3/promotions/codes?code=gone1", None, store.token)
    assert by_text.status == 204
    assert repositories().codes.get(store.store_hash, "GONE1") is None
    assert call_api("DELETE", codes_path(store, 1, "/424242"), None, store.token).status == 204
    assert (
        call_api("DELETE", f"/stores/{store.store_hash}/v3/promotions/codes?code=none", None, store.token).status == 204
    )


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("", "Parameter id:in is required"),
        ("?id:in=", "Parameter id:in is required"),
        ("?id:in=1,a", "Parameter id:in must be a comma-separated list of integers"),
        ("?id:in=" + ",".join(str(i) for i in range(251)), "Parameter id:in names 251 ids; at most 250 are allowed"),
    ],
)
def test_codes_bulk_delete_refuses_a_missing_or_malformed_id_list(
    store: Store, call_api: Caller, query: str, title: str
) -> None:
    answer = call_api("DELETE", codes_path(store, 1, query), None, store.token)
    assert answer.status == 422
    assert answer.body["errors"][0]["title"] == title
    assert answer.body["meta"] == {"total": 0, "success": 0, "failed": 0}


def test_codes_bulk_delete_of_250_ids_is_accepted(store: Store, call_api: Caller) -> None:
    ids = ",".join(str(i) for i in range(1, 251))
    assert call_api("DELETE", codes_path(store, 1, f"?id:in={ids}"), None, store.token).status == 204


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"code": "A" * 50}, 201),
        ({"code": "A" * 51}, 422),
        ({"code": ""}, 422),
        ({"code": "bad!chars"}, 422),
        ({"code": 12345}, 422),
        ({}, 422),
        ({"code": "OK1", "max_uses": -1}, 422),
        ({"code": "OK2", "max_uses_per_customer": 1.0}, 422),
    ],
)
def test_codes_create_validates_the_body(store: Store, call_api: Caller, body: dict[str, Any], status: int) -> None:
    answer = call_api("POST", codes_path(store), json.dumps(body), store.token)
    assert answer.status == status, answer.body


def test_codes_single_promotion_holds_one_code(store: Store, call_api: Caller) -> None:
    assert call_api("POST", codes_path(store, 2), json.dumps({"code": "ONLY1"}), store.token).status == 201
    second = call_api("POST", codes_path(store, 2), json.dumps({"code": "ONLY2"}), store.token)
    assert second.status == 422
    assert "SINGLE" in second.body["errors"][0]["title"]


@pytest.mark.parametrize(
    ("method", "query", "body"),
    [("GET", "", None), ("POST", "", '{"code": "AUTO1"}'), ("DELETE", "?id:in=1", None)],
)
def test_codes_endpoints_refuse_automatic_promotions(
    store: Store, call_api: Caller, method: str, query: str, body: str | None
) -> None:
    answer = call_api(method, codes_path(store, 3, query), body, store.token)
    assert answer.status == 405


def test_codes_of_another_store_are_invisible(store: Store, call_api: Caller) -> None:
    call_api("POST", codes_path(store), json.dumps({"code": "PRIVATE1"}), store.token)
    from couponmint.models.promotions import PromotionDraft
    from couponmint.models.records import CouponType, RedemptionType, Scope
    from couponmint.service import accounts, promotions

    other = store.store_hash + "b"
    token = accounts.create_token(repositories().tokens, other, [Scope.MODIFY])
    draft = PromotionDraft.named("B", RedemptionType.COUPON, CouponType.BULK)
    promotions.create_promotion(repositories().promotions, other, draft, promotion_id=1)
    found = call_api("GET", f"/stores/{other}/v3/promotions/codes?code=PRIVATE1", None, token)
    assert found.status == 200 and found.body["data"] == []
    # The same text is free in the other store
    assert call_api("POST", f"/stores/{other}/v3/promotions/1/codes", '{"code": "PRIVATE1"}', token).status == 201
    # And one store's token cannot reach the other's codes
    assert call_api("GET", codes_path(store), None, token).status == 403
    assert call_api("DELETE", codes_path(store, 1, "?id:in=1"), None, token).status == 403
