"""Promotions: create, read, list, update, delete (refused while codes remain)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from couponmint.errors import InvalidRequest, NotFound
from couponmint.logic.pagination import offset_page
from couponmint.models.promotions import PromotionCollection, PromotionDraft, PromotionPatch, saved_promotion
from couponmint.models.records import CouponType, PromotionRecord, RedemptionType
from couponmint.service.ports import PromotionStore

# The fields a PromotionRecord holds itself; everything else travels in `attributes`.
OWN_FIELDS = {"name", "redemption_type", "coupon_type", "status"}
MAX_DELETE = 50


def _attributes(body: PromotionDraft | PromotionPatch) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump(mode="json", exclude_unset=True).items() if k not in OWN_FIELDS}


def create_promotion(
    promotions: PromotionStore, store_hash: str, draft: PromotionDraft, *, promotion_id: int | None = None
) -> PromotionRecord:
    """Store a promotion; its id comes from the store's counter unless given.

    With an explicit id that already exists (an operator's or the demo seed's), the existing promotion is kept
    and returned: seeding is idempotent and never resets a promotion's code count.
    """
    coupon_type = None
    if draft.redemption_type is RedemptionType.COUPON:
        coupon_type = draft.coupon_type or CouponType.SINGLE
    if promotion_id is not None:
        promotions.raise_counter(store_hash, "promotion", promotion_id)
    promotion = PromotionRecord(
        store_hash=store_hash,
        id=promotion_id if promotion_id is not None else promotions.reserve_ids(store_hash, "promotion", 1),
        name=draft.name,
        redemption_type=draft.redemption_type,
        coupon_type=coupon_type,
        status=draft.status or "ENABLED",
        created=datetime.now(UTC),
        attributes=_attributes(draft),
    )
    if not promotions.put(promotion):
        existing = promotions.get(store_hash, promotion.id)
        if existing is None:
            raise NotFound(f"promotion {promotion.id} was deleted while it was created again")
        return existing
    return promotion


def get_promotion(promotions: PromotionStore, store_hash: str, promotion_id: int) -> PromotionRecord:
    promotion = promotions.get(store_hash, promotion_id)
    if promotion is None:
        raise NotFound(f"promotion {promotion_id} does not exist")
    return promotion


def update_promotion(
    promotions: PromotionStore, store_hash: str, promotion_id: int, patch: PromotionPatch
) -> PromotionRecord:
    current = get_promotion(promotions, store_hash, promotion_id)
    problems = []
    if patch.redemption_type is not None and patch.redemption_type is not current.redemption_type:
        problems.append("redemption_type: cannot be changed")
    if patch.coupon_type is not None and patch.coupon_type is not current.coupon_type:
        problems.append("coupon_type: cannot be changed")
    if problems:
        raise InvalidRequest(*problems)
    updated = current.model_copy(
        update={
            "name": patch.name or current.name,
            "status": patch.status or current.status,
            "attributes": {**current.attributes, **_attributes(patch)},
        }
    )
    promotions.update(updated)
    return updated


def list_promotions(
    promotions: PromotionStore,
    store_hash: str,
    *,
    page: int,
    limit: int,
    name: str | None = None,
    redemption_type: str | None = None,
    status: str | None = None,
    ids: list[int] | None = None,
) -> PromotionCollection:
    matching = [
        p
        for p in promotions.of_store(store_hash)
        if (name is None or p.name == name)
        and (redemption_type is None or p.redemption_type.value == redemption_type.upper())
        and (status is None or p.status == status.upper())
        and (ids is None or p.id in ids)
    ]
    shown, meta = offset_page(matching, page, limit)
    return PromotionCollection(data=[saved_promotion(p) for p in shown], meta=meta)


def delete_promotions(
    promotions: PromotionStore,
    store_hash: str,
    ids: list[int],
    *,
    on_deleted: Callable[[int], object] = lambda _: None,
) -> list[int]:
    """Delete the promotions that hold no codes, calling `on_deleted` with each one deleted (its schedules
    go with it); returns the ids refused because they still hold codes."""
    if len(ids) > MAX_DELETE:
        raise InvalidRequest(f"Parameter id:in names {len(ids)} ids; at most {MAX_DELETE} are allowed")
    refused = []
    for promotion_id in ids:
        if promotions.delete(store_hash, promotion_id):
            on_deleted(promotion_id)
        else:
            refused.append(promotion_id)
    return refused
