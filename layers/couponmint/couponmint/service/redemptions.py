"""Redemption (EXT): validate a code, redeem it for an order, roll a redemption back, list a code's redemptions.

A typed code is read through the store's formats first (service/formats.py): a code that fails its format's
check character is MALFORMED before any code is read; otherwise its candidates (look-alikes of the unambiguous
charset) are looked up in order. The code's promotion must be ENABLED and within its dates. The limits are
enforced by the redemption's transaction itself (adapters/redemptions.py): reading "1 use left" decides nothing.
"""

from collections.abc import Callable
from datetime import datetime

from couponmint.errors import CodeBusy, NotFound, RedemptionRefused, TooManyRequests
from couponmint.logic.pagination import Page, PageRequest, cursor_meta
from couponmint.logic.redemptions import (
    Reason,
    code_id_of,
    limit_refusal,
    listing_position,
    promotion_refusal,
    redemption_id,
    uses_left,
)
from couponmint.models.events import code_redeemed, redemption_rolled_back
from couponmint.models.records import CodeRecord
from couponmint.models.redemptions import (
    CodeState,
    RedeemRequest,
    Redemption,
    RedemptionCollection,
    RedemptionMeta,
    RedemptionRecord,
    RedemptionResponse,
    RedemptionStatus,
    ValidateRequest,
    Validation,
)
from couponmint.observability import logger
from couponmint.service import formats
from couponmint.service.ports import CodeStore, EventPublisher, PromotionStore, RedemptionStore

# Waits for the request's count against the store's quota (admission counts it while the code is read) and
# refuses past it: called after the reads, before anything is decided or written.
Admitted = Callable[[], None]


def _counted() -> None:
    """No quota to wait for (the unit tests, the CLI)."""


REFUSALS = {
    Reason.EXHAUSTED: "The code has been used its max_uses times.",
    Reason.CUSTOMER_LIMIT: "The customer has used the code its max_uses_per_customer times.",
    Reason.PROMOTION_DISABLED: "The code's promotion is not enabled.",
    Reason.NOT_STARTED: "The code's promotion has not started yet.",
    Reason.EXPIRED: "The code's promotion has ended.",
    Reason.MALFORMED: "The code fails its format's check character: it was mistyped.",
}


def validate(
    promotions: PromotionStore,
    redemptions: RedemptionStore,
    store_hash: str,
    request: ValidateRequest,
    now: datetime,
    admitted: Admitted = _counted,
) -> Validation:
    """Whether the code could be redeemed now (by `request.customer`, when given). Changes nothing."""
    reading = formats.read_code(promotions, store_hash, request.code)
    state = None if reading.malformed else redemptions.read_code(store_hash, reading.candidates, request.customer)
    admitted()
    if state is None or state.promotion is None:
        return Validation(
            code=request.code,
            code_id=None,
            promotion_id=None,
            valid=False,
            reason=Reason.MALFORMED if reading.malformed else Reason.NOT_FOUND,
            current_uses=None,
            max_uses=None,
            max_uses_per_customer=None,
            customer_uses=None,
        )
    code = state.code
    reason = _promotion_refusal(state, now) or limit_refusal(
        code.max_uses, code.current_uses, code.max_uses_per_customer, state.customer_uses
    )
    return Validation(
        code=code.code,
        code_id=code.id,
        promotion_id=code.promotion_id,
        valid=reason is None,
        reason=reason,
        current_uses=code.current_uses,
        max_uses=code.max_uses,
        max_uses_per_customer=code.max_uses_per_customer,
        customer_uses=state.customer_uses,
    )


def redeem(
    promotions: PromotionStore,
    redemptions: RedemptionStore,
    store_hash: str,
    request: RedeemRequest,
    now: datetime,
    events: EventPublisher,
    admitted: Admitted = _counted,
) -> tuple[RedemptionResponse, bool]:
    """Redeem the code for the order: (the redemption, True) when made now; (the order's redemption, False) when
    it was made before (a retry counts once, and publishes its event again: see `published` below). Raises
    RedemptionRefused (nothing written) or NotFound."""
    reading = formats.read_code(promotions, store_hash, request.code)
    known = None if reading.malformed else redemptions.remembered(store_hash, reading.candidates)
    if known is not None:
        # A code read before: sent without a read, refused by its transaction where the read would have decided
        # anything; when it is refused, the read-first way below decides why (or finds the order's redemption).
        admitted()
        made = redemptions.redeem_remembered(known, _wanted(known, store_hash, request, now), now)
        if made is not None and made.record is not None:
            logger.info("redemption created", extra=_fields(made.record))
            published(events, made.record)
            return _answer(made.record, known.current_uses + 1, known.max_uses), True
    state = None if reading.malformed else redemptions.read_code(store_hash, reading.candidates, None)
    admitted()
    if reading.malformed:
        raise RedemptionRefused(Reason.MALFORMED, REFUSALS[Reason.MALFORMED])
    if state is None or state.promotion is None:
        raise NotFound(f"the code {request.code!r} does not exist in this store")
    code = state.code
    wanted = _wanted(code, store_hash, request, now)
    # Refusals the read already shows (the transaction would refuse an exhausted code too, but need not be sent to
    # a hot item): unless this order's redemption exists, which a retry must get back whatever happened since.
    early = _promotion_refusal(state, now) or limit_refusal(code.max_uses, code.current_uses, 0, None)
    if early is not None:
        existing = redemptions.get(store_hash, wanted.redemption_id)
        if existing is None:
            raise RedemptionRefused(early, REFUSALS[early])
        published(events, existing)
        return _answer(existing, code.current_uses, code.max_uses), False
    if not code.max_uses and not code.use_shards:
        shards = redemptions.spread_uses(code)
        if not shards:
            raise NotFound(f"the code {request.code!r} does not exist in this store")
        code = code.model_copy(update={"use_shards": shards})
    try:
        outcome = redemptions.redeem(code, wanted)
    except CodeBusy:
        raise TooManyRequests(f"the code {code.code!r} is busy; try again", 1) from None
    if outcome.refused is Reason.NOT_FOUND:
        raise NotFound(f"the code {request.code!r} does not exist in this store")
    if outcome.refused is not None:
        raise RedemptionRefused(outcome.refused, REFUSALS[outcome.refused])
    assert outcome.record is not None
    if outcome.created:
        logger.info("redemption created", extra=_fields(outcome.record))
    published(events, outcome.record)
    counted = code.current_uses + (1 if outcome.created else 0)
    return _answer(outcome.record, counted, code.max_uses), outcome.created


