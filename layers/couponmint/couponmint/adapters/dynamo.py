"""What every repository shares: the table handle, DynamoDB's wire format, transactions and paged reads.

Repositories take a `Table` (one per thread, built by `adapters.factory`), so tests give them the local table.
"""

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

# DynamoDB transactions hold at most 100 items; BatchGetItem reads at most 100 keys.
MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_GET = 100
TRANSACTION_ATTEMPTS = 8
# Why a transaction may be cancelled that another try can fix (nothing else of it was refused).
PASSING_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError"})

_SERIALIZER = TypeSerializer()


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the models want int."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        return [plain(v) for v in value]
    return value


def wire(entry: dict[str, Any]) -> dict[str, Any]:
    """A transaction entry (Put, Update, ...) written for the resource, in DynamoDB's wire form."""
    (action, fields), *_ = entry.items()
    converted = dict(fields)
    for name in ("Key", "Item", "ExpressionAttributeValues"):
        if name in fields:
            converted[name] = {key: _SERIALIZER.serialize(value) for key, value in fields[name].items()}
    return {action: converted}


def wire_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's wire form, through boto3's serializer."""
    return {name: _SERIALIZER.serialize(value) for name, value in item.items()}


def attribute_value(value: Any) -> dict[str, Any]:
    """DynamoDB's wire form of a JSON-mode model value (what boto3's TypeSerializer would make of it, faster)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    raise TypeError(f"no DynamoDB form for {type(value).__name__}")


def is_condition_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def cancellation_reasons(error: ClientError) -> list[str]:
    """Why each item of a cancelled transaction failed ("None" for those that did not), in order."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return []
    return [str(reason.get("Code")) for reason in error.response.get("CancellationReasons", [])]


@dataclass
class Table:
    """The couponmint table: its boto3 `Table` resource and, for the claim transactions, a plain client.

    The claim writer serializes its items itself and skips client-side validation (see `aws.dynamodb_writer`);
    without one given, a client for the resource's endpoint and region is made when first needed.
    """

    resource: Any
    given_writer: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return str(self.resource.name)

    @property
    def client(self) -> Any:
        return self.resource.meta.client

    @cached_property
    def writer(self) -> Any:
        if self.given_writer is not None:
            return self.given_writer
        meta = self.client.meta
        return boto3.client(
            "dynamodb",
            region_name=meta.region_name,
            endpoint_url=meta.endpoint_url,
            config=meta.config.merge(Config(parameter_validation=False)),
        )

    def transact(
        self, items: Sequence[dict[str, Any]], *, serialized: bool = False, attempts: int = TRANSACTION_ATTEMPTS
    ) -> None:
        """TransactWriteItems, retried with jittered backoff while it is only cancelled for passing reasons.

        Concurrent batches finishing together update the same counter items; DynamoDB then cancels all but one
        with `TransactionConflict`. A hot partition cancels with `ThrottlingError`. botocore retries neither
        (the request itself succeeded); both are worth another try. `serialized` items are in wire form already
        and go through the writer client. `attempts: 1` leaves a passing cancellation to the caller.
        """
        client = self.writer if serialized else self.client
        for attempt in range(attempts):
            try:
                client.transact_write_items(TransactItems=list(items))
                return
            except ClientError as error:
                reasons = set(cancellation_reasons(error))
                passing = bool(reasons & PASSING_CANCELLATIONS) and reasons <= {*PASSING_CANCELLATIONS, "None"}
                if not passing or attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0.005, 0.02) * 2**attempt)

    def query_items(self, **query: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query returns, page after page."""
        while True:
            page = self.resource.query(**query)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_many(self, keys: Sequence[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
        """The items that exist among `keys` (BatchGetItem, 100 at a time, unprocessed keys asked again).

        `options` go into each request (ProjectionExpression, ExpressionAttributeNames, ConsistentRead).
        """
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), MAX_BATCH_GET):
            request: dict[str, Any] = {self.name: {"Keys": list(keys[start : start + MAX_BATCH_GET]), **options}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                found += answer["Responses"].get(self.name, [])
                request = answer.get("UnprocessedKeys") or {}
        return found

    def get(self, key: dict[str, str], *, consistent: bool = False) -> dict[str, Any] | None:
        item = self.resource.get_item(Key=key, ConsistentRead=consistent).get("Item")
        return dict(item) if item is not None else None

    def put_new(self, item: dict[str, Any]) -> bool:
        """Put an item that must not exist yet; False when it does."""
        try:
            self.resource.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def delete_if(self, key: dict[str, str], **condition: Any) -> bool:
        """A DeleteItem with a condition; False when the condition does not hold (nothing deleted)."""
        try:
            self.resource.delete_item(Key=key, **condition)
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def update_if(self, key: dict[str, str], **update: Any) -> bool:
        """An UpdateItem with a condition; False when the condition does not hold."""
        try:
            self.resource.update_item(Key=key, **update)
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True
