"""An in-memory RedemptionStore (service/ports.py) with the repository's semantics, for the services' decisions."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from couponmint.errors import CodeBusy
from couponmint.logic.redemptions import Reason, listing_position
from couponmint.models.records import CodeRecord, PromotionRecord, RedemptionType
from couponmint.models.redemptions import CodeState, RedeemOutcome, RedemptionRecord, RedemptionStatus


def code(text: str = "SAVE10", **fields: Any) -> CodeRecord:
    values: dict[str, Any] = {
        "store_hash": "s",
        "promotion_id": 1,
        "id": 7,
        "code": text,
        "max_uses": 2,
        "max_uses_per_customer": 0,
        "created": datetime(2026, 1, 1, tzinfo=UTC),
        **fields,
    }
    return CodeRecord.model_validate(values)


def promotion(status: str = "ENABLED", **attributes: Any) -> PromotionRecord:
    return PromotionRecord(
        store_hash="s",
        id=1,
        name="P",
        redemption_type=RedemptionType.COUPON,
        status=status,
        created=datetime(2026, 1, 1, tzinfo=UTC),
        attributes=attributes,
    )


@dataclass
class FakeRedemptions:
    codes: dict[str, CodeRecord] = field(default_factory=dict)
    promotion: PromotionRecord | None = field(default_factory=promotion)
    records: dict[str, RedemptionRecord] = field(default_factory=dict)
    customer_uses: dict[str, int] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)
    spreads: int = 0
    busy: bool = False

    def read_code(self, store_hash: str, candidates: Sequence[str], customer: str | None) -> CodeState | None:
        self.reads += candidates
        found = next((self.codes[c] for c in candidates if c in self.codes), None)
        if found is None:
            return None
        counted = customer is not None and found.max_uses_per_customer > 0
        return CodeState(
            code=found,
            promotion=self.promotion,
            customer_uses=self.customer_uses.get(customer or "") if counted else None,
        )

    def get(self, store_hash: str, redemption_id: str) -> RedemptionRecord | None:
        return self.records.get(redemption_id)

    def page(
        self, store_hash: str, code_id: int, limit: int, *, below: int | None = None, above: int | None = None
    ) -> tuple[list[RedemptionRecord], bool]:
        mine = sorted(
            (r for r in self.records.values() if r.code_id == code_id),
            key=lambda r: listing_position(r.created, r.redemption_id),
            reverse=True,
        )
        return mine[:limit], len(mine) > limit

    def spread_uses(self, code: CodeRecord) -> int:
        self.spreads += 1
        self.codes[code.code] = code.model_copy(update={"use_shards": 16})
        return 16

    def remembered(self, store_hash: str, candidates: Sequence[str]) -> CodeRecord | None:
        """Remembers nothing: every redemption here is decided the read-first way (the repository's remembered
        path is exercised against DynamoDB Local, tests/integration/test_redemption_remembered.py)."""
        return None

    def redeem_remembered(self, code: CodeRecord, redemption: RedemptionRecord, now: datetime) -> RedeemOutcome | None:
        return None

    def redeem(self, code: CodeRecord, redemption: RedemptionRecord) -> RedeemOutcome:
        if self.busy:
            raise CodeBusy(code.code)
        if redemption.redemption_id in self.records:
            return RedeemOutcome(record=self.records[redemption.redemption_id])
        stored = self.codes[code.code]
        if stored.max_uses and stored.current_uses >= stored.max_uses:
            return RedeemOutcome(refused=Reason.EXHAUSTED)
        used = self.customer_uses.get(redemption.customer, 0)
        if stored.max_uses_per_customer and used >= stored.max_uses_per_customer:
            return RedeemOutcome(refused=Reason.CUSTOMER_LIMIT)
        self.codes[code.code] = stored.model_copy(update={"current_uses": stored.current_uses + 1})
        self.customer_uses[redemption.customer] = used + 1
        self.records[redemption.redemption_id] = redemption
        return RedeemOutcome(record=redemption, created=True)

    def roll_back(self, redemption: RedemptionRecord, at: datetime) -> bool:
        stored = self.records[redemption.redemption_id]
        if stored.status is not RedemptionStatus.REDEEMED:
            return False
        self.records[redemption.redemption_id] = stored.model_copy(update={"status": RedemptionStatus.ROLLED_BACK})
        counted = self.codes[stored.code]
        self.codes[stored.code] = counted.model_copy(update={"current_uses": counted.current_uses - 1})
        self.customer_uses[stored.customer] -= 1
        return True