def roll_back(
    redemptions: RedemptionStore,
    store_hash: str,
    raw_id: str,
    now: datetime,
    events: EventPublisher,
    admitted: Admitted = _counted,
) -> None:
    """Give the redemption's use back, once however often asked; NotFound for an unknown id."""
    record = redemptions.get(store_hash, raw_id) if code_id_of(raw_id) is not None else None
    admitted()
    if record is None:
        raise NotFound(f"redemption {raw_id} does not exist")
    if record.status is RedemptionStatus.REDEEMED:
        if redemptions.roll_back(record, now):
            record = record.model_copy(update={"status": RedemptionStatus.ROLLED_BACK, "rolled_back": now})
            logger.info("redemption rolled back", extra=_fields(record))
        else:  # rolled back by a request racing this one: its state is read again for the event
            record = redemptions.get(store_hash, raw_id) or record
    published(events, record)


def list_redemptions(
    codes: CodeStore,
    redemptions: RedemptionStore,
    store_hash: str,
    promotion_id: int,
    code_id: int | None,
    request: PageRequest,
) -> RedemptionCollection:
    """A page of the code's redemptions, newest first, with the code list's cursors."""
    if code_id is None or codes.by_id(store_hash, promotion_id, code_id) is None:
        raise NotFound(f"code {code_id} of promotion {promotion_id} does not exist")
    records, more = redemptions.page(store_hash, code_id, request.limit, below=request.after, above=request.before)
    page = Page(
        ids=[listing_position(r.created, r.redemption_id) for r in records],
        has_previous=more if request.before is not None else request.after is not None,
        has_next=True if request.before is not None else more,
    )
    return RedemptionCollection(
        data=[Redemption.of(r) for r in records], meta={"cursor_pagination": cursor_meta(page, request.limit)}
    )


# ---------------------------------------------------------------- events
# Webhook events (`store/promotion/code/redeemed`, `store/promotion/code/redemption/rolled_back`) are published
# after the write that made them happen. Their ids derive from the redemption's id (models/events.py), and a
# request that finds the change made already (a retry of the same order, a second rollback) publishes the same
# event again: so a crash between the write and PutEvents loses no event once the client retries, and the delivery
# function, which fans out each event id once, sends no hook a second copy. The API publishes them through
# `hooks.Listened`: a store with no active hook of a matching scope makes no bus call at checkout.
def published(events: EventPublisher, record: RedemptionRecord) -> None:
    if record.status is RedemptionStatus.ROLLED_BACK:
        events.publish(
            redemption_rolled_back(
                record.store_hash, record.redemption_id, record.promotion_id, record.rolled_back or record.created
            )
        )
    else:
        events.publish(code_redeemed(record.store_hash, record.redemption_id, record.promotion_id, record.created))


def _fields(record: RedemptionRecord) -> dict[str, object]:
    return {
        "store_hash": record.store_hash,
        "redemption_id": record.redemption_id,
        "code_id": record.code_id,
        "promotion_id": record.promotion_id,
    }


def _wanted(code: CodeRecord, store_hash: str, request: RedeemRequest, now: datetime) -> RedemptionRecord:
    return RedemptionRecord(
        store_hash=store_hash,
        redemption_id=redemption_id(code.id, request.order_id),
        code=code.code,
        code_id=code.id,
        promotion_id=code.promotion_id,
        customer=request.customer,
        order_id=request.order_id,
        created=now,
    )


def _promotion_refusal(state: CodeState, now: datetime) -> Reason | None:
    assert state.promotion is not None
    return promotion_refusal(state.promotion.status, state.promotion.attributes, now)


def _answer(record: RedemptionRecord, current_uses: int, max_uses: int) -> RedemptionResponse:
    return RedemptionResponse(
        data=Redemption.of(record),
        meta=RedemptionMeta(current_uses=current_uses, uses_left=uses_left(max_uses, current_uses)),
    )
