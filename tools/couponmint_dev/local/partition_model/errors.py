"""DynamoDB's answers, as the model sends them for a write it refuses.

As DynamoDB answers for an on-demand table (HTTP 400, JSON 1.0, with the body's CRC32):
- a single write (PutItem, UpdateItem, DeleteItem) or a BatchWriteItem none of whose items fit:
  `{"__type": "com.amazon.coral.availability#ThrottlingException", "message": "Throughput exceeds the current
  capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again
  shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/
  latest/developerguide/bp-partition-key-design.html", "throttlingReasons": [{"reason":
  "TableWriteKeyRangeThroughputExceeded", "resource": <table ARN>}]}`; for an index, the index's message
  ("Throughput exceeds the current capacity for one or more global secondary indexes. DynamoDB is
  automatically scaling your index so please try again shortly."), reason
  `IndexWriteKeyRangeThroughputExceeded` and the index's ARN: the base-table write is throttled by its
  index (GSI back-pressure). boto3 raises it as `ThrottlingException` and retries it (standard mode).
- a BatchWriteItem some of whose items fit: those are written, the others come back in `UnprocessedItems`.
- a TransactWriteItems: `TransactionCanceledException` ("Transaction cancelled, please refer cancellation
  reasons for specific reasons [None, ThrottlingError]") whose `CancellationReasons` hold `ThrottlingError`,
  with the message above, for each action charged to a bucket that ran out, and `None` for the others.
  botocore does not retry it. An ExecuteTransaction (PartiQL) is cancelled the same way.
- a BatchExecuteStatement (PartiQL) some of whose statements fit: those are run, and each of the others answers
  `{"TableName": <table>, "Error": {"Code": "ThrottlingError", "Message": <the message above>}}` in its place
  in `Responses` (HTTP 200); none fit: the ThrottlingException above for the whole request. An
  ExecuteStatement is throttled like a single write.
(ProvisionedThroughputExceededException, `com.amazonaws.dynamodb.v20120810#...`, "The level of configured
provisioned throughput for the table was exceeded...", is the provisioned-mode error; the template's table
is on demand, so the model answers as on-demand.)

Sources:
- The DynamoDB API reference, as shipped in botocore's service model (`TransactionCanceledException`'s
  cancellation reason codes: `ThrottlingError` and its two on-demand messages; `ThrottlingException` with
  `message` and `throttlingReasons`; `ThrottlingReason`'s `<Table|Index><Read|Write><LimitType>` reasons).
- Observed on AWS: on-demand writes throttled as `ThrottlingException` with the message above
  (github.com/aws/aws-sdk-java/issues/2222, github.com/praetorian-inc/chariot-ui/issues/684, a hot key);
  the `__type` `com.amazon.coral.availability#ThrottlingException` (dynalite's test helpers, which run
  against DynamoDB itself, retry on it); a cancelled transaction's body (`__type`
  `com.amazonaws.dynamodb.v20120810#TransactionCanceledException`, `Message`, `CancellationReasons` with
  `{"Code": "None"}`; github.com/erlcloud/erlcloud/pull/607).
- AWS, "Understanding GSI write throttling and back pressure" (developerguide/gsi-throttling.html) and the
  Knowledge Center's "dynamodb-gsi-throttling-table": an index short of write capacity throttles the
  base-table write, and the exception names the index.
- AWS, BatchStatementError API reference (the per-statement codes: `ThrottlingError`,
  `ProvisionedThroughputExceeded` for provisioned mode, `RequestLimitExceeded`, ...), the BatchExecuteStatement
  API reference ("A HTTP 200 response does not mean that all statements in the BatchExecuteStatement
  succeeded"; its errors: ThrottlingException, RequestLimitExceeded, InternalServerError) and a throttled
  statement's answer as AWS sent it (github.com/boto/boto3/issues/3834: `{'Error': {'Code': 'ThrottlingError',
  'Message': 'Throughput exceeds the current capacity of your table or index. ...'}, 'TableName': ...}`).
- AWS, BatchWriteItem API reference: throttled items return in `UnprocessedItems`; an error only when none
  of the items could be processed.
"""

import json
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from couponmint_dev.local.partition_model.buckets import Admission

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
THROTTLING_TYPE = "com.amazon.coral.availability#ThrottlingException"
TRANSACTION_CANCELED_TYPE = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
TABLE_THROTTLED_MESSAGE = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your "
    "table or index so please try again shortly. If exceptions persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
INDEX_THROTTLED_MESSAGE = (
    "Throughput exceeds the current capacity for one or more global secondary indexes. DynamoDB is "
    "automatically scaling your index so please try again shortly."
)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_answer(status: int, document: Mapping[str, Any]) -> Answer:
    """An answer as DynamoDB sends it: JSON 1.0, a request id, and the body's CRC32 (botocore checks it)."""
    body = json.dumps(document, separators=(",", ":")).encode()
    headers = [
        ("Content-Type", JSON_CONTENT_TYPE),
        ("x-amzn-RequestId", uuid.uuid4().hex.upper()),
        ("x-amz-crc32", str(zlib.crc32(body))),
    ]
    return Answer(status, headers, body)


def _throttling_reasons(
    exhausted: Iterable[tuple[str, str | None, str | None]], arn_of: Callable[[str], str]
) -> list[dict[str, str]]:
    reasons: list[dict[str, str]] = []
    for table, index, _ in exhausted:
        reason = {
            "reason": f"{'Index' if index else 'Table'}WriteKeyRangeThroughputExceeded",
            "resource": f"{arn_of(table)}/index/{index}" if index else arn_of(table),
        }
        if reason not in reasons:
            reasons.append(reason)
    return reasons


def throttled_message(exhausted: Iterable[tuple[str, str | None, str | None]]) -> str:
    """The table's message, or the indexes' when an index ran out."""
    return INDEX_THROTTLED_MESSAGE if any(index for _, index, _ in exhausted) else TABLE_THROTTLED_MESSAGE


def statement_throttled(table: str, exhausted: Iterable[tuple[str, str | None, str | None]]) -> dict[str, Any]:
    """A throttled statement's place in BatchExecuteStatement's `Responses`."""
    return {"TableName": table, "Error": {"Code": "ThrottlingError", "Message": throttled_message(exhausted)}}


def throttling_exception(
    exhausted: Sequence[tuple[str, str | None, str | None]], arn_of: Callable[[str], str]
) -> Answer:
    """The ThrottlingException an on-demand table answers a throttled write with."""
    return json_answer(
        400,
        {
            "__type": THROTTLING_TYPE,
            "message": throttled_message(exhausted),
            "throttlingReasons": _throttling_reasons(exhausted, arn_of),
        },
    )


def transaction_canceled(count: int, admission: Admission) -> Answer:
    """TransactionCanceledException with `ThrottlingError` for the actions charged to an exhausted bucket."""
    message = throttled_message(admission.exhausted)
    reasons: list[dict[str, str]] = [
        {"Code": "ThrottlingError", "Message": message} if position in admission.throttled_items else {"Code": "None"}
        for position in range(count)
    ]
    codes = ", ".join(reason["Code"] for reason in reasons)
    return json_answer(
        400,
        {
            "__type": TRANSACTION_CANCELED_TYPE,
            "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            "CancellationReasons": reasons,
        },
    )
