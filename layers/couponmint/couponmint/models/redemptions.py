"""Redemption (EXT): validate a code, redeem it for an order, roll a redemption back, list a code's redemptions."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from couponmint.logic.redemptions import Reason
from couponmint.models.codegen import iso_timestamp
from couponmint.models.records import CodeRecord, PromotionRecord

# A typed code may be longer than any stored one (then it is not found), not without bound.
TypedCode = Annotated[StrictStr, Field(min_length=1, max_length=255)]
Customer = Annotated[StrictStr, Field(min_length=1, max_length=255)]
OrderId = Annotated[StrictStr, Field(min_length=1, max_length=255)]


class RedemptionStatus(StrEnum):
    REDEEMED = "REDEEMED"
    ROLLED_BACK = "ROLLED_BACK"


class ValidateRequest(BaseModel):
    """`POST /promotions/codes/validate`."""

    model_config = ConfigDict(extra="ignore")

    code: TypedCode
    customer: Customer | None = None


class RedeemRequest(BaseModel):
    """`POST /promotions/codes/redemptions`."""

    model_config = ConfigDict(extra="ignore")

    code: TypedCode
    customer: Customer
    order_id: OrderId


class RedemptionRecord(BaseModel):
    """A stored redemption, with what it counted so that a rollback gives back exactly that."""

    store_hash: str
    redemption_id: str
    code: str
    code_id: int
    promotion_id: int
    customer: str
    order_id: str
    status: RedemptionStatus = RedemptionStatus.REDEEMED
    created: datetime
    rolled_back: datetime | None = None
    # The use shard it was counted in (an unlimited code), or None: counted on the code's own item.
    use_shard: int | None = None
    # Whether it counted in the customer's uses (a code with max_uses_per_customer).
    customer_counted: bool = False


class CodeState(BaseModel):
    """A code as redemption reads it: its uses (summed), its promotion, and the customer's uses if counted."""

    code: CodeRecord
    promotion: PromotionRecord | None
    customer_uses: int | None = None


class RedeemOutcome(BaseModel):
    """What a redemption's transaction did: made `record` (created), found the order's own (not created), or
    was refused (nothing written; NOT_FOUND when the code was deleted meanwhile)."""

    record: RedemptionRecord | None = None
    created: bool = False
    refused: Reason | None = None


class Redemption(BaseModel):
    id: str
    code: str
    code_id: int
    promotion_id: int
    customer: str
    order_id: str
    status: RedemptionStatus
    created: str

    @classmethod
    def of(cls, record: RedemptionRecord) -> "Redemption":
        return cls(
            id=record.redemption_id,
            code=record.code,
            code_id=record.code_id,
            promotion_id=record.promotion_id,
            customer=record.customer,
            order_id=record.order_id,
            status=record.status,
            created=iso_timestamp(record.created),
        )


class RedemptionMeta(BaseModel):
    """The code's uses counting this redemption (as read with it), and what is left (null when unlimited)."""

    current_uses: int
    uses_left: int | None


class RedemptionResponse(BaseModel):
    data: Redemption
    meta: RedemptionMeta


class RedemptionCollection(BaseModel):
    data: list[Redemption]
    meta: dict[str, Any]


class Validation(BaseModel):
    """What validate answers; the code's fields are null when it was not found (or is malformed)."""

    code: str
    code_id: int | None
    promotion_id: int | None
    valid: bool
    reason: Reason | None
    current_uses: int | None
    max_uses: int | None
    max_uses_per_customer: int | None
    # The customer's uses of the code: null without a customer, or when the code does not limit customers.
    customer_uses: int | None


class ValidationResponse(BaseModel):
    data: Validation
    meta: dict[str, Any] = Field(default_factory=dict)


class RedemptionRefusal(BaseModel):
    """409 of a refused redemption: nothing was written."""

    status: int
    title: str
    reason: Reason
