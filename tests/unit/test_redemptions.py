"""Redemption's decisions against in-memory ports, and its arithmetic (ids, dates, positions)."""

from datetime import UTC, datetime, timedelta

import pytest

from couponmint.errors import NotFound, RedemptionRefused, TooManyRequests
from couponmint.logic.hook_scopes import CODE_REDEEMED, REDEMPTION_ROLLED_BACK
from couponmint.logic.redemptions import (
    Reason,
    code_id_of,
    limit_refusal,
    listing_position,
    promotion_refusal,
    redemption_id,
    uses_left,
)
from couponmint.models.codegen import CodeFormat
from couponmint.models.hooks import HookRequest
from couponmint.models.redemptions import RedeemRequest, RedemptionStatus, ValidateRequest
from couponmint.service import formats, hooks, redemptions
from couponmint.service.hooks import LISTENERS_CACHE_SECONDS, Listened
from tests.unit.event_fakes import FakeEvents, FakeHooks, hook
from tests.unit.fakes import FakePromotions
from tests.unit.redemption_fakes import FakeRedemptions, code, promotion

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def order(n: int, customer: str = "ann", text: str = "SAVE10") -> RedeemRequest:
    return RedeemRequest(code=text, customer=customer, order_id=f"order-{n}")


@pytest.fixture
def events() -> FakeEvents:
    """The deployment's bus, in memory: what the redemption service published."""
    return FakeEvents()


def published(events: FakeEvents) -> list[tuple[str, str | int]]:
    return [(event.scope, event.data.id) for event in events.published]


def test_redeem_counts_once_per_order_and_tells_the_retry(events: FakeEvents) -> None:
    # Given a code of 2 uses
    store = FakeRedemptions(codes={"SAVE10": code()})
    # When the same order is redeemed twice
    first, made = redemptions.redeem(FakePromotions(), store, "s", order(1), NOW, events)
    again, made_again = redemptions.redeem(FakePromotions(), store, "s", order(1), NOW, events)
    # Then the first is made, the second is the same redemption
    assert (made, made_again) == (True, False)
    assert again.data == first.data and first.data.id == redemption_id(7, "order-1")
    assert (first.meta.current_uses, first.meta.uses_left) == (1, 1)
    # And the retry published the same event again (same id and body: the delivery function sends it once)
    assert published(events) == [(CODE_REDEEMED, first.data.id)] * 2
    assert events.published[0] == events.published[1]
    assert store.codes["SAVE10"].current_uses == 1


def test_redeem_refuses_an_exhausted_code_without_a_transaction_but_answers_its_own_retry(events: FakeEvents) -> None:
    store = FakeRedemptions(codes={"SAVE10": code(current_uses=2)})
    with pytest.raises(RedemptionRefused) as refused:
        redemptions.redeem(FakePromotions(), store, "s", order(3), NOW, events)
    assert refused.value.reason is Reason.EXHAUSTED
    # An order that got its redemption before the code ran out gets it back
    store.codes["SAVE10"] = code(current_uses=1)
    made, _ = redemptions.redeem(FakePromotions(), store, "s", order(1), NOW, events)
    store.codes["SAVE10"] = code(current_uses=2)
    again, created = redemptions.redeem(FakePromotions(), store, "s", order(1), NOW, events)
    assert (created, again.data, again.meta.uses_left) == (False, made.data, 0)


@pytest.mark.parametrize(
    ("status", "attributes", "reason"),
    [
        ("DISABLED", {}, Reason.PROMOTION_DISABLED),
        ("ENABLED", {"start_date": (NOW + timedelta(seconds=1)).isoformat()}, Reason.NOT_STARTED),
        ("ENABLED", {"end_date": NOW.isoformat()}, Reason.EXPIRED),
        ("DISABLED", {"end_date": NOW.isoformat()}, Reason.PROMOTION_DISABLED),
    ],
)
def test_redeem_and_validate_honour_the_promotion(
    status: str, attributes: dict[str, str], reason: Reason, events: FakeEvents
) -> None:
    store = FakeRedemptions(codes={"SAVE10": code()}, promotion=promotion(status, **attributes))
    with pytest.raises(RedemptionRefused) as refused:
        redemptions.redeem(FakePromotions(), store, "s", order(1), NOW, events)
    assert refused.value.reason is reason
    assert redemptions.validate(FakePromotions(), store, "s", ValidateRequest(code="SAVE10"), NOW).reason is reason
    assert store.records == {}


