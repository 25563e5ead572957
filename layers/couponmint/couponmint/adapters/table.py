"""The DynamoDB table: key layout and every read and write couponmint makes.

Items (pk / sk):
- ``TOKEN#<sha256>`` / ``TOKEN``: an API token, by hash only.
- ``STORE#<store>`` / ``PROMOTION#<id>``: a promotion; a store's promotions are one query.
- ``STORE#<store>`` / ``COUNTER#<name>``: integer id counters (code ids are reserved in blocks).
- ``STORE#<store>`` / ``STATS``: the store's number of codes (for the capacity guard).
- ``STORE#<store>#CODE#<CODE>`` / ``CODE``: one item per code, keyed by its upper-cased text, so
  "unique store-wide, case-insensitively" is a conditional put. ``gsi1`` (``STORE#<store>#PROMOTION#<id>``,
  integer id) lists a promotion's codes newest first.
- ``STORE#<store>#BATCH#<batch_id>`` / ``BATCH``: a codegen batch and its write-ahead list of codes.
"""

import random
import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord, PromotionRecord, TokenRecord

# DynamoDB transactions hold at most 100 items.
MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 8


def store_key(store_hash: str) -> str:
    return f"STORE#{store_hash}"


def code_key(store_hash: str, code: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_hash}#CODE#{code.upper()}", "sk": "CODE"}


def batch_key(store_hash: str, batch_id: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_hash}#BATCH#{batch_id}", "sk": "BATCH"}


def promotion_codes_key(store_hash: str, promotion_id: int) -> str:
    return f"STORE#{store_hash}#PROMOTION#{promotion_id}"


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the models want int."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        return [_plain(v) for v in value]
    return value


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _is_condition_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class StaleBatch(Exception):
    """The batch changed since it was read (another delivery of the same message moved it on)."""


