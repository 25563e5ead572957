"""The items of redemption transactions (redemptions.py): the redemption, the code's count, the customer's."""

from typing import Any

from couponmint.adapters.keys import code_key, code_redemptions_pk, customer_uses_key, redemption_key, use_shard_key
from couponmint.logic.redemptions import listing_position
from couponmint.models.records import CodeRecord
from couponmint.models.redemptions import RedemptionRecord


class RedemptionItems:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def redemption_put(self, record: RedemptionRecord) -> dict[str, Any]:
        """The redemption, new: the same code and order make the same key, so a retry finds the first."""
        store = record.store_hash
        item = {
            **redemption_key(store, record.redemption_id),
            "gsi1pk": code_redemptions_pk(store, record.code_id),
            "gsi1sk": listing_position(record.created, record.redemption_id),
            **record.model_dump(mode="json", exclude_none=True),
        }
        return self.put(item, "attribute_not_exists(pk)")

    def customer_count(self, code: CodeRecord, record: RedemptionRecord) -> list[dict[str, Any]]:
        """The customer's count held to the code's max_uses_per_customer (none when it has none)."""
        if not code.max_uses_per_customer:
            return []
        key = customer_uses_key(code.store_hash, code.id, record.customer)
        condition = "attribute_not_exists(uses) OR uses < :max"
        return [self.add(key, 1, condition, {":max": code.max_uses_per_customer})]

    def count(self, store: str, redemption: RedemptionRecord, delta: int, max_uses: int = 0) -> dict[str, Any]:
        """The redemption's code's count moved by `delta`: the redemption's use shard, or the code's own item
        (the same code, not one made again with its text; held to `max_uses` when one is given)."""
        if redemption.use_shard is not None:
            return self.add(use_shard_key(store, redemption.code_id, redemption.use_shard), delta)
        condition = "attribute_exists(pk) AND id = :id"
        values: dict[str, Any] = {":id": redemption.code_id}
        if max_uses:
            condition += " AND (attribute_not_exists(current_uses) OR current_uses < :max)"
            values[":max"] = max_uses
        return self.add(code_key(store, redemption.code), delta, condition, values, attribute="current_uses")

    def remembered_count(self, code: CodeRecord) -> dict[str, Any]:
        """The code's count, held to what this process remembers of the code: the same item (id, promotion,
        limits, not spread over use shards) with its count exactly `code.current_uses` (below its max_uses)."""
        exact = code.current_uses
        counted = "current_uses = :exact" if exact else "(attribute_not_exists(current_uses) OR current_uses = :exact)"
        held = "id = :id AND promotion_id = :promotion AND max_uses = :max AND max_uses_per_customer = :per"
        held += f" AND attribute_not_exists(use_shards) AND {counted}"
        values = {
            ":id": code.id,
            ":promotion": code.promotion_id,
            ":max": code.max_uses,
            ":per": code.max_uses_per_customer,
            ":exact": exact,
        }
        return self.add(code_key(code.store_hash, code.code), 1, held, values, attribute="current_uses")

    def add(
        self,
        key: dict[str, str],
        delta: int,
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        *,
        attribute: str = "uses",
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table_name,
            "Key": key,
            "UpdateExpression": f"ADD {attribute} :delta",
            "ExpressionAttributeValues": {":delta": delta, **(values or {})},
        }
        if condition:
            update |= {"ConditionExpression": condition, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        return {"Update": update}

    def put(self, item: dict[str, Any], condition: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table_name,
                "Item": item,
                "ConditionExpression": condition,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
