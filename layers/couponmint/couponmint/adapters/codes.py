"""Coupon codes.

Items: `STORE#<store>#CODE#<CODE upper-cased>` / `CODE`, one per code, so "unique store-wide, case-insensitively"
is a conditional put. gsi1 (`STORE#<store>#PROMOTION#<id>`, the code's integer id) lists a promotion's codes
newest first, and finds a code by id.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from couponmint.adapters.dynamo import (
    MAX_TRANSACTION_ITEMS,
    Table,
    attribute_value,
    cancellation_reasons,
    plain,
    wire,
)
from couponmint.adapters.keys import code_key, promotion_codes_pk, without_keys
from couponmint.adapters.promotions import PromotionRepository
from couponmint.errors import CodeTaken, PromotionFull, PromotionGone
from couponmint.models.records import CodeRecord


class CodeRepository:
    def __init__(self, table: Table, promotions: PromotionRepository) -> None:
        self._table = table
        self._promotions = promotions

    def get(self, store_hash: str, code: str) -> CodeRecord | None:
        item = self._table.get(code_key(store_hash, code), consistent=True)
        return _record(item) if item else None

    def by_id(self, store_hash: str, promotion_id: int, code_id: int) -> CodeRecord | None:
        items = self._table.resource.query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p AND gsi1sk = :id",
            ExpressionAttributeValues={":p": promotion_codes_pk(store_hash, promotion_id), ":id": code_id},
        ).get("Items", [])
        return _record(items[0]) if items else None

    def newest(self, store_hash: str, promotion_id: int, limit: int) -> list[CodeRecord]:
        """The newest `limit` codes of a promotion (one query on gsi1)."""
        return self.page(store_hash, promotion_id, limit)[0]

    def page(
        self,
        store_hash: str,
        promotion_id: int,
        limit: int,
        *,
        below_id: int | None = None,
        above_id: int | None = None,
        skip: int = 0,
    ) -> tuple[list[CodeRecord], bool]:
        """Up to `limit` codes of a promotion, newest first, and whether more lie beyond them.

        `below_id` continues towards older codes (the `after` cursor), `above_id` towards newer ones (the
        `before` cursor); `skip` passes over that many codes first (the deprecated `page`). One query per
        page, reading `limit + 1` items to learn whether the collection goes on.
        """
        condition = "gsi1pk = :p"
        values: dict[str, Any] = {":p": promotion_codes_pk(store_hash, promotion_id)}
        if below_id is not None:
            condition += " AND gsi1sk < :id"
            values[":id"] = below_id
        if above_id is not None:
            condition += " AND gsi1sk > :id"
            values[":id"] = above_id
        query: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": above_id is not None,
        }
        if skip:
            start = self._resume_after(query, skip)
            if start is None:
                return [], False
            query["ExclusiveStartKey"] = start
        items: list[dict[str, Any]] = []
        for item in self._table.query_items(**query, Limit=limit + 1):
            items.append(item)
            if len(items) > limit:
                break
        records = [_record(item) for item in items[:limit]]
        if above_id is not None:
            records.reverse()
        return records, len(items) > limit

    def _resume_after(self, query: dict[str, Any], count: int) -> dict[str, Any] | None:
        """The key to resume a query after its first `count` items (counted, not returned)."""
        query = dict(query)
        remaining = count
        while remaining > 0:
            page = self._table.resource.query(**query, Select="COUNT", Limit=remaining)
            remaining -= int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return None
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return dict(query["ExclusiveStartKey"])

    # ------------------------------------------------------------------ writes
    def claim_item(self, batch_id: str, code: CodeRecord) -> dict[str, Any]:
        """A batch's claim of one code, in wire form: written if the text is free in the store or already this
        batch's (so a redelivered batch claims its own codes again harmlessly)."""
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": {name: attribute_value(value) for name, value in _item(code).items()},
                "ConditionExpression": "attribute_not_exists(pk) OR batch_id = :batch",
                "ExpressionAttributeValues": {":batch": {"S": batch_id}},
            }
        }

    def add(self, code: CodeRecord, *, only_code: bool) -> None:
        """Store one code made by hand, counted in its promotion and store, in one transaction.

        Raises CodeTaken when the text is taken store-wide (case-insensitively) and PromotionFull when
        `only_code` is set and the promotion already holds a code (a SINGLE coupon promotion).
        """
        counts = self._promotions.count_codes_items(code.store_hash, code.promotion_id, 1)
        if only_code:
            promotion = counts[1]["Update"]
            promotion["ConditionExpression"] += " AND (attribute_not_exists(code_count) OR code_count <= :zero)"
            promotion["ExpressionAttributeValues"][":zero"] = 0
        put = {
            "Put": {
                "TableName": self._table.name,
                "Item": {name: attribute_value(value) for name, value in _item(code).items()},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            self._table.transact([put, *(wire(entry) for entry in counts)], serialized=True)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise CodeTaken(code.code) from error
            if "ConditionalCheckFailed" in reasons:
                raise (PromotionFull if only_code else PromotionGone)(code.promotion_id) from error
            raise

    def release(self, store_hash: str, batch_id: str, codes: Sequence[str]) -> None:
        """Delete those of `codes` that batch `batch_id` holds (a failed batch gives back what it claimed);
        codes it never claimed, or another holds, are left alone. Idempotent."""

        def release_one(code: str) -> None:
            self._table.delete_if(
                code_key(store_hash, code),
                ConditionExpression="batch_id = :batch",
                ExpressionAttributeValues={":batch": batch_id},
            )

        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="release") as workers:
            list(workers.map(release_one, codes))

    def delete(self, codes: Sequence[CodeRecord]) -> int:
        """Delete codes and uncount them; codes already gone are skipped. Returns how many were deleted."""
        deleted = 0
        # Two items of each transaction are the count updates.
        for start in range(0, len(codes), MAX_TRANSACTION_ITEMS - 2):
            chunk = codes[start : start + MAX_TRANSACTION_ITEMS - 2]
            for promotion_id in dict.fromkeys(code.promotion_id for code in chunk):
                mine = [code for code in chunk if code.promotion_id == promotion_id]
                deleted += self._delete_chunk(mine[0].store_hash, promotion_id, mine)
        return deleted

    def _delete_chunk(self, store_hash: str, promotion_id: int, codes: list[CodeRecord]) -> int:
        deletes = [
            {
                "Delete": {
                    "TableName": self._table.name,
                    "Key": code_key(code.store_hash, code.code),
                    # Only this code: the text may since have been freed and taken by another.
                    "ConditionExpression": "attribute_exists(pk) AND id = :id",
                    "ExpressionAttributeValues": {":id": code.id},
                }
            }
            for code in codes
        ]
        counts = self._promotions.count_codes_items(store_hash, promotion_id, -len(codes))
        try:
            self._table.transact([*deletes, *counts])
        except ClientError as error:
            reasons = cancellation_reasons(error)
            gone = {i for i, reason in enumerate(reasons[: len(codes)]) if reason == "ConditionalCheckFailed"}
            if not gone:
                raise
            # Some were deleted meanwhile: delete the rest.
            rest = [code for i, code in enumerate(codes) if i not in gone]
            return self._delete_chunk(store_hash, promotion_id, rest) if rest else 0
        return len(codes)


def _item(code: CodeRecord) -> dict[str, Any]:
    """The one stored form of a code."""
    return {
        **code_key(code.store_hash, code.code),
        "gsi1pk": promotion_codes_pk(code.store_hash, code.promotion_id),
        "gsi1sk": code.id,
        **code.model_dump(mode="json", exclude_none=True),
    }


def _record(item: dict[str, Any]) -> CodeRecord:
    return CodeRecord.model_validate(plain(without_keys(item)))
