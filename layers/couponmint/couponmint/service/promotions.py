"""Promotions: create, read, list, update, delete (refused while codes remain)."""

from datetime import UTC, datetime
from typing import Any

from couponmint.adapters.table import CouponTable
from couponmint.errors import InvalidRequest, NotFound
from couponmint.logic.pagination import offset_page
from couponmint.models.promotions import (
    PromotionCollection,
    PromotionDraft,
    PromotionPatch,
    saved_promotion,
)
from couponmint.models.records import CouponType, PromotionRecord, RedemptionType

# The fields a PromotionRecord holds itself; everything else travels in `attributes`.
OWN_FIELDS = {"name", "redemption_type", "coupon_type", "status"}
MAX_DELETE = 50


def _attributes(body: PromotionDraft | PromotionPatch) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump(mode="json", exclude_unset=True).items() if k not in OWN_FIELDS}


def create_promotion(table: CouponTable, store_hash: str, draft: PromotionDraft) -> PromotionRecord:
    coupon_type = None
    if draft.redemption_type is RedemptionType.COUPON:
        coupon_type = draft.coupon_type or CouponType.SINGLE
    promotion = PromotionRecord(
        store_hash=store_hash,
        id=table.reserve_ids(store_hash, "promotion", 1),
        name=draft.name,
        redemption_type=draft.redemption_type,
        coupon_type=coupon_type,
        status=draft.status or "ENABLED",
        created=datetime.now(UTC),
        attributes=_attributes(draft),
    )
    table.put_promotion(promotion)
    return promotion


def get_promotion(table: CouponTable, store_hash: str, promotion_id: int) -> PromotionRecord:
    promotion = table.get_promotion(store_hash, promotion_id)
    if promotion is None:
        raise NotFound(f"promotion {promotion_id} does not exist")
    return promotion


def update_promotion(table: CouponTable, store_hash: str, promotion_id: int, patch: PromotionPatch) -> PromotionRecord:
    current = get_promotion(table, store_hash, promotion_id)
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
    table.update_promotion(updated)
    return updated


def list_promotions(
    table: CouponTable,
    store_hash: str,
    *,
    page: int,
    limit: int,
    name: str | None = None,
    redemption_type: str | None = None,
    status: str | None = None,
    ids: list[int] | None = None,
) -> PromotionCollection:
    promotions = [
        p
        for p in table.list_promotions(store_hash)
        if (name is None or p.name == name)
        and (redemption_type is None or p.redemption_type.value == redemption_type.upper())
        and (status is None or p.status == status.upper())
        and (ids is None or p.id in ids)
    ]
    shown, meta = offset_page(promotions, page, limit)
    return PromotionCollection(
        data=[saved_promotion(p) for p in shown],
        meta=meta,
    )


def delete_promotions(table: CouponTable, store_hash: str, ids: list[int]) -> list[int]:
    """Delete the promotions that hold no codes; returns the ids refused because they still do."""
    if len(ids) > MAX_DELETE:
        raise InvalidRequest(f"Parameter id:in names {len(ids)} ids; at most {MAX_DELETE} are allowed")
    return [promotion_id for promotion_id in ids if not table.delete_promotion(store_hash, promotion_id)]
