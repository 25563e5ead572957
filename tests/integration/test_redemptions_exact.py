"""Redemption is exact under concurrency, retries and crashes (DESIGN.md invariant 7), through the real ApiFunction."""

import json
from collections import Counter
from typing import Any

import pytest

from couponmint.adapters.dynamo import Table
from couponmint.adapters.factory import repositories
from couponmint.adapters.redemptions import RedemptionRepository
from couponmint.adapters.uses import USE_SHARDS
from tests.integration.helpers import Store
from tests.integration.redemption_steps import (
    Caller,
    add_code,
    current_uses,
    in_parallel,
    listed_uses,
    redeem,
    roll_back,
    v3,
    validate,
)


def test_redemptions_200_concurrent_orders_of_a_code_of_50_uses_redeem_exactly_50(
    store: Store, call_api: Caller
) -> None:
    # Given a code of 50 uses
    code = add_code(call_api, store, "FIFTY", max_uses=50)
    # When 20 clients redeem it for 200 different orders at once
    answers = in_parallel(20, [lambda n=n: redeem(call_api, store, "FIFTY", f"c{n}", f"o{n}") for n in range(200)])
    # Then exactly 50 are 201 and 150 are 409 EXHAUSTED, with no 5xx, and the code shows 50 uses
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {201: 50, 409: 150}, statuses
    assert {answer.body["reason"] for answer in answers if answer.status == 409} == {"EXHAUSTED"}
    assert listed_uses(call_api, store, code["id"]) == 50
    assert current_uses(call_api, store, "FIFTY") == 50
    listing = call_api("GET", v3(store, f"promotions/1/codes/{code['id']}/redemptions?limit=250"), None, store.token)
    assert len(listing.body["data"]) == 50


def test_redemptions_same_order_sent_5_times_at_once_counts_once(store: Store, call_api: Caller) -> None:
    add_code(call_api, store, "FIVEFOLD", max_uses=10, per_customer=3)
    answers = in_parallel(5, [lambda: redeem(call_api, store, "FIVEFOLD", "ann", "order-1")] * 5)
    assert sorted(answer.status for answer in answers) == [200, 200, 200, 200, 201]
    assert len({answer.body["data"]["id"] for answer in answers}) == 1
    assert current_uses(call_api, store, "FIVEFOLD") == 1
    assert validate(call_api, store, "FIVEFOLD", "ann")["customer_uses"] == 1


@pytest.mark.parametrize("max_uses", [4, 0], ids=["limited", "unlimited"])
def test_redemptions_concurrent_rollbacks_give_exactly_one_use_back(
    store: Store, call_api: Caller, max_uses: int
) -> None:
    # Given a code redeemed for three orders (of four uses, or unlimited)
    add_code(call_api, store, "GIVEBACK", max_uses=max_uses, per_customer=3)
    ids = [redeem(call_api, store, "GIVEBACK", "ann", f"o{n}").body["data"]["id"] for n in range(3)]
    # When one redemption is rolled back by 10 requests at once, while another order is redeemed and rolled back
    late = redeem(call_api, store, "GIVEBACK", "bob", "late").body["data"]["id"]
    calls = [lambda: roll_back(call_api, store, ids[0])] * 10 + [lambda: roll_back(call_api, store, late)] * 3
    answers = in_parallel(13, calls)
    # Then all answer 204, and exactly those two uses are given back
    assert {answer.status for answer in answers} == {204}
    assert current_uses(call_api, store, "GIVEBACK") == 2
    assert validate(call_api, store, "GIVEBACK", "ann")["customer_uses"] == 2


def test_redemptions_rollback_racing_a_retry_of_its_order_leaves_a_consistent_count(
    store: Store, call_api: Caller
) -> None:
    add_code(call_api, store, "RACE", max_uses=5)
    made = redeem(call_api, store, "RACE", "ann", "o1").body["data"]
    calls = [lambda: roll_back(call_api, store, made["id"]), lambda: redeem(call_api, store, "RACE", "ann", "o1")] * 5
    answers = in_parallel(10, calls)
    assert sorted({answer.status for answer in answers}) == [200, 204]
    assert current_uses(call_api, store, "RACE") == 0


