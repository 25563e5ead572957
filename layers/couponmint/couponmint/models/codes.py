"""Coupon codes: BigCommerce's `CouponCode` object and the bodies of the code endpoints."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from couponmint.logic.codes import MAX_CODE_LENGTH
from couponmint.models.codegen import UsesLimit, iso_timestamp
from couponmint.models.records import CodeRecord


class CreateCodeRequest(BaseModel):
    """`POST /promotions/{promotion_id}/codes`. Both limits default to 0, which means unlimited."""

    model_config = ConfigDict(extra="ignore")

    code: Annotated[StrictStr, Field(min_length=1, max_length=MAX_CODE_LENGTH, pattern=r"^[A-Za-z0-9_ -]+$")]
    max_uses: UsesLimit = 0
    max_uses_per_customer: UsesLimit = 0


class CouponCode(BaseModel):
    id: int
    code: str
    current_uses: int
    max_uses: int
    max_uses_per_customer: int
    created: str

    @classmethod
    def of(cls, record: CodeRecord) -> "CouponCode":
        return cls(
            id=record.id,
            code=record.code,
            current_uses=record.current_uses,
            max_uses=record.max_uses,
            max_uses_per_customer=record.max_uses_per_customer,
            created=iso_timestamp(record.created),
        )


class CouponCodeResponse(BaseModel):
    data: CouponCode
    meta: dict[str, Any] = Field(default_factory=dict)


class CouponCodeCollection(BaseModel):
    data: list[CouponCode]
    meta: dict[str, Any]
