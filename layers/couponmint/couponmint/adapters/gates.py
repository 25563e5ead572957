"""Promotion gates: copies of a promotion's status and dates, which a redemption's transaction checks.

A redemption of a code this process has seen is sent without reading first (redemptions.py `redeem_remembered`):
its transaction must then refuse by itself what the read would have refused, the promotion's status and dates
among them. A ConditionCheck on the promotion's own item would do it, but would put every redemption of the
promotion (and every codegen batch counting its codes) in transactions on one item, which DynamoDB cancels as
conflicting: so the promotion's status and window are copied to GATES items, written in the same transaction as
the promotion (promotions.py), and each redemption checks the one its code id picks, as use shards spread a
code's uses. A promotion without gates (made before them) fails the check: its codes take the read-first path.
"""

from datetime import datetime
from typing import Any

from couponmint.adapters.keys import promotion_gate_key
from couponmint.logic.redemptions import micros, promotion_window
from couponmint.models.records import PromotionRecord

GATES = 16


def gate_puts(table_name: str, promotion: PromotionRecord) -> list[dict[str, Any]]:
    """The transaction items that set every gate of the promotion to its status and dates."""
    start, end = promotion_window(promotion.attributes)
    gate: dict[str, Any] = {"status": promotion.status}
    if start is not None:
        gate["starts"] = start
    if end is not None:
        gate["ends"] = end
    return [
        {
            "Put": {
                "TableName": table_name,
                "Item": {**promotion_gate_key(promotion.store_hash, promotion.id, n), **gate},
            }
        }
        for n in range(GATES)
    ]


def gate_deletes(table_name: str, store_hash: str, promotion_id: int) -> list[dict[str, Any]]:
    return [
        {"Delete": {"TableName": table_name, "Key": promotion_gate_key(store_hash, promotion_id, n)}}
        for n in range(GATES)
    ]


def gate_check(table_name: str, store_hash: str, promotion_id: int, code_id: int, now: datetime) -> dict[str, Any]:
    """The ConditionCheck that passes only when the promotion refuses nothing at `now` (logic/redemptions.py
    `promotion_refusal`: ENABLED, start_date <= now < end_date)."""
    return {
        "ConditionCheck": {
            "TableName": table_name,
            "Key": promotion_gate_key(store_hash, promotion_id, code_id % GATES),
            "ConditionExpression": "#status = :enabled AND (attribute_not_exists(starts) OR starts <= :now)"
            " AND (attribute_not_exists(ends) OR ends > :now)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":enabled": "ENABLED", ":now": micros(now)},
        }
    }