def test_redemptions_a_hot_unlimited_code_counts_every_order_in_its_shards(store: Store, call_api: Caller) -> None:
    # Given an unlimited code (a flyer's WELCOME10)
    code = add_code(call_api, store, "WELCOME10")
    # When 20 clients redeem it for 120 orders at once, and 20 of them are rolled back
    answers = in_parallel(20, [lambda n=n: redeem(call_api, store, "WELCOME10", f"c{n}", f"o{n}") for n in range(120)])
    assert {answer.status for answer in answers} == {201}
    for answer in answers[:20]:
        assert roll_back(call_api, store, answer.body["data"]["id"]).status == 204
    # Then every listing shows 100 uses, summed from the shards, and the code's own item was never counted on
    assert listed_uses(call_api, store, code["id"]) == 100
    assert current_uses(call_api, store, "welcome10") == 100
    assert validate(call_api, store, "WELCOME10")["current_uses"] == 100
    stored = repositories().redemptions.read_code(store.store_hash, ["WELCOME10"], None)
    assert stored is not None and stored.code.use_shards == USE_SHARDS
    assert answers[-1].body["meta"]["uses_left"] is None


CRASH_POINTS = {
    "spread_uses": (RedemptionRepository, "spread_uses"),
    "redeem": (RedemptionRepository, "redeem"),
    "transact": (Table, "transact"),
}


# A limited code's redemption is one write (its transaction); an unlimited code's first is two (its shards first).
CRASHES = [(2, "redeem"), (2, "transact"), (0, "spread_uses"), (0, "redeem"), (0, "transact")]


@pytest.mark.parametrize(
    ("max_uses", "crash_after"), CRASHES, ids=[f"{'limited' if m else 'unlimited'}-{c}" for m, c in CRASHES]
)
def test_redemptions_crash_after_any_write_then_a_retry_counts_exactly_once(
    store: Store, call_api: Caller, monkeypatch: pytest.MonkeyPatch, crash_after: str, max_uses: int
) -> None:
    # Given an API that crashes right after a write step of a redemption (the step's writes did happen)
    add_code(call_api, store, "CRASHY", max_uses=max_uses, per_customer=2)
    owner, method = CRASH_POINTS[crash_after]
    real = getattr(owner, method)

    def crash(self: Any, *args: Any, **kwargs: Any) -> Any:
        real(self, *args, **kwargs)
        raise RuntimeError(f"crash after {crash_after}")

    with monkeypatch.context() as crashing:
        crashing.setattr(owner, method, crash)
        with pytest.raises(RuntimeError, match="crash after"):
            redeem(call_api, store, "CRASHY", "ann", "order-1")
    # When the client sends the same order again, to a healthy API
    retried = redeem(call_api, store, "CRASHY", "ann", "order-1")
    # Then it gets the redemption, counted exactly once
    assert retried.status in (200, 201)
    assert current_uses(call_api, store, "CRASHY") == 1
    assert validate(call_api, store, "CRASHY", "ann")["customer_uses"] == 1
    # And a crash after a rollback's write, then the rollback again, gives the use back exactly once
    with monkeypatch.context() as crashing:
        crashing.setattr(Table, "transact", crash_after_a_transaction)
        with pytest.raises(RuntimeError):
            roll_back(call_api, store, retried.body["data"]["id"])
    assert roll_back(call_api, store, retried.body["data"]["id"]).status == 204
    assert current_uses(call_api, store, "CRASHY") == 0
    assert validate(call_api, store, "CRASHY", "ann")["customer_uses"] == 0


_REAL_TRANSACT = Table.transact


def crash_after_a_transaction(self: Table, *args: Any, **kwargs: Any) -> None:
    _REAL_TRANSACT(self, *args, **kwargs)
    raise RuntimeError("crash after the transaction")


def test_redemptions_malformed_check_character_is_refused_before_any_code_is_read(
    generator_running: None, store: Store, call_api: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given codes made with a check character, and one of them mistyped (one character changed)
    body = {"batch_size": 3, "check_character": True, "max_uses": 5}
    made = call_api("POST", v3(store, "promotions/1/codegen"), json.dumps(body), store.token)
    assert made.status == 201, made.body
    good = made.body["data"]["codes"][0]["code"]
    swap = "B" if good[0] != "B" else "C"
    typo = swap + good[1:]
    # When the typo is validated and redeemed while any read of a code would fail
    with monkeypatch.context() as unreadable:

        def no_reads(*_: object, **__: object) -> None:
            raise AssertionError("a malformed code was looked up")

        unreadable.setattr(RedemptionRepository, "read_code", no_reads)
        checked = validate(call_api, store, typo)
        refused = redeem(call_api, store, typo, "ann", "o1")
    # Then both say MALFORMED, and the code as issued still redeems
    assert (checked["valid"], checked["reason"]) == (False, "MALFORMED")
    assert (refused.status, refused.body["reason"]) == (409, "MALFORMED")
    assert redeem(call_api, store, good, "ann", "o1").status == 201
