"""The Promotions API (the part codes need) through the real ApiFunction."""

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.helpers import HttpAnswer, Store

Caller = Callable[..., HttpAnswer]
RULES = [{"action": {"cart_value": {"discount": {"percentage_amount": "10"}}}, "apply_once": True}]


def promotions_path(store: Store, suffix: str = "") -> str:
    return f"/stores/{store.store_hash}/v3/promotions{suffix}"


def create(call_api: Caller, store: Store, **fields: Any) -> HttpAnswer:
    body = {"name": "Autumn", "redemption_type": "COUPON", "rules": RULES, **fields}
    return call_api("POST", promotions_path(store), json.dumps(body), store.token)


def test_promotions_create_read_update_and_list(store: Store, call_api: Caller) -> None:
    # When a BULK coupon promotion is created
    created = create(call_api, store, coupon_type="BULK", display_name="Autumn sale", max_uses=500)
    # Then it is saved with the spec's required fields and the client's own
    assert created.status == 201
    saved = created.body["data"]
    assert saved["id"] == 4  # the store's fixture holds promotions 1-3
    assert (saved["redemption_type"], saved["coupon_type"], saved["status"]) == ("COUPON", "BULK", "ENABLED")
    assert saved["rules"] == RULES and saved["display_name"] == "Autumn sale" and saved["max_uses"] == 500
    for field in (
        "channels",
        "customer",
        "notifications",
        "stop",
        "currency_code",
        "current_uses",
        "start_date",
        "can_be_used_with_other_promotions",
        "coupon_overrides_other_promotions",
        "created_from",
    ):
        assert field in saved
    # And it reads back the same
    assert call_api("GET", promotions_path(store, "/4"), None, store.readonly_token).body["data"] == saved
    # When it is renamed and disabled
    updated = call_api(
        "PUT", promotions_path(store, "/4"), json.dumps({"name": "Fall", "status": "DISABLED"}), store.token
    )
    assert updated.status == 200
    assert (updated.body["data"]["name"], updated.body["data"]["status"]) == ("Fall", "DISABLED")
    assert updated.body["data"]["rules"] == RULES
    # Then the list shows it among the store's promotions, by id
    listing = call_api("GET", promotions_path(store, "?limit=2&page=2"), None, store.token)
    assert [p["id"] for p in listing.body["data"]] == [3, 4]
    assert listing.body["meta"]["pagination"] == {
        "total": 4,
        "count": 2,
        "per_page": 2,
        "current_page": 2,
        "total_pages": 2,
        "links": {"current": "?page=2&limit=2", "previous": "?page=1&limit=2"},
    }


def test_promotions_put_cannot_change_the_types(store: Store, call_api: Caller) -> None:
    answer = call_api("PUT", promotions_path(store, "/1"), json.dumps({"coupon_type": "SINGLE"}), store.token)
    assert answer.status == 422
    assert answer.body["errors"][0]["title"] == "coupon_type: cannot be changed"
    answer = call_api("PUT", promotions_path(store, "/1"), json.dumps({"redemption_type": "AUTOMATIC"}), store.token)
    assert answer.status == 422
    same = call_api("PUT", promotions_path(store, "/1"), json.dumps({"coupon_type": "BULK"}), store.token)
    assert same.status == 200


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"rules": []}, 422),
        ({"rules": [{"apply_once": True}]}, 422),
        ({"rules": "all"}, 422),
        ({"name": ""}, 422),
        ({"redemption_type": "MANUAL"}, 422),
        ({"coupon_type": "MANY"}, 422),
        ({"status": "SOMETIMES"}, 422),
        ({"redemption_type": "AUTOMATIC"}, 201),
    ],
)
def test_promotions_create_validates_what_codes_depend_on(
    store: Store, call_api: Caller, fields: dict[str, Any], status: int
) -> None:
    assert create(call_api, store, **fields).status == status


def test_promotions_delete_is_refused_while_codes_remain(store: Store, call_api: Caller) -> None:
    # Given promotion 1 holding a code
    assert call_api("POST", promotions_path(store, "/1/codes"), '{"code": "KEEPME"}', store.token).status == 201
    # When promotions 1 and 3 are deleted
    answer = call_api("DELETE", promotions_path(store, "?id:in=1,3"), None, store.token)
    # Then 1 is refused in the bulk shape, and 3 (no codes) is gone
    assert answer.status == 422
    assert answer.body["meta"] == {"total": 2, "success": 1, "failed": 1}
    assert call_api("GET", promotions_path(store, "/1"), None, store.token).status == 200
    assert call_api("GET", promotions_path(store, "/3"), None, store.token).status == 404
    # When the code is deleted, the promotion can go
    call_api("DELETE", f"/stores/{store.store_hash}/v3/promotions/codes?code=keepme", None, store.token)
    assert call_api("DELETE", promotions_path(store, "?id:in=1"), None, store.token).status == 204
    assert call_api("GET", promotions_path(store, "/1"), None, store.token).status == 404


def test_promotions_bulk_delete_needs_ids(store: Store, call_api: Caller) -> None:
    answer = call_api("DELETE", promotions_path(store), None, store.token)
    assert answer.status == 422
    assert answer.body["errors"][0]["title"] == "Parameter id:in is required"


def test_promotions_read_only_token_reads_but_cannot_write(store: Store, call_api: Caller) -> None:
    assert call_api("GET", promotions_path(store), None, store.readonly_token).status == 200
    answer = create(call_api, store.__class__(store.store_hash, store.readonly_token, store.readonly_token))
    assert answer.status == 403


@pytest.mark.parametrize(
    ("method", "suffix", "allow"), [("PATCH", "/1", "GET, PUT, DELETE"), ("PUT", "", "GET, POST, DELETE")]
)
def test_promotions_wrong_method_answers_405_with_allow(
    store: Store, call_api: Caller, method: str, suffix: str, allow: str
) -> None:
    answer = call_api(method, promotions_path(store, suffix), "{}", store.token)
    assert answer.status == 405
    assert answer.headers["Allow"] == allow


@pytest.mark.parametrize("suffix", ["%0A", "%0D", "%09"])
def test_promotions_path_with_a_control_character_is_not_found(store: Store, call_api: Any, suffix: str) -> None:
    # Given a path the route's pattern would read as the promotions list (`$` matches before a final newline)
    path = f"/stores/{store.store_hash}/v3/promotions/" + urllib.parse.unquote(suffix)
    # Then it names nothing
    assert call_api("GET", path, None, store.token).status == 404
