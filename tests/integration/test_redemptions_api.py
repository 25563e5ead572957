"""Redemption through the real ApiFunction: validate, redeem, roll back, list, and the reasons a code is refused."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from couponmint.adapters.factory import repositories
from couponmint.adapters.keys import customer_uses_key
from tests.integration.helpers import Store
from tests.integration.redemption_steps import (
    Caller,
    add_code,
    current_uses,
    listed_uses,
    redeem,
    roll_back,
    v3,
    validate,
)


def test_redemptions_redeem_answers_201_counts_the_use_and_shows_it_everywhere(store: Store, call_api: Caller) -> None:
    # Given a code with 3 uses, 2 a customer
    code = add_code(call_api, store, "Spring10", max_uses=3, per_customer=2)
    # When it is redeemed for an order, typed in another case
    answer = redeem(call_api, store, "spring10", "ann@example.com", "order-1")
    # Then it answers 201 with the redemption and the code's uses
    assert answer.status == 201, answer.body
    data = answer.body["data"]
    assert {k: data[k] for k in ("code", "code_id", "promotion_id", "customer", "order_id", "status")} == {
        "code": "Spring10",
        "code_id": code["id"],
        "promotion_id": 1,
        "customer": "ann@example.com",
        "order_id": "order-1",
        "status": "REDEEMED",
    }
    assert data["id"].startswith(f"{code['id']}-") and data["created"].endswith("+00:00")
    assert answer.body["meta"] == {"current_uses": 1, "uses_left": 2}
    # And current_uses is 1 in the code list, in find-by-text and in validate
    assert listed_uses(call_api, store, code["id"]) == 1
    assert current_uses(call_api, store, "SPRING10") == 1
    assert validate(call_api, store, "Spring10", "ann@example.com") == {
        "code": "Spring10",
        "code_id": code["id"],
        "promotion_id": 1,
        "valid": True,
        "reason": None,
        "current_uses": 1,
        "max_uses": 3,
        "max_uses_per_customer": 2,
        "customer_uses": 1,
    }


def test_redemptions_customer_limit_refuses_the_third_order_while_others_redeem(store: Store, call_api: Caller) -> None:
    # Given a code of 10 uses, 2 per customer, used twice by ann
    add_code(call_api, store, "TWICE", max_uses=10, per_customer=2)
    assert [redeem(call_api, store, "TWICE", "ann", f"a{n}").status for n in (1, 2)] == [201, 201]
    # When ann redeems it for a third order, and bob for his first
    third = redeem(call_api, store, "TWICE", "ann", "a3")
    bobs = redeem(call_api, store, "TWICE", "bob", "b1")
    # Then ann is refused with CUSTOMER_LIMIT (nothing written), bob is not
    assert third.status == 409
    assert third.body == {
        "status": 409,
        "title": "The customer has used the code its max_uses_per_customer times.",
        "reason": "CUSTOMER_LIMIT",
    }
    assert bobs.status == 201
    assert current_uses(call_api, store, "TWICE") == 3
    assert validate(call_api, store, "TWICE", "ann")["reason"] == "CUSTOMER_LIMIT"


def test_redemptions_same_order_again_answers_200_with_the_same_redemption(store: Store, call_api: Caller) -> None:
    add_code(call_api, store, "AGAIN", max_uses=5)
    first = redeem(call_api, store, "AGAIN", "ann", "order-7")
    again = redeem(call_api, store, "again", "someone else", "order-7")
    assert (first.status, again.status) == (201, 200)
    assert again.body["data"] == first.body["data"]
    assert again.body["meta"] == {"current_uses": 1, "uses_left": 4}
    assert current_uses(call_api, store, "AGAIN") == 1


def test_redemptions_validate_changes_nothing(store: Store, call_api: Caller) -> None:
    # Given a code limited per customer
    code = add_code(call_api, store, "LOOK", max_uses=1, per_customer=1)
    # When it is validated many times, with and without a customer
    for _ in range(3):
        assert validate(call_api, store, "LOOK", "ann")["valid"] is True
        assert validate(call_api, store, "look")["customer_uses"] is None
    # Then it is unused, unlisted, and no customer count was written
    assert current_uses(call_api, store, "LOOK") == 0
    listing = call_api("GET", v3(store, f"promotions/1/codes/{code['id']}/redemptions"), None, store.token)
    assert listing.body["data"] == []
    assert repositories().redemptions._table.get(customer_uses_key(store.store_hash, code["id"], "ann")) is None
    assert redeem(call_api, store, "LOOK", "ann", "o1").status == 201


def test_redemptions_unknown_code_is_404_and_not_found_in_validate(store: Store, call_api: Caller) -> None:
    answer = redeem(call_api, store, "NOSUCHCODE", "ann", "o1")
    assert answer.status == 404 and answer.body["status"] == 404
    assert validate(call_api, store, "NOSUCHCODE") == {
        "code": "NOSUCHCODE",
        "code_id": None,
        "promotion_id": None,
        "valid": False,
        "reason": "NOT_FOUND",
        "current_uses": None,
        "max_uses": None,
        "max_uses_per_customer": None,
        "customer_uses": None,
    }


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "DISABLED"}, "PROMOTION_DISABLED"),
        ({"end_date": (datetime.now(UTC) - timedelta(days=1)).isoformat()}, "EXPIRED"),
        ({"start_date": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "NOT_STARTED"),
    ],
)
def test_redemptions_promotion_state_refuses_with_its_reason(
    store: Store, call_api: Caller, change: dict[str, str], reason: str
) -> None:
    # Given a code redeemed once, then its promotion disabled or outside its dates
    add_code(call_api, store, "STATE", max_uses=5)
    assert redeem(call_api, store, "STATE", "ann", "before").status == 201
    assert call_api("PUT", v3(store, "promotions/1"), json.dumps(change), store.token).status == 200
    # When it is redeemed for a new order, validated, and the earlier order sent again
    refused = redeem(call_api, store, "STATE", "bob", "after")
    retried = redeem(call_api, store, "STATE", "ann", "before")
    # Then the new order is refused with the reason, and the earlier one still gets its redemption
    assert (refused.status, refused.body["reason"]) == (409, reason)
    assert validate(call_api, store, "STATE")["reason"] == reason
    assert retried.status == 200
    assert current_uses(call_api, store, "STATE") == 1


def test_redemptions_rollback_gives_one_use_back_however_often_it_is_sent(store: Store, call_api: Caller) -> None:
    # Given a code of 1 use, used
    code = add_code(call_api, store, "ONCE", max_uses=1, per_customer=1)
    redemption = redeem(call_api, store, "ONCE", "ann", "o1").body["data"]
    assert redeem(call_api, store, "ONCE", "bob", "o2").body["reason"] == "EXHAUSTED"
    # When the redemption is rolled back three times
    answers = [roll_back(call_api, store, redemption["id"]).status for _ in range(3)]
    # Then each answers 204, the use and the customer's use are back once, and the redemption shows ROLLED_BACK
    assert answers == [204, 204, 204]
    assert current_uses(call_api, store, "ONCE") == 0
    assert validate(call_api, store, "ONCE", "ann")["customer_uses"] == 0
    listing = call_api("GET", v3(store, f"promotions/1/codes/{code['id']}/redemptions"), None, store.token)
    assert [r["status"] for r in listing.body["data"]] == ["ROLLED_BACK"]
    # And the order rolled back stays so; another order may now use the code
    assert redeem(call_api, store, "ONCE", "ann", "o1").body["data"]["status"] == "ROLLED_BACK"
    assert redeem(call_api, store, "ONCE", "bob", "o2").status == 201


@pytest.mark.parametrize("raw", ["nope", "1-" + "0" * 32, "1-ABC"])
def test_redemptions_rollback_of_an_unknown_redemption_is_404(store: Store, call_api: Caller, raw: str) -> None:
    assert roll_back(call_api, store, raw).status == 404


def test_redemptions_read_only_token_validates_and_lists_but_cannot_redeem_or_roll_back(
    store: Store, call_api: Caller
) -> None:
    code = add_code(call_api, store, "READER", max_uses=2)
    redemption = redeem(call_api, store, "READER", "ann", "o1").body["data"]
    # When the read-only token validates, lists, redeems and rolls back
    checked = validate(call_api, store, "READER", token=store.readonly_token)
    listed = call_api("GET", v3(store, f"promotions/1/codes/{code['id']}/redemptions"), None, store.readonly_token)
    redeemed = redeem(call_api, store, "READER", "bob", "o2", token=store.readonly_token)
    rolled = roll_back(call_api, store, redemption["id"], token=store.readonly_token)
    # Then it may validate and list, and the writes are refused with 403, changing nothing
    assert checked["valid"] is True and listed.status == 200
    assert (redeemed.status, rolled.status) == (403, 403)
    assert current_uses(call_api, store, "READER") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"customer": "ann", "order_id": "o"},
        {"code": "X", "order_id": "o"},
        {"code": "X", "customer": "ann"},
        {"code": "X", "customer": "", "order_id": "o"},
        {"code": "X", "customer": "ann", "order_id": 7},
        {"code": "X", "customer": "ann", "order_id": "o" * 256},
    ],
)
def test_redemptions_bad_body_is_422(store: Store, call_api: Caller, body: dict[str, object]) -> None:
    answer = call_api("POST", v3(store, "promotions/codes/redemptions"), json.dumps(body), store.token)
    assert answer.status == 422 and answer.body["errors"][0]["status"] == 422


def test_redemptions_list_newest_first_with_cursors(store: Store, call_api: Caller) -> None:
    # Given 5 redemptions of a code
    code = add_code(call_api, store, "LISTED")
    made = [redeem(call_api, store, "LISTED", "ann", f"o{n}").body["data"]["id"] for n in range(5)]
    path = v3(store, f"promotions/1/codes/{code['id']}/redemptions")
    # When they are walked 2 at a time by the `next` links, then back by `previous`
    seen, query = [], "?limit=2"
    while query:
        page = call_api("GET", path + query, None, store.token).body
        seen += [r["id"] for r in page["data"]]
        query = page["meta"]["cursor_pagination"]["links"].get("next")
    back = call_api("GET", path + page["meta"]["cursor_pagination"]["links"]["previous"], None, store.token).body
    # Then they come newest first, each once, and the way back shows the page before
    assert seen == list(reversed(made))
    assert [r["id"] for r in back["data"]] == seen[2:4]
    # And an unknown code, or a code of another promotion, is 404
    assert call_api("GET", v3(store, "promotions/1/codes/999999/redemptions"), None, store.token).status == 404
    assert call_api("GET", v3(store, f"promotions/2/codes/{code['id']}/redemptions"), None, store.token).status == 404


def test_redemptions_count_against_their_own_quota_not_the_management_apis(store: Store, call_api: Caller) -> None:
    # Given a store whose operator set 2 redemption-lane requests a minute, and 3 management ones
    repositories().limits.set_store_limits(
        store.store_hash, request_quota=3, window_ms=60_000, redemption_quota=2, redemption_window_ms=60_000
    )
    add_code(call_api, store, "QUOTA")
    # When it validates, then redeems for two orders
    bodies = [json.dumps({"code": "QUOTA", "customer": "ann", "order_id": order}) for order in ("o1", "o1", "o2")]
    answers = [
        call_api("POST", v3(store, "promotions/codes/validate"), bodies[0], store.token),
        call_api("POST", v3(store, "promotions/codes/redemptions"), bodies[1], store.token),
        call_api("POST", v3(store, "promotions/codes/redemptions"), bodies[2], store.token),
    ]
    # Then the third is refused with 429, counted in the redemption lane's window, and wrote nothing
    assert [a.status for a in answers] == [200, 201, 429]
    assert int(answers[2].headers["X-Retry-After"]) >= 1
    assert [a.headers["X-Rate-Limit-Requests-Quota"] for a in answers] == ["2", "2", "2"]
    assert [a.headers["X-Rate-Limit-Requests-Left"] for a in answers] == ["1", "0", "0"]
    # And the management API's quota is untouched by them: one request (the code's creation) used
    listing = call_api("GET", v3(store, "promotions/1/codes"), None, store.token)
    assert listing.status == 200
    assert (listing.headers["X-Rate-Limit-Requests-Quota"], listing.headers["X-Rate-Limit-Requests-Left"]) == ("3", "1")
    assert listing.body["data"][0]["current_uses"] == 1


def test_redemptions_default_quota_is_6000_per_30_seconds(store: Store, call_api: Caller) -> None:
    answer = call_api("POST", v3(store, "promotions/codes/validate"), '{"code": "ANY"}', store.token)
    assert answer.headers["X-Rate-Limit-Requests-Quota"] == "6000"
    assert answer.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
