"""Coupon codes of a promotion: list with cursors or pages, add by hand, find and delete."""

import uuid
from datetime import UTC, datetime

from couponmint.errors import CodeTaken, Conflict, InvalidRequest, NotAllowed, NotFound, PromotionFull
from couponmint.logic.pagination import Page, PageRequest, collection_meta
from couponmint.models.codes import CouponCode, CouponCodeCollection, CreateCodeRequest
from couponmint.models.records import CodeRecord, CouponType, PromotionRecord, RedemptionType
from couponmint.service import formats, limits
from couponmint.service.ports import CodeStore, LimitStore, PromotionStore

NO_CODES = "Coupon codes are only supported for promotions with redemption_type of 'COUPON'."


def coupon_promotion(promotions: PromotionStore, store_hash: str, promotion_id: int) -> PromotionRecord:
    """The promotion, if it exists in this store and takes codes (not AUTOMATIC)."""
    promotion = promotions.get(store_hash, promotion_id)
    if promotion is None:
        raise NotFound(f"promotion {promotion_id} does not exist")
    if promotion.redemption_type is not RedemptionType.COUPON:
        raise NotAllowed(NO_CODES)
    return promotion


def list_codes(
    promotions: PromotionStore,
    codes: CodeStore,
    slots: LimitStore,
    store_hash: str,
    promotion_id: int,
    request: PageRequest,
    code: str | None = None,
) -> CouponCodeCollection:
    """A page of a promotion's codes, newest first, holding one of the store's list slots while it reads."""
    with limits.concurrency_slot(slots, store_hash, "list", uuid.uuid4().hex):
        return _page_of_codes(promotions, codes, store_hash, promotion_id, request, code)


def _page_of_codes(
    promotions: PromotionStore,
    codes: CodeStore,
    store_hash: str,
    promotion_id: int,
    request: PageRequest,
    code: str | None,
) -> CouponCodeCollection:
    promotion = coupon_promotion(promotions, store_hash, promotion_id)
    if code is not None:
        found = find_code(promotions, codes, store_hash, code)
        records = [found] if found and found.promotion_id == promotion_id else []
        page = Page(ids=[r.id for r in records], has_previous=False, has_next=False)
        return CouponCodeCollection(
            data=[CouponCode.of(r) for r in records], meta=collection_meta(request, page, len(records))
        )
    records, more = codes.page(
        store_hash,
        promotion_id,
        request.limit,
        below_id=request.after,
        above_id=request.before,
        skip=request.offset if not request.uses_cursor else 0,
    )
    page = Page(
        ids=[r.id for r in records],
        # Going towards older codes, the newer side exists whenever a cursor was followed (and vice versa).
        has_previous=more if request.before is not None else request.after is not None,
        has_next=True if request.before is not None else more,
    )
    return CouponCodeCollection(
        data=[CouponCode.of(r) for r in records], meta=collection_meta(request, page, promotion.code_count)
    )


def add_code(
    promotions: PromotionStore, codes: CodeStore, store_hash: str, promotion_id: int, request: CreateCodeRequest
) -> CodeRecord:
    promotion = coupon_promotion(promotions, store_hash, promotion_id)
    record = CodeRecord(
        store_hash=store_hash,
        promotion_id=promotion_id,
        id=promotions.reserve_ids(store_hash, "code", 1),
        code=request.code,
        max_uses=request.max_uses,
        max_uses_per_customer=request.max_uses_per_customer,
        created=datetime.now(UTC),
    )
    try:
        codes.add(record, only_code=promotion.coupon_type is not CouponType.BULK)
    except CodeTaken:
        raise Conflict(f"the code {request.code!r} already exists in this store") from None
    except PromotionFull:
        raise InvalidRequest("code: a SINGLE coupon promotion holds at most one code") from None
    return record


def delete_codes_by_id(
    promotions: PromotionStore, codes: CodeStore, store_hash: str, promotion_id: int, code_ids: list[int]
) -> int:
    coupon_promotion(promotions, store_hash, promotion_id)
    found = [codes.by_id(store_hash, promotion_id, code_id) for code_id in code_ids]
    return codes.delete([record for record in found if record is not None])


def find_code(promotions: PromotionStore, codes: CodeStore, store_hash: str, typed: str) -> CodeRecord | None:
    """The store's code a person typed: as typed (any case), or read through the store's formats (the
    unambiguous charset's look-alikes)."""
    for candidate in formats.read_code(promotions, store_hash, typed).candidates:
        found = codes.get(store_hash, candidate)
        if found is not None:
            return found
    return None


def delete_code_by_text(codes: CodeStore, store_hash: str, code: str) -> None:
    record = codes.get(store_hash, code)
    if record is not None:
        codes.delete([record])
