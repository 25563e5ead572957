"""Coupon codes.

Items: `STORE#<store>#CODE#<CODE upper-cased>` / `CODE`, one per code, so "unique store-wide, case-insensitively"
is a conditional put. A code made by hand is also an entry of gsi1 (`STORE#<store>#PROMOTION#<id>`, its id);
generated codes are listed through their batch's entry there (see code_index.py).
"""

import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from couponmint.adapters.claims import JobClaims
from couponmint.adapters.code_index import CodeIndex
from couponmint.adapters.dynamo import (
    MAX_TRANSACTION_ITEMS,
    Table,
    attribute_value,
    cancellation_reasons,
    wire,
)
from couponmint.adapters.keys import batch_key, code_key, promotion_codes_pk
from couponmint.adapters.promotions import PromotionRepository
from couponmint.adapters.uses import UseCounts
from couponmint.errors import CodeTaken, PromotionFull, PromotionGone
from couponmint.models.records import CodeRecord


class CodeRepository:
    def __init__(self, table: Table, promotions: PromotionRepository) -> None:
        self._table = table
        self._promotions = promotions
        self._index = CodeIndex(table)
        self._claims = JobClaims(table)
        # current_uses as redemption counts them (uses.py): on the code's item, or summed from its shards.
        self._uses = UseCounts(table)

    def get(self, store_hash: str, code: str) -> CodeRecord | None:
        item = self._table.get(code_key(store_hash, code), consistent=True)
        return self._uses.counted(store_hash, [item])[0] if item else None

    def by_id(self, store_hash: str, promotion_id: int, code_id: int) -> CodeRecord | None:
        code = self._index.text_of(store_hash, promotion_id, code_id)
        record = self.get(store_hash, code) if code is not None else None
        return record if record is not None and record.id == code_id else None

    def newest(self, store_hash: str, promotion_id: int, limit: int) -> list[CodeRecord]:
        """The newest `limit` codes of a promotion."""
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
        `before` cursor); `skip` passes over that many codes first (the deprecated `page`: counted in the index,
        not read). The index names the codes; their items are then read (BatchGetItem), and one the index still
        shows but that is gone (deleted a moment ago) is passed over.
        """
        if above_id is not None:
            walk = self._index.ascending(store_hash, promotion_id, above_id)
        else:
            walk = itertools.islice(self._index.descending(store_hash, promotion_id, below_id), skip, None)
        records: list[CodeRecord] = []
        while len(records) <= limit:
            wanted = list(itertools.islice(walk, limit + 1 - len(records)))
            if not wanted:
                break
            records += self._read(store_hash, wanted)
        if above_id is not None:
            records = records[: limit + 1]
            more = len(records) > limit
            return list(reversed(records[:limit])), more
        return records[:limit], len(records) > limit

    def _read(self, store_hash: str, wanted: list[tuple[int, str]]) -> list[CodeRecord]:
        """The code items of `wanted` (id, text), in that order, leaving out those gone or replaced."""
        items = self._table.get_many([code_key(store_hash, code) for _, code in wanted], ConsistentRead=True)
        found = {record.id: record for record in self._uses.counted(store_hash, items)}
        return [found[code_id] for code_id, _ in wanted if code_id in found]

    # ------------------------------------------------------------------ writes
    def claim_item(self, batch_id: str, code: CodeRecord) -> dict[str, Any]:
        """A batch's claim of one code, in wire form: written if the text is free in the store or already this
        batch's (so a redelivered batch claims its own codes again harmlessly). Not indexed on its own: its
        batch is, once DONE."""
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": {name: attribute_value(value) for name, value in _item(code, indexed=False).items()},
                "ConditionExpression": "attribute_not_exists(pk) OR batch_id = :batch",
                "ExpressionAttributeValues": {":batch": {"S": batch_id}},
            }
        }

    def claim_each(self, batch_id: str, codes: Sequence[CodeRecord]) -> set[str]:
        """A job's claims: each code inserted on its own (claims.py); returns those another holds."""
        return self._claims.claim(batch_id, [_item(code, indexed=False) for code in codes])

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
                "Item": {name: attribute_value(value) for name, value in _item(code, indexed=True).items()},
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
        """Delete codes and uncount them; codes already gone are skipped. Returns how many were deleted.

        A generated code is also struck from its batch's index entry, in the same transaction.
        """
        deleted = 0
        # Each code may bring its batch's update; two items of each transaction are the count updates.
        per_transaction = (MAX_TRANSACTION_ITEMS - 2) // 2
        for start in range(0, len(codes), per_transaction):
            chunk = codes[start : start + per_transaction]
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
        struck: dict[str, set[int]] = {}
        for code in codes:
            if code.batch_id is not None:
                struck.setdefault(code.batch_id, set()).add(code.id)
        strikes = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": batch_key(store_hash, batch_id),
                    "UpdateExpression": "ADD deleted_ids :ids",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":ids": ids},
                }
            }
            for batch_id, ids in struck.items()
        ]
        try:
            self._table.transact([*deletes, *counts, *strikes])
        except ClientError as error:
            reasons = cancellation_reasons(error)
            gone = {i for i, reason in enumerate(reasons[: len(codes)]) if reason == "ConditionalCheckFailed"}
            if not gone:
                raise
            # Some were deleted meanwhile: delete the rest.
            rest = [code for i, code in enumerate(codes) if i not in gone]
            return self._delete_chunk(store_hash, promotion_id, rest) if rest else 0
        return len(codes)


def _item(code: CodeRecord, *, indexed: bool) -> dict[str, Any]:
    """The one stored form of a code; a code made by hand is its own entry of the promotion's code index."""
    index = {"gsi1pk": promotion_codes_pk(code.store_hash, code.promotion_id), "gsi1sk": code.id} if indexed else {}
    return {**code_key(code.store_hash, code.code), **index, **code.model_dump(mode="json", exclude_none=True)}