class CouponTable:
    """All access to the couponmint table; takes a boto3 ``Table`` resource."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client
        self.name: str = table.name

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """TransactWriteItems, retried with jittered backoff while it only conflicts with another transaction.

        Concurrent batches finishing together update the same counter items; DynamoDB then cancels all but
        one with `TransactionConflict`, which botocore does not retry by itself.
        """
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items)
                return
            except ClientError as error:
                codes = {r.get("Code") for r in error.response.get("CancellationReasons", [])}
                only_conflicts = "TransactionConflict" in codes and codes <= {"TransactionConflict", "None"}
                if not only_conflicts or attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.005, 0.02) * 2**attempt)

    # ------------------------------------------------------------------ tokens
    def put_token(self, token: TokenRecord) -> None:
        self._table.put_item(
            Item={
                "pk": f"TOKEN#{token.token_hash}",
                "sk": "TOKEN",
                "store_hash": token.store_hash,
                "scopes": sorted(token.scopes),
                "label": token.label,
                "created": _iso(token.created),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_token(self, token_hash: str) -> TokenRecord | None:
        item = self._table.get_item(Key={"pk": f"TOKEN#{token_hash}", "sk": "TOKEN"}).get("Item")
        if item is None:
            return None
        return TokenRecord(token_hash=token_hash, **{k: v for k, v in item.items() if k not in ("pk", "sk")})

    def delete_token(self, token_hash: str) -> bool:
        old = self._table.delete_item(Key={"pk": f"TOKEN#{token_hash}", "sk": "TOKEN"}, ReturnValues="ALL_OLD").get(
            "Attributes"
        )
        return old is not None

    def list_tokens(self) -> list[TokenRecord]:
        """Every token (an operator's listing; tokens are few, so a filtered scan is fine)."""
        tokens: list[TokenRecord] = []
        kwargs: dict[str, Any] = {
            "FilterExpression": "sk = :sk",
            "ExpressionAttributeValues": {":sk": "TOKEN"},
        }
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                fields = {k: v for k, v in item.items() if k not in ("pk", "sk")}
                tokens.append(TokenRecord(token_hash=item["pk"].removeprefix("TOKEN#"), **fields))
            if "LastEvaluatedKey" not in page:
                return tokens
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ------------------------------------------------------------------ promotions
    def put_promotion(self, promotion: PromotionRecord, *, overwrite: bool = False) -> None:
        item = {
            "pk": store_key(promotion.store_hash),
            "sk": f"PROMOTION#{promotion.id:012d}",
            **promotion.model_dump(mode="json"),
        }
        if overwrite:
            self._table.put_item(Item=item)
        else:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")

    def get_promotion(self, store_hash: str, promotion_id: int) -> PromotionRecord | None:
        item = self._table.get_item(Key={"pk": store_key(store_hash), "sk": f"PROMOTION#{promotion_id:012d}"}).get(
            "Item"
        )
        return PromotionRecord.model_validate(_plain(item)) if item else None

    # ------------------------------------------------------------------ counters and stats
    def reserve_ids(self, store_hash: str, counter: str, count: int) -> int:
        """Reserve `count` consecutive ids of a per-store counter in one write; returns the first."""
        result = self._table.update_item(
            Key={"pk": store_key(store_hash), "sk": f"COUNTER#{counter}"},
            UpdateExpression="ADD #v :n",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":n": count},
            ReturnValues="UPDATED_NEW",
        )
        return int(result["Attributes"]["value"]) - count + 1

    def store_code_count(self, store_hash: str) -> int:
        item = self._table.get_item(Key={"pk": store_key(store_hash), "sk": "STATS"}).get("Item")
        return int(item["code_count"]) if item else 0

    # ------------------------------------------------------------------ codes
    def get_code(self, store_hash: str, code: str) -> CodeRecord | None:
        item = self._table.get_item(Key=code_key(store_hash, code), ConsistentRead=True).get("Item")
        return _code_record(item) if item else None

    def claim_codes(self, batch: BatchRecord, codes: Sequence[CodeRecord]) -> set[str]:
        """Write `codes` for `batch`, each only if its text is free in the store or already this batch's.

        Writes in transactions of at most 100 items. Returns the codes that another batch or request
        holds (nothing of their transaction chunk is written; the caller replaces them and claims again).
        Re-claiming codes this batch already holds is harmless, which makes redelivery safe.
        """
        taken: set[str] = set()
        for start in range(0, len(codes), MAX_TRANSACTION_ITEMS):
            chunk = codes[start : start + MAX_TRANSACTION_ITEMS]
            try:
                self._transact([self._claim_item(batch.batch_id, code) for code in chunk])
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])
                collided = {
                    code.code
                    for code, reason in zip(chunk, reasons, strict=False)
                    if reason.get("Code") == "ConditionalCheckFailed"
                }
                if not collided:
                    # Cancelled for another reason (a concurrent transaction on the same items):
                    # let the message be retried rather than guess.
                    raise
                taken |= collided
        return taken

    def _claim_item(self, batch_id: str, code: CodeRecord) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.name,
                "Item": {
                    **code_key(code.store_hash, code.code),
                    "gsi1pk": promotion_codes_key(code.store_hash, code.promotion_id),
                    "gsi1sk": code.id,
                    **code.model_dump(mode="json", exclude_none=True),
                },
                "ConditionExpression": "attribute_not_exists(pk) OR batch_id = :batch",
                "ExpressionAttributeValues": {":batch": batch_id},
            }
        }

    def codes_of_promotion(self, store_hash: str, promotion_id: int, limit: int) -> list[CodeRecord]:
        """The newest `limit` codes of a promotion (one query on gsi1)."""
        page = self._table.query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": promotion_codes_key(store_hash, promotion_id)},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_code_record(item) for item in page.get("Items", [])]

    # ------------------------------------------------------------------ batches
    def put_batch(self, batch: BatchRecord) -> None:
        self._table.put_item(
            Item={**batch_key(batch.store_hash, batch.batch_id), **batch.model_dump(mode="json")},
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_batch(self, store_hash: str, batch_id: str) -> BatchRecord | None:
        item = self._table.get_item(Key=batch_key(store_hash, batch_id), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return BatchRecord.model_validate(_plain({k: v for k, v in item.items() if k not in ("pk", "sk")}))

    def record_batch_codes(self, batch: BatchRecord, codes: list[str], first_code_id: int | None = None) -> BatchRecord:
        """Write the batch's candidate codes ahead of claiming them (and any replacements).

        Conditional on the version the caller read, so two deliveries of one message cannot both write
        a list: the loser re-reads and carries on with the winner's codes.
        """
        first_id = batch.first_code_id if first_code_id is None else first_code_id
        updated = batch.model_copy(
            update={
                "codes": codes,
                "first_code_id": first_id,
                "status": BatchStatus.CLAIMING,
                "version": batch.version + 1,
            }
        )
        self._update_batch(
            batch,
            "SET codes = :codes, first_code_id = :first, #s = :status, version = :next",
            {":codes": codes, ":first": first_id, ":status": BatchStatus.CLAIMING.value},
        )
        return updated

    def complete_batch(self, batch: BatchRecord, export_key: str, completed: datetime) -> BatchRecord:
        """Mark the batch DONE and count its codes (store and promotion), in one transaction."""
        done = batch.model_copy(
            update={"status": BatchStatus.DONE, "export_key": export_key, "version": batch.version + 1}
        )
        try:
            self._transact(
                [
                    {
                        "Update": {
                            "TableName": self.name,
                            "Key": batch_key(batch.store_hash, batch.batch_id),
                            "UpdateExpression": (
                                "SET #s = :done, export_key = :key, completed = :completed, version = :next"
                            ),
                            "ConditionExpression": "version = :version",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {
                                ":done": BatchStatus.DONE.value,
                                ":key": export_key,
                                ":completed": _iso(completed),
                                ":version": batch.version,
                                ":next": batch.version + 1,
                            },
                        }
                    },
                    *self._count_codes(batch.store_hash, batch.promotion_id, len(batch.codes)),
                ]
            )
        except ClientError as error:
            reasons: list[Any] = list(error.response.get("CancellationReasons", []))
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise StaleBatch(batch.batch_id) from error
            raise
        return done

    def _count_codes(self, store_hash: str, promotion_id: int, delta: int) -> list[dict[str, Any]]:
        """Transaction items that add `delta` to the store's and the promotion's code counts."""
        return [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": key,
                    "UpdateExpression": "ADD code_count :n",
                    "ExpressionAttributeValues": {":n": delta},
                }
            }
            for key in (
                {"pk": store_key(store_hash), "sk": "STATS"},
                {"pk": store_key(store_hash), "sk": f"PROMOTION#{promotion_id:012d}"},
            )
        ]

    def fail_batch(self, store_hash: str, batch_id: str, reason: str) -> None:
        """Mark a batch FAILED with its reason, unless it already finished."""
        try:
            self._table.update_item(
                Key=batch_key(store_hash, batch_id),
                UpdateExpression="SET #s = :failed, #e = :reason ADD version :one",
                ConditionExpression="attribute_exists(pk) AND #s <> :done",
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues={
                    ":failed": BatchStatus.FAILED.value,
                    ":done": BatchStatus.DONE.value,
                    ":reason": reason[:1000],
                    ":one": 1,
                },
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise

    def _update_batch(self, batch: BatchRecord, expression: str, values: dict[str, Any]) -> None:
        try:
            self._table.update_item(
                Key=batch_key(batch.store_hash, batch.batch_id),
                UpdateExpression=expression,
                ConditionExpression="version = :version",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={**values, ":version": batch.version, ":next": batch.version + 1},
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise StaleBatch(batch.batch_id) from error
            raise


def _code_record(item: dict[str, Any]) -> CodeRecord:
    fields = {k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")}
    return CodeRecord.model_validate(_plain(fields))
