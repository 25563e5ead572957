"""What couponmint stores: the shape of each DynamoDB item, independent of its key layout."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt

from couponmint.models.codegen import CodeFormat


class Scope(StrEnum):
    MODIFY = "store_v2_marketing"
    READ_ONLY = "store_v2_marketing_read_only"


class RedemptionType(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    COUPON = "COUPON"


class CouponType(StrEnum):
    SINGLE = "SINGLE"
    BULK = "BULK"


class BatchStatus(StrEnum):
    PENDING = "PENDING"  # recorded by the API, message sent
    CLAIMING = "CLAIMING"  # candidates written ahead, claims in progress
    DONE = "DONE"  # every code claimed, export written
    FAILED = "FAILED"  # gave up; `error` says why
    CANCELLED = "CANCELLED"  # its job was cancelled before it started

    @property
    def finished(self) -> bool:
        """DONE, FAILED or CANCELLED: nothing will change it again."""
        return self in (BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.CANCELLED)


class TokenRecord(BaseModel):
    token_hash: str
    store_hash: str
    scopes: frozenset[Scope]
    label: str = ""
    created: datetime


class PromotionRecord(BaseModel):
    store_hash: str
    id: StrictInt
    name: str
    redemption_type: RedemptionType
    coupon_type: CouponType | None = None
    status: str = "ENABLED"
    created: datetime
    code_count: int = 0
    # Every other field of the promotion, as the client sent it (see models/promotions.py).
    attributes: dict[str, Any] = Field(default_factory=dict)

    @property
    def allows_bulk_codes(self) -> bool:
        return self.redemption_type is RedemptionType.COUPON and self.coupon_type is CouponType.BULK


class BatchRecord(BaseModel):
    """One codegen request's batch: the API creates it, the generator completes it.

    `codes` is the write-ahead record: the generator writes the candidates here before it claims any, so a
    redelivered message finishes the same codes instead of making a second set.
    """

    store_hash: str
    promotion_id: StrictInt
    batch_id: str
    status: BatchStatus
    batch_size: Annotated[int, Field(ge=1)]
    max_uses: int
    max_uses_per_customer: int
    code_format: CodeFormat
    created: datetime
    codes: list[str] = Field(default_factory=list)
    first_code_id: int | None = None
    export_key: str | None = None
    error: str | None = None
    version: int = 0
    job_id: str | None = None

    def code_records(self, codes: list[str] | None = None) -> list["CodeRecord"]:
        """The stored form of `codes` (default: all the batch's); a code's id follows from its position."""
        position = {code: index for index, code in enumerate(self.codes)}
        first_id = self.first_code_id or 0
        return [
            CodeRecord(
                store_hash=self.store_hash,
                promotion_id=self.promotion_id,
                id=first_id + position[code],
                code=code,
                max_uses=self.max_uses,
                max_uses_per_customer=self.max_uses_per_customer,
                created=self.created,
                batch_id=self.batch_id,
            )
            for code in (self.codes if codes is None else codes)
        ]

    def claiming(self, codes: list[str], first_code_id: int | None = None) -> "BatchRecord":
        """This batch one version on, CLAIMING `codes` (its write-ahead list), ids from `first_code_id`."""
        first = self.first_code_id if first_code_id is None else first_code_id
        return self.model_copy(
            update={"codes": codes, "first_code_id": first, "status": BatchStatus.CLAIMING, "version": self.version + 1}
        )


class CodeRecord(BaseModel):
    store_hash: str
    promotion_id: StrictInt
    id: StrictInt
    code: str
    max_uses: int
    max_uses_per_customer: int
    current_uses: int = 0
    created: datetime
    batch_id: str | None = None
    # An unlimited code counts its redemptions in this many use shards (service/redemptions.py), from its first on.
    use_shards: int | None = None
