"""Redemption arithmetic: redemption ids, a promotion's time window and status, uses left, listing positions."""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    """Why a code cannot be used (contract.md, "Redemption (EXT)")."""

    NOT_FOUND = "NOT_FOUND"
    EXHAUSTED = "EXHAUSTED"
    CUSTOMER_LIMIT = "CUSTOMER_LIMIT"
    PROMOTION_DISABLED = "PROMOTION_DISABLED"
    NOT_STARTED = "NOT_STARTED"
    EXPIRED = "EXPIRED"
    MALFORMED = "MALFORMED"


_ID = re.compile(r"([0-9]{1,18})-([0-9a-f]{32})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A listing position is the creation time in microseconds, then this many values told apart by the order.
_SPREAD = 10**6


def order_hash(order_id: str) -> str:
    return hashlib.sha256(order_id.encode("utf-8")).hexdigest()[:32]


def redemption_id(code_id: int, order_id: str) -> str:
    """The one id of a code's redemption for an order: the same order gives the same id, so the same item."""
    return f"{code_id}-{order_hash(order_id)}"


def code_id_of(raw: str) -> int | None:
    """The code id a redemption id names, or None when it is not one couponmint made."""
    match = _ID.fullmatch(raw)
    return int(match.group(1)) if match else None


def listing_position(created: datetime, redemption: str) -> int:
    """Where a redemption sorts among its code's (newest last): its creation in microseconds, then a part of its
    order's hash, so two redemptions made in the same microsecond still have distinct cursors."""
    micros = (created - _EPOCH) // timedelta(microseconds=1)
    return micros * _SPREAD + int(redemption[-5:], 16) % _SPREAD


def promotion_refusal(status: str, attributes: dict[str, Any], now: datetime) -> Reason | None:
    """Why the promotion refuses its codes now: not ENABLED, before its start_date, or at or after its end_date."""
    if status != "ENABLED":
        return Reason.PROMOTION_DISABLED
    start, end = _moment(attributes.get("start_date")), _moment(attributes.get("end_date"))
    if start is not None and now < start:
        return Reason.NOT_STARTED
    if end is not None and now >= end:
        return Reason.EXPIRED
    return None


def promotion_window(attributes: dict[str, Any]) -> tuple[int | None, int | None]:
    """The promotion's start_date and end_date in microseconds since the epoch (None when unset): the numbers a
    redemption's transaction compares with its own moment, exactly as `promotion_refusal` compares datetimes."""
    start, end = _moment(attributes.get("start_date")), _moment(attributes.get("end_date"))
    return (None if start is None else micros(start)), (None if end is None else micros(end))


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def limit_refusal(max_uses: int, current_uses: int, per_customer: int, customer_uses: int | None) -> Reason | None:
    """Why a code's limits refuse one more use (0 = unlimited)."""
    if max_uses and current_uses >= max_uses:
        return Reason.EXHAUSTED
    if per_customer and customer_uses is not None and customer_uses >= per_customer:
        return Reason.CUSTOMER_LIMIT
    return None


def uses_left(max_uses: int, current_uses: int) -> int | None:
    """None when unlimited."""
    return max(0, max_uses - current_uses) if max_uses else None


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
