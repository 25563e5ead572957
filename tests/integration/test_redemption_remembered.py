"""A code redeemed before is redeemed without a read (adapters/redemptions.py `redeem_remembered`): its
transaction must refuse whatever the read would have refused, and anything that changed since it was remembered
is decided the read-first way, exactly."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from couponmint.adapters.dynamo import Table
from couponmint.adapters.factory import repositories
from couponmint.adapters.gates import GATES
from couponmint.adapters.keys import code_key, promotion_gate_key
from couponmint.adapters.redemptions import RedemptionRepository
from tests.integration.helpers import Store
from tests.integration.redemption_steps import Caller, add_code, current_uses, in_parallel, redeem, v3, validate


def _table() -> Table:
    repository = repositories().redemptions
    assert isinstance(repository, RedemptionRepository)
    return repository._table


def _remembered(call_api: Caller, store: Store, code: str, **limits: int) -> dict[str, Any]:
    """A code redeemed once (for order `first`), so this process remembers it."""
    made = add_code(call_api, store, code, **limits)
    assert redeem(call_api, store, code, "ann", "first").status == 201
    assert repositories().redemptions.remembered(store.store_hash, [code]) is not None
    return made


def test_redemption_remembered_answers_exact_meta_and_counts_each_order_once(store: Store, call_api: Caller) -> None:
    # Given a remembered code of 5 uses
    _remembered(call_api, store, "FAST", max_uses=5)
    # When it is redeemed for two more orders, and the second order is sent again
    second = redeem(call_api, store, "FAST", "bob", "second")
    third = redeem(call_api, store, "FAST", "cid", "third")
    again = redeem(call_api, store, "FAST", "cid", "third")
    # Then each new order counts once, with its count and uses left, and the retry gets the same redemption
    assert (second.status, second.body["meta"]) == (201, {"current_uses": 2, "uses_left": 3})
    assert (third.status, third.body["meta"]) == (201, {"current_uses": 3, "uses_left": 2})
    assert again.status == 200 and again.body["data"] == third.body["data"]
    assert current_uses(call_api, store, "FAST") == 3


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "DISABLED"}, "PROMOTION_DISABLED"),
        ({"end_date": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}, "EXPIRED"),
        ({"start_date": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "NOT_STARTED"),
    ],
)
def test_redemption_remembered_code_whose_promotion_changed_since_is_refused_with_its_reason(
    store: Store, call_api: Caller, change: dict[str, str], reason: str
) -> None:
    # Given a remembered code, then its promotion disabled or moved out of its dates
    _remembered(call_api, store, "CHANGED", max_uses=5)
    assert call_api("PUT", v3(store, "promotions/1"), json.dumps(change), store.token).status == 200
    # When it is redeemed for a new order
    refused = redeem(call_api, store, "CHANGED", "bob", "after")
    # Then it is refused with the reason, and nothing was counted
    assert (refused.status, refused.body["reason"]) == (409, reason)
    assert current_uses(call_api, store, "CHANGED") == 1
    # And once the promotion is enabled and in its dates again, it redeems
    back = {"status": "ENABLED", "start_date": "2020-01-01T00:00:00+00:00", "end_date": "2999-01-01T00:00:00+00:00"}
    assert call_api("PUT", v3(store, "promotions/1"), json.dumps(back), store.token).status == 200
    assert redeem(call_api, store, "CHANGED", "bob", "after").body["meta"] == {"current_uses": 2, "uses_left": 3}


def test_redemption_remembered_code_deleted_and_made_again_is_held_to_its_new_limits(
    store: Store, call_api: Caller
) -> None:
    # Given a remembered code of 10 uses, deleted and made again with the same text and 1 use
    old = _remembered(call_api, store, "REMADE", max_uses=10)
    assert call_api("DELETE", v3(store, f"promotions/1/codes/{old['id']}"), None, store.token).status == 204
    new = add_code(call_api, store, "REMADE", max_uses=1)
    # When it is redeemed for two new orders
    first = redeem(call_api, store, "REMADE", "bob", "one")
    second = redeem(call_api, store, "REMADE", "cid", "two")
    # Then the new code is used once, then EXHAUSTED
    assert (first.status, first.body["data"]["code_id"], first.body["meta"]) == (
        201,
        new["id"],
        {"current_uses": 1, "uses_left": 0},
    )
    assert (second.status, second.body["reason"]) == (409, "EXHAUSTED")
    assert current_uses(call_api, store, "REMADE") == 1


def test_redemption_remembered_code_deleted_is_404(store: Store, call_api: Caller) -> None:
    old = _remembered(call_api, store, "GONE", max_uses=10)
    assert call_api("DELETE", v3(store, f"promotions/1/codes/{old['id']}"), None, store.token).status == 204
    assert redeem(call_api, store, "GONE", "bob", "later").status == 404


def test_redemption_remembered_count_moved_elsewhere_is_read_again(store: Store, call_api: Caller) -> None:
    # Given a remembered code of 3 uses, used twice more by another process (its count moved on its item)
    _remembered(call_api, store, "ELSEWHERE", max_uses=3)
    _table().resource.update_item(
        Key=code_key(store.store_hash, "ELSEWHERE"),
        UpdateExpression="ADD current_uses :two",
        ExpressionAttributeValues={":two": 1},
    )
    # When it is redeemed for two new orders
    last = redeem(call_api, store, "ELSEWHERE", "bob", "b")
    over = redeem(call_api, store, "ELSEWHERE", "cid", "c")
    # Then the first takes the last use, with the true count, and the second is EXHAUSTED
    assert (last.status, last.body["meta"]) == (201, {"current_uses": 3, "uses_left": 0})
    assert (over.status, over.body["reason"]) == (409, "EXHAUSTED")


def test_redemption_remembered_customer_limit_refuses_the_third_order(store: Store, call_api: Caller) -> None:
    _remembered(call_api, store, "PERCUST", max_uses=10, per_customer=2)
    assert redeem(call_api, store, "PERCUST", "ann", "second").status == 201
    third = redeem(call_api, store, "PERCUST", "ann", "third")
    assert (third.status, third.body["reason"]) == (409, "CUSTOMER_LIMIT")
    assert redeem(call_api, store, "PERCUST", "bob", "bobs").status == 201
    assert validate(call_api, store, "PERCUST", "ann")["customer_uses"] == 2
    assert current_uses(call_api, store, "PERCUST") == 3


def test_redemption_remembered_code_of_a_promotion_without_gates_still_redeems(store: Store, call_api: Caller) -> None:
    # Given a remembered code whose promotion has no gates (made before they were)
    _remembered(call_api, store, "NOGATES", max_uses=5)
    for gate in range(GATES):
        _table().resource.delete_item(Key=promotion_gate_key(store.store_hash, 1, gate))
    # When it is redeemed, Then the read-first way redeems it exactly
    answer = redeem(call_api, store, "NOGATES", "bob", "b")
    assert (answer.status, answer.body["meta"]) == (201, {"current_uses": 2, "uses_left": 3})


def test_redemption_remembered_20_clients_on_a_code_of_30_uses_redeem_exactly_30(
    store: Store, call_api: Caller
) -> None:
    _remembered(call_api, store, "RACE", max_uses=30)
    answers = in_parallel(20, [lambda n=n: redeem(call_api, store, "RACE", f"c{n}", f"o{n}") for n in range(60)])
    assert sorted(answer.status for answer in answers) == [201] * 29 + [409] * 31
    assert {answer.body["reason"] for answer in answers if answer.status == 409} == {"EXHAUSTED"}
    assert current_uses(call_api, store, "RACE") == 30


def test_redemption_remembered_code_is_redeemed_without_a_read(
    store: Store, call_api: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a remembered code, and no read of codes possible any more
    _remembered(call_api, store, "NOREAD", max_uses=5, per_customer=2)

    def no_read(*_: object, **__: object) -> None:
        raise AssertionError("a remembered code was read before its redemption")

    monkeypatch.setattr(RedemptionRepository, "read_code", no_read)
    # When it is redeemed for a new order, Then its one transaction redeems it, with the exact count
    answer = redeem(call_api, store, "NOREAD", "bob", "second")
    assert (answer.status, answer.body["meta"]) == (201, {"current_uses": 2, "uses_left": 3})