def test_redeem_of_a_malformed_code_reads_no_code(events: FakeEvents) -> None:
    # Given a store that issued codes with a check character
    promotions = FakePromotions()
    code_format = CodeFormat(pattern="GIFT-######", check_character=True)
    formats.remember(promotions, "malformed-store", code_format)
    store = FakeRedemptions()
    # When a code of that shape, failing its check, is redeemed and validated
    with pytest.raises(RedemptionRefused) as refused:
        redemptions.redeem(promotions, store, "malformed-store", order(1, text="GIFT-0000000"), NOW, events)
    validation = redemptions.validate(promotions, store, "malformed-store", ValidateRequest(code="GIFT-0000000"), NOW)
    # Then both say MALFORMED, and no code was looked up
    assert refused.value.reason is Reason.MALFORMED
    assert (validation.valid, validation.reason) == (False, Reason.MALFORMED)
    assert store.reads == []


def test_redeem_spreads_an_unlimited_code_over_shards_before_its_first_count_only(events: FakeEvents) -> None:
    store = FakeRedemptions(codes={"SAVE10": code(max_uses=0)})
    for n in range(3):
        answer, _ = redemptions.redeem(FakePromotions(), store, "s", order(n), NOW, events)
        assert answer.meta.uses_left is None
    assert store.spreads == 1 and store.codes["SAVE10"].use_shards == 16


def test_redeem_of_a_busy_code_is_429_and_of_an_unknown_one_404(events: FakeEvents) -> None:
    store = FakeRedemptions(codes={"SAVE10": code()}, busy=True)
    with pytest.raises(TooManyRequests):
        redemptions.redeem(FakePromotions(), store, "s", order(1), NOW, events)
    with pytest.raises(NotFound):
        redemptions.redeem(FakePromotions(), store, "s", order(1, text="NOPE"), NOW, events)


def test_validate_tells_the_customer_limit_and_changes_nothing() -> None:
    store = FakeRedemptions(codes={"SAVE10": code(max_uses_per_customer=1)}, customer_uses={"ann": 1})
    ann = redemptions.validate(FakePromotions(), store, "s", ValidateRequest(code="save10", customer="ann"), NOW)
    bob = redemptions.validate(FakePromotions(), store, "s", ValidateRequest(code="SAVE10", customer="bob"), NOW)
    anyone = redemptions.validate(FakePromotions(), store, "s", ValidateRequest(code="SAVE10"), NOW)
    assert (ann.valid, ann.reason, ann.customer_uses) == (False, Reason.CUSTOMER_LIMIT, 1)
    assert (bob.valid, bob.customer_uses) == (True, None)
    assert (anyone.valid, anyone.customer_uses) == (True, None)
    assert store.records == {} and store.codes["SAVE10"].current_uses == 0


def test_roll_back_gives_back_once_and_publishes_one_event_id(events: FakeEvents) -> None:
    store = FakeRedemptions(codes={"SAVE10": code()})
    made, _ = redemptions.redeem(FakePromotions(), store, "s", order(1), NOW, events)
    for _ in range(3):
        redemptions.roll_back(store, "s", made.data.id, NOW, events)
    assert store.records[made.data.id].status is RedemptionStatus.ROLLED_BACK
    assert store.codes["SAVE10"].current_uses == 0
    assert published(events) == [(CODE_REDEEMED, made.data.id)] + [(REDEMPTION_ROLLED_BACK, made.data.id)] * 3
    assert len({event.event_id for event in events.published}) == 2
    with pytest.raises(NotFound):
        redemptions.roll_back(store, "s", "not-an-id", NOW, events)


def test_redemption_events_are_published_only_for_a_store_with_an_active_hook_that_matches(events: FakeEvents) -> None:
    # Given a store whose only hook is inactive, a store whose hook takes job events only, and one whose hook
    # takes every promotion event
    stored = FakeHooks(
        hooks={
            1: hook(1, store_hash="inactive", scope=CODE_REDEEMED, is_active=False),
            2: hook(2, store_hash="jobs-only"),
            3: hook(3, store_hash="listened", scope="store/promotion/*"),
        }
    )
    listened = Listened(events, stored, clock=lambda: 1_000.0)
    # When each store redeems a code and rolls its redemption back
    for store_hash in ("inactive", "jobs-only", "listened"):
        store = FakeRedemptions(codes={"SAVE10": code()})
        made, _ = redemptions.redeem(FakePromotions(), store, store_hash, order(1), NOW, listened)
        redemptions.roll_back(store, store_hash, made.data.id, NOW, listened)
    # Then only the listened store's two events were published
    assert [(event.store_hash, event.scope) for event in events.published] == [
        ("listened", CODE_REDEEMED),
        ("listened", REDEMPTION_ROLLED_BACK),
    ]


