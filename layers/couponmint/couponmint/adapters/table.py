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

import json
import random
import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from couponmint.models.jobs import FINISHED_JOB, JobRecord, JobStatus
from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord, PromotionRecord, TokenRecord

_SERIALIZER = TypeSerializer()
# DynamoDB transactions hold at most 100 items.
MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 8
# How long a concurrency lease lives: past the API's 29 s limit, so only a dead holder's lease expires.
LEASE_SECONDS = 35


def store_key(store_hash: str) -> str:
    return f"STORE#{store_hash}"


def code_key(store_hash: str, code: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_hash}#CODE#{code.upper()}", "sk": "CODE"}


def batch_key(store_hash: str, batch_id: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_hash}#BATCH#{batch_id}", "sk": "BATCH"}


def job_key(store_hash: str, job_id: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_hash}#JOB#{job_id}", "sk": "JOB"}


def promotion_jobs_key(store_hash: str, promotion_id: int) -> str:
    return f"STORE#{store_hash}#PROMOTION#{promotion_id}#JOBS"


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


class CodeExists(Exception):
    """The code's text is already taken in the store (compared case-insensitively)."""


class PromotionFull(Exception):
    """The promotion already holds its one code."""


class CodesTaken(Exception):
    """Another batch holds some of the codes a transaction claimed (so it wrote nothing)."""

    def __init__(self, codes: set[str]) -> None:
        super().__init__(f"{len(codes)} code(s) taken")
        self.codes = codes


class StaleBatch(Exception):
    """The batch changed since it was read (another delivery of the same message moved it on)."""


def _wire(entry: dict[str, Any]) -> dict[str, Any]:
    """A transaction entry (Put, Update, ...) written for the resource, in DynamoDB's wire form."""
    (action, fields), *_ = entry.items()
    converted = dict(fields)
    for name in ("Key", "Item", "ExpressionAttributeValues"):
        if name in fields:
            converted[name] = {key: _SERIALIZER.serialize(value) for key, value in fields[name].items()}
    return {action: converted}


