"""What a request's item writes cost: their tables' schemas and the items before them, read from DynamoDB Local.

The model reads the item before each write (a consistent GetItem / BatchGetItem of its own, not charged) to
know its size and its index keys, and computes UpdateItem's result from its update expression. A PartiQL
INSERT is charged as a put over no item, without a read.
"""

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from couponmint_dev.local.partition_model.charges import TableSchema, WriteCharges, write_charges
from couponmint_dev.local.partition_model.item_size import Item
from couponmint_dev.local.partition_model.update_expression import UpdateNotEvaluated, apply_update
from couponmint_dev.local.partition_model.upstream import Upstream
from couponmint_dev.local.partition_model.writes import ItemWrite
from couponmint_dev.local.services import ACCOUNT_ID, REGION

logger = logging.getLogger(__name__)

_PUTS = frozenset({"PutItem", "InsertItem"})
_ITEM_WRITES = _PUTS | {"UpdateItem", "DeleteItem"}


def key_text(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


class Charger:
    """Charges of item writes; table schemas are described once and kept until a table changes."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream
        self._schemas: dict[str, TableSchema] = {}
        self._schemas_lock = threading.Lock()

    # ------------------------------------------------------------------ schemas
    def schema(self, table: str) -> TableSchema:
        with self._schemas_lock:
            known = self._schemas.get(table)
        if known is not None:
            return known
        described = TableSchema.from_description(self._upstream.call("DescribeTable", {"TableName": table})["Table"])
        with self._schemas_lock:
            self._schemas[table] = described
        return described

    def arn(self, table: str) -> str:
        with self._schemas_lock:
            known = self._schemas.get(table)
        if known is not None and known.arn.startswith("arn:aws:"):
            return known.arn
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}"

    def forget_schemas(self) -> None:
        with self._schemas_lock:
            self._schemas.clear()

    # ------------------------------------------------------------------ charges
    def charges(self, writes: Sequence[ItemWrite], *, transactional: bool) -> list[WriteCharges]:
        """The charges of each write (a ConditionCheck costs no write units), reading the items before."""
        keyed: list[tuple[str, Mapping[str, Any], TableSchema, Item] | None] = []
        for kind, fields in writes:
            if kind not in _ITEM_WRITES:
                keyed.append(None)
                continue
            schema = self.schema(fields["TableName"])
            key = schema.key_of(fields["Item"]) if kind in _PUTS else dict(fields["Key"])
            keyed.append((kind, fields, schema, key))
        # An INSERT writes only where no item is (or fails, charged as if it had written): nothing to read.
        read = [(entry[2].name, entry[3]) for entry in keyed if entry is not None and entry[0] != "InsertItem"]
        before = self._items_before(read)
        group: list[WriteCharges] = []
        for entry in keyed:
            if entry is None:
                group.append(WriteCharges())
                continue
            kind, fields, schema, key = entry
            old = None if kind == "InsertItem" else before.get((schema.name, key_text(key)))
            if kind in _PUTS:
                new: Item | None = dict(fields["Item"])
            elif kind == "DeleteItem":
                new = None
            else:
                new = _after_update(old, key, fields)
            if old is None and new is None:
                new = key  # deleting an item that is not there still costs a unit, on its key
            group.append(write_charges(schema, old, new, transactional=transactional))
        return group

    def _items_before(self, keys: Sequence[tuple[str, Item]]) -> dict[tuple[str, str], Item]:
        """The current items at `keys` (consistent reads, the model's own), by (table, key text)."""
        found: dict[tuple[str, str], Item] = {}
        if not keys:
            return found
        if len(keys) == 1:
            table, key = keys[0]
            item = self._upstream.call("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}).get("Item")
            if item is not None:
                found[(table, key_text(key))] = item
            return found
        unique = list({(table, key_text(key)): (table, key) for table, key in keys}.values())
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {}
            for table, key in unique[start : start + 100]:
                request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
            while request:
                answer = self._upstream.call("BatchGetItem", {"RequestItems": request})
                for table, items in answer.get("Responses", {}).items():
                    schema = self.schema(table)
                    for item in items:
                        found[(table, key_text(schema.key_of(item)))] = item
                request = answer.get("UnprocessedKeys") or {}
        return found


def _after_update(before: Item | None, key: Item, fields: Mapping[str, Any]) -> Item:
    """The item an UpdateItem leaves; an expression the model cannot evaluate leaves it as it was."""
    try:
        return apply_update(
            before,
            key,
            fields.get("UpdateExpression"),
            fields.get("ExpressionAttributeNames"),
            fields.get("ExpressionAttributeValues"),
        )
    except (UpdateNotEvaluated, KeyError, TypeError, ValueError, ArithmeticError) as error:
        logger.debug("partition model charges an update as the item before it: %r", error)
        return dict(before) if before else dict(key)
