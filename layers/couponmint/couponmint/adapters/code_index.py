"""A promotion's codes in id order, read from gsi1, which indexes batches rather than codes.

gsi1's partition `STORE#<store>#PROMOTION#<id>` holds one entry per DONE batch (sort key: its first code id; the
entry carries the batch's codes and the ids deleted since) and one per code made by hand (sort key: its id).
Code ids come from one per-store counter, a block per batch, so entries never overlap: walking them in sort-key
order walks the promotion's codes in id order. Why batches and not codes: a million-code job then writes 4,000
index entries instead of a million, all under one partition key (docs/scaling.md).
"""

from collections.abc import Iterator
from typing import Any

from couponmint.adapters.dynamo import Table
from couponmint.adapters.keys import promotion_codes_pk

# Entries read by the first query of a walk; each further query reads twice as many (most pages need one entry).
FIRST_READ = 2
LARGEST_READ = 64

IdAndText = tuple[int, str]


def entry_codes(entry: dict[str, Any]) -> list[IdAndText]:
    """The live codes an index entry stands for, in ascending id order."""
    if entry["sk"] != "BATCH":
        return [(int(entry["id"]), str(entry["code"]))]
    first = int(entry["first_code_id"])
    deleted = {int(code_id) for code_id in entry.get("deleted_ids", ())}
    return [(first + i, code) for i, code in enumerate(entry["codes"]) if first + i not in deleted]


class CodeIndex:
    def __init__(self, table: Table) -> None:
        self._table = table

    def descending(self, store_hash: str, promotion_id: int, below_id: int | None = None) -> Iterator[IdAndText]:
        """The promotion's codes from the newest down, below `below_id` when given."""
        condition = "gsi1pk = :p" + (" AND gsi1sk < :id" if below_id is not None else "")
        values: dict[str, Any] = {":p": promotion_codes_pk(store_hash, promotion_id)}
        if below_id is not None:
            values[":id"] = below_id
        for entry in self._entries(condition, values, forward=False):
            for code_id, code in reversed(entry_codes(entry)):
                if below_id is None or code_id < below_id:
                    yield code_id, code

    def ascending(self, store_hash: str, promotion_id: int, above_id: int) -> Iterator[IdAndText]:
        """The promotion's codes from just above `above_id` up (the entry holding `above_id` first)."""
        partition = promotion_codes_pk(store_hash, promotion_id)
        holding = self.entry_at(store_hash, promotion_id, above_id)
        if holding is not None:
            yield from ((i, code) for i, code in entry_codes(holding) if i > above_id)
        later = self._entries("gsi1pk = :p AND gsi1sk > :id", {":p": partition, ":id": above_id}, forward=True)
        for entry in later:
            yield from entry_codes(entry)

    def entry_at(self, store_hash: str, promotion_id: int, code_id: int) -> dict[str, Any] | None:
        """The entry whose ids start at or below `code_id` nearest to it (the one that may hold it)."""
        items = self._table.resource.query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p AND gsi1sk <= :id",
            ExpressionAttributeValues={":p": promotion_codes_pk(store_hash, promotion_id), ":id": code_id},
            ScanIndexForward=False,
            Limit=1,
        ).get("Items", [])
        return dict(items[0]) if items else None

    def text_of(self, store_hash: str, promotion_id: int, code_id: int) -> str | None:
        """The text of the promotion's live code `code_id`, if the index holds it."""
        entry = self.entry_at(store_hash, promotion_id, code_id)
        return dict(entry_codes(entry)).get(code_id) if entry else None

    def _entries(self, condition: str, values: dict[str, Any], *, forward: bool) -> Iterator[dict[str, Any]]:
        """Index entries in sort-key order, read a few at a time (a batch entry holds 250 codes, ~5 KB)."""
        query: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        read = FIRST_READ
        while True:
            page = self._table.resource.query(**query, Limit=read)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            read = min(read * 2, LARGEST_READ)