def _attribute_value(value: Any) -> dict[str, Any]:
    """DynamoDB's wire form of a JSON-mode model value (what boto3's TypeSerializer would make of it)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    raise TypeError(f"no DynamoDB form for {type(value).__name__}")


class CouponTable:
    """All access to the couponmint table.

    Takes a boto3 ``Table`` resource, and optionally the plain client that writes the claim transactions
    (items serialized here, no client-side validation: see ``aws.dynamodb_writer``); without one, a plain
    client for the resource's endpoint and region is made when first needed.
    """

    def __init__(self, table: Any, writer: Any = None) -> None:
        self._table = table
        self._client = table.meta.client
        self.name: str = table.name
        if writer is not None:
            self.__dict__["_writer"] = writer

    @cached_property
    def _writer(self) -> Any:
        meta = self._client.meta
        return boto3.client(
            "dynamodb",
            region_name=meta.region_name,
            endpoint_url=meta.endpoint_url,
            config=meta.config.merge(Config(parameter_validation=False)),
        )

    def _transact(self, items: list[dict[str, Any]], *, serialized: bool = False) -> None:
        """TransactWriteItems, retried with jittered backoff while it only conflicts with another transaction.

        Concurrent batches finishing together update the same counter items; DynamoDB then cancels all but
        one with `TransactionConflict`, which botocore does not retry by itself.
        """
        client = self._writer if serialized else self._client
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                client.transact_write_items(TransactItems=items)
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
    def put_promotion(self, promotion: PromotionRecord) -> None:
        """Store a new promotion (never overwrites one)."""
        self._table.put_item(Item=self._promotion_item(promotion), ConditionExpression="attribute_not_exists(pk)")

    def update_promotion(self, promotion: PromotionRecord) -> None:
        """Replace a promotion's fields, keeping its code count (which only code writes change)."""
        item = self._promotion_item(promotion)
        fields = {k: v for k, v in item.items() if k not in ("pk", "sk", "code_count")}
        self._table.update_item(
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={f"#{k}": k for k in fields},
            ExpressionAttributeValues={f":{k}": v for k, v in fields.items()},
        )

    def get_promotion(self, store_hash: str, promotion_id: int) -> PromotionRecord | None:
        item = self._table.get_item(
            Key={"pk": store_key(store_hash), "sk": _promotion_sk(promotion_id)}, ConsistentRead=True
        ).get("Item")
        return _promotion_record(item) if item and "name" in item else None

    def list_promotions(self, store_hash: str) -> list[PromotionRecord]:
        """A store's promotions by id (one query; a store has few promotions, unlike codes)."""
        records: list[PromotionRecord] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": store_key(store_hash), ":prefix": "PROMOTION#"},
        }
        while True:
            page = self._table.query(**kwargs)
            records += [_promotion_record(item) for item in page.get("Items", []) if "name" in item]
            if "LastEvaluatedKey" not in page:
                return records
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete_promotion(self, store_hash: str, promotion_id: int) -> bool:
        """Delete a promotion that holds no codes; False when it still holds some. Absent is fine."""
        try:
            self._table.delete_item(
                Key={"pk": store_key(store_hash), "sk": _promotion_sk(promotion_id)},
                ConditionExpression="attribute_not_exists(code_count) OR code_count <= :zero",
                ExpressionAttributeValues={":zero": 0},
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    @staticmethod
    def _promotion_item(promotion: PromotionRecord) -> dict[str, Any]:
        fields = promotion.model_dump(mode="json", exclude={"attributes"})
        # Rules and the other free-form fields may hold floats, which DynamoDB items cannot: keep them as JSON.
        return {
            "pk": store_key(promotion.store_hash),
            "sk": _promotion_sk(promotion.id),
            **fields,
            "attributes": json.dumps(promotion.attributes),
        }

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

    def raise_counter(self, store_hash: str, counter: str, at_least: int) -> None:
        """Make sure the counter has reached `at_least` (after an id was chosen by hand)."""
        try:
            self._table.update_item(
                Key={"pk": store_key(store_hash), "sk": f"COUNTER#{counter}"},
                UpdateExpression="SET #v = :v",
                ConditionExpression="attribute_not_exists(#v) OR #v < :v",
                ExpressionAttributeNames={"#v": "value"},
                ExpressionAttributeValues={":v": at_least},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise

    # ------------------------------------------------------------------ limits
    def count_request(self, store_hash: str, window_start_ms: int, expires_at: int) -> int:
        """Count one request in the store's window; returns the window's count so far."""
        result = self._table.update_item(
            Key={"pk": store_key(store_hash), "sk": f"WINDOW#{window_start_ms}"},
            UpdateExpression="ADD requests :one SET expires_at = :expires",
            ExpressionAttributeValues={":one": 1, ":expires": expires_at},
            ReturnValues="UPDATED_NEW",
        )
        return int(result["Attributes"]["requests"])

    def requests_in_window(self, store_hash: str, window_start_ms: int) -> int:
        item = self._table.get_item(Key={"pk": store_key(store_hash), "sk": f"WINDOW#{window_start_ms}"}).get("Item")
        return int(item["requests"]) if item else 0

    def store_limits(self, store_hash: str) -> dict[str, int]:
        """The store's own quota settings, if an operator set any (`couponmint stores limits`)."""
        item = self._table.get_item(Key={"pk": store_key(store_hash), "sk": "LIMITS"}).get("Item") or {}
        return {k: int(v) for k, v in item.items() if k in ("request_quota", "window_ms")}

    def set_store_limits(self, store_hash: str, request_quota: int, window_ms: int) -> None:
        self._table.put_item(
            Item={"pk": store_key(store_hash), "sk": "LIMITS", "request_quota": request_quota, "window_ms": window_ms}
        )

    def take_lease(self, store_hash: str, kind: str, holder: str, now_ms: int, slots: int) -> bool:
        """Take one of `slots` concurrency leases of the store for LEASE_SECONDS; False when all are held.

        The leases are one map per store and kind, so taking and giving back are one write each; a lease
        whose holder died without giving it back is dropped once it has expired.
        """
        key = {"pk": store_key(store_hash), "sk": f"LEASES#{kind}"}
        expires_ms = now_ms + LEASE_SECONDS * 1000
        for _ in range(2):
            try:
                self._table.update_item(
                    Key=key,
                    UpdateExpression="SET leases.#holder = :expires",
                    ConditionExpression="size(leases) < :slots",
                    ExpressionAttributeNames={"#holder": holder},
                    ExpressionAttributeValues={":expires": expires_ms, ":slots": slots},
                )
                return True
            except ClientError as error:
                code = error.response["Error"]["Code"]
                refused = code == "ConditionalCheckFailedException"
                if code == "ValidationException" or (refused and not self._exists(key)):
                    # The lease map does not exist yet: create it (once, whoever wins) and try again.
                    self._create_lease_map(key)
                    continue
                if not refused:
                    raise
                if not self._drop_expired_leases(key, now_ms):
                    return False
        return False

    def give_back_lease(self, store_hash: str, kind: str, holder: str) -> None:
        self._table.update_item(
            Key={"pk": store_key(store_hash), "sk": f"LEASES#{kind}"},
            UpdateExpression="REMOVE leases.#holder",
            ExpressionAttributeNames={"#holder": holder},
        )

    def _exists(self, key: dict[str, str]) -> bool:
        return "Item" in self._table.get_item(Key=key, ConsistentRead=True)

    def _create_lease_map(self, key: dict[str, str]) -> None:
        try:
            self._table.put_item(Item={**key, "leases": {}}, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if not _is_condition_failure(error):
                raise

    def _drop_expired_leases(self, key: dict[str, str], now_ms: int) -> bool:
        """Remove leases whose holder died (expired); True when any was removed."""
        leases = self._table.get_item(Key=key, ConsistentRead=True).get("Item", {}).get("leases", {})
        dropped = False
        for holder, expires in leases.items():
            if int(expires) >= now_ms:
                continue
            try:
                self._table.update_item(
                    Key=key,
                    UpdateExpression="REMOVE leases.#holder",
                    ConditionExpression="leases.#holder = :expires",
                    ExpressionAttributeNames={"#holder": holder},
                    ExpressionAttributeValues={":expires": expires},
                )
                dropped = True
            except ClientError as error:
                if not _is_condition_failure(error):
                    raise
                dropped = True  # someone else removed or renewed it: worth another try
        return dropped

    def promotion_and_store_code_count(self, store_hash: str, promotion_id: int) -> tuple[PromotionRecord | None, int]:
        """A promotion and its store's number of codes, in one BatchGetItem (what every generation checks)."""
        promotion_key = {"pk": store_key(store_hash), "sk": _promotion_sk(promotion_id)}
        stats_key = {"pk": store_key(store_hash), "sk": "STATS"}
        request: dict[str, Any] = {self.name: {"Keys": [promotion_key, stats_key], "ConsistentRead": True}}
        found: dict[str, dict[str, Any]] = {}
        while request:
            answer = self._client.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(self.name, []):
                found[item["sk"]] = item
            request = answer.get("UnprocessedKeys") or {}
        promotion = found.get(promotion_key["sk"])
        if promotion is not None and "name" not in promotion:
            promotion = None  # a bare code count outlives its promotion
        stats = found.get("STATS")
        return (_promotion_record(promotion) if promotion else None), (int(stats["code_count"]) if stats else 0)

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
            taken |= self._claim(batch, [], codes[start : start + MAX_TRANSACTION_ITEMS])
        return taken

    def _claim(self, batch: BatchRecord, own: list[dict[str, Any]], codes: Sequence[CodeRecord]) -> set[str]:
        """One transaction: the batch's `own` items (wire form; the first is conditional on the batch's state)
        and a claim of each of `codes`. Returns the codes another batch or request holds: then nothing was
        written, and the caller replaces them. Raises StaleBatch when the batch moved on.
        """
        try:
            self._transact([*own, *(self._claim_item(batch.batch_id, code) for code in codes)], serialized=True)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])
            if own and reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise StaleBatch(batch.batch_id) from error
            collided = {
                code.code
                for code, reason in zip(codes, reasons[len(own) :], strict=False)
                if reason.get("Code") == "ConditionalCheckFailed"
            }
            if not collided:
                # Cancelled for another reason (a concurrent transaction on the same items):
                # let the message be retried rather than guess.
                raise
            return collided
        return set()

    def start_claiming(self, batch: BatchRecord, started: BatchRecord, first: Sequence[CodeRecord]) -> set[str]:
        """Record `started` (the batch with its candidates written ahead) and claim `first` of its codes, in
        one transaction: the write-ahead record exists exactly when some of its codes are claimed.

        The record is written over `batch` as read (`version`), or created when the batch is new (a codegen
        request's batch, which only its message describes). Raises StaleBatch when the record moved on
        (another delivery started it); returns the codes of `first` another batch holds (then nothing was
        written: the caller replaces them and starts again).
        """
        if len(first) >= MAX_TRANSACTION_ITEMS:
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS - 1} codes ride with the batch record")
        record = {
            "Put": {
                "TableName": self.name,
                "Item": {
                    name: _SERIALIZER.serialize(value)
                    for name, value in {
                        **batch_key(started.store_hash, started.batch_id),
                        **started.model_dump(mode="json"),
                    }.items()
                },
                "ConditionExpression": "attribute_not_exists(pk) OR version = :version",
                "ExpressionAttributeValues": {":version": {"N": str(batch.version)}},
            }
        }
        return self._claim(batch, [record], first)

    def _claim_item(self, batch_id: str, code: CodeRecord) -> dict[str, Any]:
        """A claim's Put, in DynamoDB's wire form (for the plain writer client)."""
        item = {
            **code_key(code.store_hash, code.code),
            "gsi1pk": promotion_codes_key(code.store_hash, code.promotion_id),
            "gsi1sk": code.id,
            **code.model_dump(mode="json", exclude_none=True),
        }
        return {
            "Put": {
                "TableName": self.name,
                "Item": {name: _attribute_value(value) for name, value in item.items()},
                "ConditionExpression": "attribute_not_exists(pk) OR batch_id = :batch",
                "ExpressionAttributeValues": {":batch": {"S": batch_id}},
            }
        }

    def codes_of_promotion(self, store_hash: str, promotion_id: int, limit: int) -> list[CodeRecord]:
        """The newest `limit` codes of a promotion (one query on gsi1)."""
        return self.codes_page(store_hash, promotion_id, limit)[0]

    def codes_page(
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
        values: dict[str, Any] = {":p": promotion_codes_key(store_hash, promotion_id)}
        if below_id is not None:
            condition += " AND gsi1sk < :id"
            values[":id"] = below_id
        if above_id is not None:
            condition += " AND gsi1sk > :id"
            values[":id"] = above_id
        kwargs: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": above_id is not None,
        }
        if skip:
            start = self._skip(kwargs, skip)
            if start is None:
                return [], False
            kwargs["ExclusiveStartKey"] = start
        items: list[dict[str, Any]] = []
        while len(items) <= limit:
            page = self._table.query(**kwargs, Limit=limit + 1 - len(items))
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records = [_code_record(item) for item in items[:limit]]
        if above_id is not None:
            records.reverse()
        return records, len(items) > limit

    def _skip(self, query: dict[str, Any], count: int) -> dict[str, Any] | None:
        """The key to resume a query after its first `count` items (counted, not returned)."""
        kwargs = dict(query)
        remaining = count
        while remaining > 0:
            page = self._table.query(**kwargs, Select="COUNT", Limit=remaining)
            remaining -= int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return None
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return dict(kwargs["ExclusiveStartKey"])

    def code_by_id(self, store_hash: str, promotion_id: int, code_id: int) -> CodeRecord | None:
        page = self._table.query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p AND gsi1sk = :id",
            ExpressionAttributeValues={":p": promotion_codes_key(store_hash, promotion_id), ":id": code_id},
        )
        items = page.get("Items", [])
        return _code_record(items[0]) if items else None

    def add_code(self, code: CodeRecord, *, only_code: bool) -> None:
        """Store one code made by hand, counted in its promotion and store, in one transaction.

        Raises CodeExists when the text is taken store-wide (case-insensitively) and PromotionFull when
        `only_code` is set and the promotion already holds a code (a SINGLE coupon promotion).
        """
        count_items = self._count_codes(code.store_hash, code.promotion_id, 1)
        if only_code:
            count_items[1]["Update"]["ConditionExpression"] = "attribute_not_exists(code_count) OR code_count <= :zero"
            count_items[1]["Update"]["ExpressionAttributeValues"][":zero"] = 0
        put = {
            "Put": {
                "TableName": self.name,
                "Item": {
                    **code_key(code.store_hash, code.code),
                    "gsi1pk": promotion_codes_key(code.store_hash, code.promotion_id),
                    "gsi1sk": code.id,
                    **code.model_dump(mode="json", exclude_none=True),
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            self._transact([put, *count_items])
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise CodeExists(code.code) from error
            if "ConditionalCheckFailed" in reasons:
                raise PromotionFull(code.promotion_id) from error
            raise

    def delete_codes(self, codes: Sequence[CodeRecord]) -> int:
        """Delete codes and uncount them; codes already gone are skipped. Returns how many were deleted."""
        deleted = 0
        # Two items of each transaction are the counter updates.
        for start in range(0, len(codes), MAX_TRANSACTION_ITEMS - 2):
            chunk = codes[start : start + MAX_TRANSACTION_ITEMS - 2]
            by_promotion = {code.promotion_id for code in chunk}
            for promotion_id in by_promotion:
                mine = [code for code in chunk if code.promotion_id == promotion_id]
                deleted += self._delete_chunk(mine[0].store_hash, promotion_id, mine)
        return deleted

    def _delete_chunk(self, store_hash: str, promotion_id: int, codes: list[CodeRecord]) -> int:
        deletes = [
            {
                "Delete": {
                    "TableName": self.name,
                    "Key": code_key(code.store_hash, code.code),
                    # Only this code: the text may since have been freed and taken by another.
                    "ConditionExpression": "attribute_exists(pk) AND id = :id",
                    "ExpressionAttributeValues": {":id": code.id},
                }
            }
            for code in codes
        ]
        try:
            self._transact([*deletes, *self._count_codes(store_hash, promotion_id, -len(codes))])
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            gone = {i for i, r in enumerate(reasons[: len(codes)]) if r.get("Code") == "ConditionalCheckFailed"}
            if not gone:
                raise
            # Some were deleted meanwhile: delete the rest.
            rest = [code for i, code in enumerate(codes) if i not in gone]
            return self._delete_chunk(store_hash, promotion_id, rest) if rest else 0
        return len(codes)

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

    def record_batch_codes(self, batch: BatchRecord, codes: list[str]) -> BatchRecord:
        """Write replacements onto a started batch's candidate codes, ahead of claiming them.

        Conditional on the version the caller read, so two deliveries of one message cannot both write
        a list: the loser re-reads and carries on with the winner's codes.
        """
        updated = batch.claiming(codes)
        self._update_batch(
            batch,
            "SET codes = :codes, #s = :status, version = :next",
            {":codes": codes, ":status": BatchStatus.CLAIMING.value},
        )
        return updated

    def complete_batch(
        self, batch: BatchRecord, export_key: str, completed: datetime, claims: Sequence[CodeRecord] = ()
    ) -> BatchRecord:
        """Claim the batch's last `claims`, mark it DONE and count its codes (store, promotion, job), in one
        transaction of at most 100 items (`completion_room` says how many claims fit).

        Raises CodesTaken when another batch holds some of `claims` (then nothing was written) and StaleBatch
        when the record moved on (another delivery finished it).
        """
        done = batch.model_copy(
            update={"status": BatchStatus.DONE, "export_key": export_key, "version": batch.version + 1}
        )
        finish = [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": batch_key(batch.store_hash, batch.batch_id),
                    "UpdateExpression": "SET #s = :done, export_key = :key, completed = :completed, version = :next",
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
            *self._count_job_batch(batch, generated=len(batch.codes), failed=0),
        ]
        if len(claims) > MAX_TRANSACTION_ITEMS - len(finish):
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS - len(finish)} claims fit beside the completion")
        taken = self._claim(batch, [_wire(item) for item in finish], claims)
        if taken:
            raise CodesTaken(taken)
        return done

    @staticmethod
    def completion_room(batch: BatchRecord) -> int:
        """How many claims ride in `complete_batch`'s transaction, beside the batch and the store's and the
        promotion's code counts.

        None for a job's batch: every batch of a job also adds to the job's item, and the batches of a job run
        ten at a time, so their completions conflict (TransactionConflict) now and then; a small completion
        transaction of its own keeps such a conflict from cancelling and repeating ~100 claims. A codegen
        request's batch, which a client is waiting for, saves the round trip instead.
        """
        return 0 if batch.job_id is not None else MAX_TRANSACTION_ITEMS - 3

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
                {"pk": store_key(store_hash), "sk": _promotion_sk(promotion_id)},
            )
        ]

    def fail_batch(self, store_hash: str, batch_id: str, reason: str) -> None:
        """Mark a batch FAILED with its reason, unless it already finished (and count it in its job)."""
        self._finish_unfinished_batch(store_hash, batch_id, BatchStatus.FAILED, reason[:1000])

    def cancel_batch(self, batch: BatchRecord) -> None:
        """Mark a batch of a cancelled job CANCELLED before it made any code (and count it in its job)."""
        self._finish_unfinished_batch(batch.store_hash, batch.batch_id, BatchStatus.CANCELLED, "job cancelled")

    def _finish_unfinished_batch(self, store_hash: str, batch_id: str, status: BatchStatus, reason: str) -> None:
        batch = self.get_batch(store_hash, batch_id)
        if batch is None or batch.status in (BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.CANCELLED):
            return
        failed = batch.batch_size if status is BatchStatus.FAILED else 0
        try:
            self._transact(
                [
                    {
                        "Update": {
                            "TableName": self.name,
                            "Key": batch_key(store_hash, batch_id),
                            "UpdateExpression": "SET #s = :status, #e = :reason, version = :next",
                            "ConditionExpression": "version = :version",
                            "ExpressionAttributeNames": {"#s": "status", "#e": "error"},
                            "ExpressionAttributeValues": {
                                ":status": status.value,
                                ":reason": reason,
                                ":version": batch.version,
                                ":next": batch.version + 1,
                            },
                        }
                    },
                    *self._count_job_batch(batch, generated=0, failed=failed),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            # The batch moved on meanwhile (another delivery finished it): nothing to record.

    def _count_job_batch(self, batch: BatchRecord, *, generated: int, failed: int) -> list[dict[str, Any]]:
        """The transaction item that counts a finished batch in its job (none for a codegen request's batch)."""
        if batch.job_id is None:
            return []
        return [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": job_key(batch.store_hash, batch.job_id),
                    "UpdateExpression": "ADD generated :generated, failed :failed, batches_done :one",
                    "ExpressionAttributeValues": {":generated": generated, ":failed": failed, ":one": 1},
                }
            }
        ]

    # ------------------------------------------------------------------ jobs
    def put_job(self, job: JobRecord) -> bool:
        """Store a new job; False when a job with its id exists already (a repeated scheduled tick)."""
        try:
            self._table.put_item(
                Item={
                    **job_key(job.store_hash, job.job_id),
                    "gsi1pk": promotion_jobs_key(job.store_hash, job.promotion_id),
                    "gsi1sk": int(job.created.timestamp() * 1000),
                    # Listed in the sparse gsi2 until it finishes, for the sweeper.
                    "gsi2pk": OPEN_JOBS,
                    "gsi2sk": int(job.created.timestamp() * 1000),
                    **job.model_dump(mode="json", exclude_none=True),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def get_job(self, store_hash: str, job_id: str) -> JobRecord | None:
        item = self._table.get_item(Key=job_key(store_hash, job_id), ConsistentRead=True).get("Item")
        return _job_record(item) if item else None

    def jobs_of_promotion(self, store_hash: str, promotion_id: int) -> list[JobRecord]:
        """A promotion's jobs, newest first (one query on gsi1 per page of results)."""
        jobs: list[JobRecord] = []
        kwargs: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": promotion_jobs_key(store_hash, promotion_id)},
            "ScanIndexForward": False,
        }
        while True:
            page = self._table.query(**kwargs)
            jobs += [
                JobRecord.model_validate(_plain({k: v for k, v in i.items() if k not in _KEYS})) for i in page["Items"]
            ]
            if "LastEvaluatedKey" not in page:
                return jobs
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def move_job(
        self, store_hash: str, job_id: str, to: JobStatus, allowed_from: set[JobStatus], **fields: Any
    ) -> bool:
        """Move a job to status `to` if it is in one of `allowed_from` (setting `fields` too)."""
        names = {"#s": "status", **{f"#{k}": k for k in fields}}
        values = {":to": to.value, **{f":{k}": v for k, v in fields.items()}}
        values.update({f":from{i}": status.value for i, status in enumerate(sorted(allowed_from))})
        allowed = ", ".join(f":from{i}" for i in range(len(allowed_from)))
        try:
            finished = " REMOVE gsi2pk, gsi2sk" if to in FINISHED_JOB else ""
            self._table.update_item(
                Key=job_key(store_hash, job_id),
                UpdateExpression="SET #s = :to" + "".join(f", #{k} = :{k}" for k in fields) + finished,
                ConditionExpression=f"#s IN ({allowed})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def open_jobs(self) -> list[JobRecord]:
        """Every job not yet finished, oldest first (a query on the sparse gsi2)."""
        jobs: list[JobRecord] = []
        kwargs: dict[str, Any] = {
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :open",
            "ExpressionAttributeValues": {":open": OPEN_JOBS},
        }
        while True:
            page = self._table.query(**kwargs)
            jobs += [_job_record(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return jobs
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record_planned(self, store_hash: str, job_id: str, planned: int) -> None:
        self._table.update_item(
            Key=job_key(store_hash, job_id),
            UpdateExpression="SET batches_planned = :planned",
            ExpressionAttributeValues={":planned": planned},
        )

    def batch_statuses(self, store_hash: str, batch_ids: Sequence[str]) -> dict[str, BatchStatus]:
        """The status of each existing batch, 100 at a time (BatchGetItem)."""
        found: dict[str, BatchStatus] = {}
        client = self._table.meta.client
        for start in range(0, len(batch_ids), 100):
            keys = [batch_key(store_hash, batch_id) for batch_id in batch_ids[start : start + 100]]
            request: dict[str, Any] = {
                self.name: {
                    "Keys": keys,
                    "ProjectionExpression": "batch_id, #s",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.name, []):
                    found[item["batch_id"]] = BatchStatus(item["status"])
                request = answer.get("UnprocessedKeys") or {}
        return found

    def put_batch_once(self, batch: BatchRecord) -> None:
        """Store a job's batch unless planning already stored it."""
        try:
            self.put_batch(batch)
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


_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")
OPEN_JOBS = "OPEN_JOBS"


def _job_record(item: dict[str, Any]) -> JobRecord:
    return JobRecord.model_validate(_plain({k: v for k, v in item.items() if k not in _KEYS}))


def _promotion_sk(promotion_id: int) -> str:
    return f"PROMOTION#{promotion_id:012d}"


def _promotion_record(item: dict[str, Any]) -> PromotionRecord:
    fields = {k: v for k, v in item.items() if k not in ("pk", "sk")}
    fields["attributes"] = json.loads(fields.get("attributes") or "{}")
    return PromotionRecord.model_validate(_plain(fields))


def _code_record(item: dict[str, Any]) -> CodeRecord:
    fields = {k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")}
    return CodeRecord.model_validate(_plain(fields))
