"""Promotions: the part of BigCommerce's promotion objects that coupon codes need, stored as given.

couponmint validates what codes depend on (name, redemption_type, coupon_type, rules as objects with an
`action`, status, dates) and keeps every other field as the client sent it, so a saved promotion reads back as
BigCommerce's `SavedCouponPromotion` / `SavedAutomaticPromotion` with the spec's defaults filled in.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from couponmint.models.records import CouponType, PromotionRecord, RedemptionType

PromotionStatus = Literal["ENABLED", "DISABLED"]


class Rule(BaseModel):
    model_config = ConfigDict(extra="allow")

    action: dict[str, Any]


class PromotionFields(BaseModel):
    """Fields common to creating and updating; unknown fields are kept as given."""

    model_config = ConfigDict(extra="allow")

    name: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    display_name: Annotated[StrictStr, Field(max_length=255)] | None = None
    rules: Annotated[list[Rule], Field(min_length=1)] | None = None
    status: PromotionStatus | None = None
    max_uses: Annotated[StrictInt, Field(ge=1)] | None = None
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None
    stop: StrictBool | None = None
    can_be_used_with_other_promotions: StrictBool | None = None
    currency_code: Annotated[StrictStr, Field(min_length=1, max_length=3)] | None = None


class PromotionDraft(PromotionFields):
    """`POST /promotions`."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    redemption_type: RedemptionType
    rules: Annotated[list[Rule], Field(min_length=1)]
    coupon_type: CouponType | None = None

    @classmethod
    def named(
        cls, name: str, redemption_type: RedemptionType, coupon_type: CouponType | None = None
    ) -> "PromotionDraft":
        """The simplest promotion: 10 % off the cart (what the CLI and the local stack's demo seed create)."""
        return cls(
            name=name,
            redemption_type=redemption_type,
            coupon_type=coupon_type,
            rules=[Rule(action={"cart_value": {"discount": {"percentage_amount": "10"}}})],
        )


class PromotionPatch(PromotionFields):
    """`PUT /promotions/{id}`: redemption_type and coupon_type may be sent, but only with their current values."""

    redemption_type: RedemptionType | None = None
    coupon_type: CouponType | None = None


# The spec's required fields of a saved promotion, with BigCommerce's defaults.
SAVED_DEFAULTS: dict[str, Any] = {
    "channels": [],
    "customer": {"group_ids": [], "minimum_order_count": 0, "excluded_group_ids": []},
    "notifications": [],
    "stop": False,
    "currency_code": "*",
    "can_be_used_with_other_promotions": True,
    "rules": [],
}


def saved_promotion(record: PromotionRecord) -> dict[str, Any]:
    """The promotion as BigCommerce answers it."""
    saved = {
        **SAVED_DEFAULTS,
        **record.attributes,
        "id": record.id,
        "name": record.name,
        "redemption_type": record.redemption_type.value,
        "status": record.status,
        "current_uses": 0,
        "created_from": "api",
        "start_date": record.attributes.get("start_date") or _iso(record.created),
    }
    # The spec types max_uses and end_date without `nullable`: an unset value is left out, not null.
    saved = {k: v for k, v in saved.items() if v is not None}
    if record.redemption_type is RedemptionType.COUPON:
        saved["coupon_type"] = (record.coupon_type or CouponType.SINGLE).value
        saved.setdefault("coupon_overrides_other_promotions", False)
        saved["multiple_codes"] = {"has_multiple_codes": record.coupon_type is CouponType.BULK}
    return saved


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


class PromotionResponse(BaseModel):
    data: dict[str, Any]
    meta: dict[str, Any] = Field(default_factory=dict)


class PromotionCollection(BaseModel):
    data: list[dict[str, Any]]
    meta: dict[str, Any]
