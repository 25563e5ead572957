"""Promotions and the store's counters.

Items, all in the store's partition `STORE#<store>`:
- `PROMOTION#<id, 12 digits>`: a promotion, with its `code_count` (one query lists a store's promotions by id);
- `COUNTER#<name>`: an integer id counter (`promotion`; `code`, whose ids are reserved a block per batch);
- `STATS`: the store's number of codes, which the capacity guard reads;
- `FORMATS`: the code formats with a check character or the unambiguous charset the store issued codes in, by
  which a typed code is read (MALFORMED before any code is read, look-alikes).
A promotion's gates (gates.py), copies of its status and dates, are written in the same transaction as it.
"""

import json
from typing import Any

from botocore.exceptions import ClientError

from couponmint.adapters.dynamo import Table, cancellation_reasons, plain
from couponmint.adapters.gates import gate_deletes, gate_puts
from couponmint.adapters.keys import (
    PROMOTION_SK_PREFIX,
    counter_key,
    promotion_key,
    store_formats_key,
    store_pk,
    store_stats_key,
)
from couponmint.models.records import PromotionRecord


class PromotionRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    # ------------------------------------------------------------------ promotions
    def put(self, promotion: PromotionRecord) -> bool:
        """Store a new promotion (never overwrites one) with its gates; False when its id exists already."""
        made = {
            "Put": {
                "TableName": self._table.name,
                "Item": _item(promotion),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        return self._first_holds([made, *gate_puts(self._table.name, promotion)])

    def update(self, promotion: PromotionRecord) -> None:
        """Replace a promotion's fields, keeping its code count (which only code writes change), and its gates."""
        item = _item(promotion)
        fields = {k: v for k, v in item.items() if k not in ("pk", "sk", "code_count")}
        changed = {
            "Update": {
                "TableName": self._table.name,
                "Key": promotion_key(promotion.store_hash, promotion.id),
                "UpdateExpression": "SET " + ", ".join(f"#{k} = :{k}" for k in fields),
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {f"#{k}": k for k in fields},
                "ExpressionAttributeValues": {f":{k}": v for k, v in fields.items()},
            }
        }
        self._table.transact([changed, *gate_puts(self._table.name, promotion)])

    def get(self, store_hash: str, promotion_id: int) -> PromotionRecord | None:
        item = self._table.get(promotion_key(store_hash, promotion_id), consistent=True)
        return _record(item) if item and "name" in item else None

    def of_store(self, store_hash: str) -> list[PromotionRecord]:
        """A store's promotions by id (one query; a store has few promotions, unlike codes)."""
        items = self._table.query_items(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": store_pk(store_hash), ":prefix": PROMOTION_SK_PREFIX},
        )
        return [_record(item) for item in items if "name" in item]

    def delete(self, store_hash: str, promotion_id: int) -> bool:
        """Delete a promotion that holds no codes, counted or being claimed by a batch; False when it still does.
        Absent is fine."""
        deleted = {
            "Delete": {
                "TableName": self._table.name,
                "Key": promotion_key(store_hash, promotion_id),
                "ConditionExpression": "(attribute_not_exists(code_count) OR code_count <= :zero)"
                " AND (attribute_not_exists(pending_codes) OR pending_codes <= :zero)",
                "ExpressionAttributeValues": {":zero": 0},
            }
        }
        return self._first_holds([deleted, *gate_deletes(self._table.name, store_hash, promotion_id)])

    def _first_holds(self, items: list[dict[str, Any]]) -> bool:
        """Run the transaction; False when it was cancelled by its first item's condition."""
        try:
            self._table.transact(items)
        except ClientError as error:
            if cancellation_reasons(error)[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

    def with_store_code_count(self, store_hash: str, promotion_id: int) -> tuple[PromotionRecord | None, int]:
        """A promotion and its store's number of codes, in one read (what every generation checks)."""
        wanted = promotion_key(store_hash, promotion_id)
        found = {
            item["sk"]: item
            for item in self._table.get_many([wanted, store_stats_key(store_hash)], ConsistentRead=True)
        }
        promotion = found.get(wanted["sk"])
        stats = found.get("STATS")
        record = _record(promotion) if promotion and "name" in promotion else None
        return record, (int(stats["code_count"]) if stats else 0)

    def store_code_count(self, store_hash: str) -> int:
        item = self._table.get(store_stats_key(store_hash))
        return int(item["code_count"]) if item else 0

    def count_codes_items(
        self, store_hash: str, promotion_id: int, delta: int, *, pending: int = 0
    ) -> list[dict[str, Any]]:
        """Transaction items that add `delta` to the store's and the promotion's code counts (and `pending` to
        the promotion's codes being claimed). The promotion's must exist: a count never brings a deleted
        promotion back."""
        promotion = self.pending_codes_item(store_hash, promotion_id, pending)
        update = promotion["Update"]
        update["UpdateExpression"] = "ADD code_count :n" + (", pending_codes :pending" if pending else "")
        update["ExpressionAttributeValues"] = {":n": delta, **({":pending": pending} if pending else {})}
        stats = {
            "Update": {
                "TableName": self._table.name,
                "Key": store_stats_key(store_hash),
                "UpdateExpression": "ADD code_count :n",
                "ExpressionAttributeValues": {":n": delta},
            }
        }
        return [stats, promotion]

    def pending_codes_item(self, store_hash: str, promotion_id: int, count: int) -> dict[str, Any]:
        """The transaction item that adds `count` codes being claimed to an existing promotion, which then
        cannot be deleted until a batch's completion counts them or its failure gives them back."""
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": promotion_key(store_hash, promotion_id),
                "UpdateExpression": "ADD pending_codes :pending",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":pending": count},
            }
        }

    # ------------------------------------------------------------------ formats
    def register_format(self, store_hash: str, name: str, code_format: dict[str, Any]) -> None:
        """Remember a code format the store issues codes in (idempotent: one map entry per format)."""
        key = store_formats_key(store_hash)
        added = self._table.update_if(
            key,
            UpdateExpression="SET formats.#name = :format",
            ConditionExpression="attribute_exists(formats)",
            ExpressionAttributeNames={"#name": name},
            ExpressionAttributeValues={":format": json.dumps(code_format, sort_keys=True)},
        )
        if not added:
            # The store's first: create the map (whoever wins), then add to it.
            self._table.put_new({**key, "formats": {}})
            self.register_format(store_hash, name, code_format)

    def formats(self, store_hash: str) -> list[dict[str, Any]]:
        """The code formats the store registered."""
        item = self._table.get(store_formats_key(store_hash)) or {}
        return [json.loads(text) for text in item.get("formats", {}).values()]

    # ------------------------------------------------------------------ counters
    def reserve_ids(self, store_hash: str, counter: str, count: int) -> int:
        """Reserve `count` consecutive ids of a per-store counter in one write; returns the first."""
        result = self._table.resource.update_item(
            Key=counter_key(store_hash, counter),
            UpdateExpression="ADD #v :n",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":n": count},
            ReturnValues="UPDATED_NEW",
        )
        return int(result["Attributes"]["value"]) - count + 1

    def raise_counter(self, store_hash: str, counter: str, at_least: int) -> None:
        """Make sure the counter has reached `at_least` (after an id was chosen by hand)."""
        self._table.update_if(
            counter_key(store_hash, counter),
            UpdateExpression="SET #v = :v",
            ConditionExpression="attribute_not_exists(#v) OR #v < :v",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":v": at_least},
        )


def _item(promotion: PromotionRecord) -> dict[str, Any]:
    fields = promotion.model_dump(mode="json", exclude={"attributes"})
    # Rules and the other free-form fields may hold floats, which DynamoDB items cannot: kept as JSON.
    return {
        **promotion_key(promotion.store_hash, promotion.id),
        **fields,
        "attributes": json.dumps(promotion.attributes),
    }


def promotion_of(item: dict[str, Any]) -> PromotionRecord | None:
    """A promotion's item read beside other items (redemption reads it with a code's counts), as its record."""
    return _record(item) if "name" in item else None


def _record(item: dict[str, Any]) -> PromotionRecord:
    fields = {k: v for k, v in item.items() if k not in ("pk", "sk")}
    fields["attributes"] = json.loads(fields.get("attributes") or "{}")
    return PromotionRecord.model_validate(plain(fields))