def test_a_hook_saved_in_this_process_is_heard_at_once_one_saved_elsewhere_within_the_cache_time(
    events: FakeEvents,
) -> None:
    # Given a store without hooks, whose redemption was published to nobody (the answer is now cached)
    now = [2_000.0]
    stored = FakeHooks()
    listened = Listened(events, stored, clock=lambda: now[0])
    store = FakeRedemptions(codes={"SAVE10": code()})
    redemptions.redeem(FakePromotions(), store, "late", order(1), NOW, listened)
    assert events.published == []
    # When a hook is saved through this process's service
    request = HookRequest(scope=CODE_REDEEMED, destination="https://hooks.example/in")
    hooks.create_hook(
        stored, "late", "c", request, allow_local_http=False, resolve=lambda host, port: ["93.184.216.34"]
    )
    redemptions.redeem(FakePromotions(), store, "late", order(2), NOW, listened)
    # Then the next redemption is published at once
    assert published(events) == [(CODE_REDEEMED, redemption_id(code().id, "order-2"))]
    # And a hook another process saved for another store is heard once the cached answer expires
    redemptions.redeem(FakePromotions(), FakeRedemptions(codes={"SAVE10": code()}), "other", order(3), NOW, listened)
    stored.put(hook(9, store_hash="other", scope=CODE_REDEEMED))
    redemptions.redeem(FakePromotions(), FakeRedemptions(codes={"SAVE10": code()}), "other", order(4), NOW, listened)
    assert len(events.published) == 1
    now[0] += LISTENERS_CACHE_SECONDS
    redemptions.redeem(FakePromotions(), FakeRedemptions(codes={"SAVE10": code()}), "other", order(5), NOW, listened)
    assert [event.store_hash for event in events.published] == ["late", "other"]


# ---------------------------------------------------------------- arithmetic
def test_redemption_id_names_the_code_and_a_hash_of_the_order() -> None:
    made = redemption_id(42, "order #1")
    assert made == redemption_id(42, "order #1") != redemption_id(42, "order #2")
    assert code_id_of(made) == 42
    assert [code_id_of(raw) for raw in ("42", "x-" + "0" * 32, f"{made}0", "42-" + "A" * 32)] == [None] * 4


def test_listing_position_orders_by_time_then_tells_apart_the_same_microsecond() -> None:
    a, b = redemption_id(1, "a"), redemption_id(1, "b")
    assert listing_position(NOW, a) < listing_position(NOW + timedelta(microseconds=1), a)
    assert listing_position(NOW, a) != listing_position(NOW, b)


def test_promotion_window_is_start_inclusive_end_exclusive() -> None:
    window = {"start_date": NOW.isoformat(), "end_date": (NOW + timedelta(days=1)).isoformat()}
    assert promotion_refusal("ENABLED", window, NOW) is None
    assert promotion_refusal("ENABLED", window, NOW - timedelta(microseconds=1)) is Reason.NOT_STARTED
    assert promotion_refusal("ENABLED", window, NOW + timedelta(days=1)) is Reason.EXPIRED


def test_limits_and_uses_left() -> None:
    assert limit_refusal(0, 10**6, 0, None) is None
    assert limit_refusal(3, 3, 0, None) is Reason.EXHAUSTED
    assert limit_refusal(3, 2, 1, 1) is Reason.CUSTOMER_LIMIT
    assert (uses_left(0, 5), uses_left(3, 1), uses_left(3, 4)) == (None, 2, 0)


def test_admission_lets_validate_through_as_a_read_and_counts_the_checkout_calls_in_their_lane() -> None:
    from couponmint.api.admission import modifies
    from couponmint.api.paths import REDEMPTION_LANE

    base = "/stores/s/v3/promotions"
    assert not modifies("POST", f"{base}/codes/validate")
    assert modifies("POST", f"{base}/codes/redemptions") and modifies("DELETE", f"{base}/codes/redemptions/1-a")
    assert modifies("POST", f"{base}/codes/validate/x") and modifies("POST", f"{base}/1/codes")
    assert not modifies("GET", f"{base}/1/codes/7/redemptions")
    lane = [f"{base}/codes/validate", f"{base}/codes/redemptions", f"{base}/codes/redemptions/7-ab"]
    assert all(REDEMPTION_LANE.match(path) for path in lane)
    assert not any(REDEMPTION_LANE.match(p) for p in (f"{base}/codes", f"{base}/1/codes/7/redemptions", f"{base}/1"))
