"""A partition model in front of DynamoDB Local: each write is charged its write units per partition key, and
throttled with DynamoDB's own error past the key's (or the table's) limit.

DynamoDB Local accepts any rate on any key; DynamoDB does not. This proxy reads each JSON-protocol request
(`X-Amz-Target`), and for PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems charges
the units `capacity.py` computes — 1 KB units, transactions x2, every index entry the write puts or removes
— to token buckets: one per (table or index, partition key value) refilled at the per-key limit, and one per
table and per index refilled at the table's throughput. A write that would overdraw any bucket is answered
with the throttling error DynamoDB returns and is NOT forwarded: nothing is written. Everything else
(reads, control plane) is forwarded untouched. With the model off, the proxy is not in the path at all.

Limits, at `scale` (default 0.1, i.e. a tenth of AWS's numbers, stated in every stats answer):
- per partition key: AWS's 1,000 write units a second per partition ("each partition on the table can serve
  up to 3,000 read request units or 1,000 write request units"; the same for a GSI's partitions). One key's
  item collection is one partition; the model gives every key its own partition (optimistic for many small
  keys, exact for one hot key) and does not split a hot key for heat (adaptive capacity) over time.
- per table, and per global secondary index: a new on-demand table's 4,000 write request units a second
  (its warm throughput), or the warm throughput one sets (`table_wru`, e.g. 40,000 pre-warmed). Growth
  past it (doubling the previous peak within 30 minutes) is not modelled.
- burst: each bucket holds `burst_seconds` (default 1 s) of its rate. AWS keeps up to 300 s of unused
  capacity for provisioned tables ("burst capacity") and documents no such reserve for on-demand partitions.

Errors, as DynamoDB returns them for an on-demand table (HTTP 400, JSON 1.0):
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
  botocore does not retry it.
(ProvisionedThroughputExceededException, `com.amazonaws.dynamodb.v20120810#...`, "The level of configured
provisioned throughput for the table was exceeded...", is the provisioned-mode error; the template's table
is on demand, so the model answers as on-demand.)

Sources:
- AWS, "DynamoDB item sizes and formats" (developerguide/CapacityUnitCalculations.html), "DynamoDB read and
  write operations" (developerguide/read-write-operations.html), "How AWS Pricing Works — Amazon DynamoDB"
  (whitepapers): item sizes, 1 KB write units, transactional x2, larger of before and after. See capacity.py.
- AWS, "Global secondary indexes" (developerguide/GSI.html#GSI.Writes, quoted on re:Post "dynamodb cost for
  index writes"): an update that changes an index key costs a delete and a put on the index.
- AWS Knowledge Center, "Why is my on-demand DynamoDB table being throttled?" (repost.aws/knowledge-center/
  on-demand-table-throttling-dynamodb) and "Understanding DynamoDB warm throughput in different scenarios"
  (developerguide/warm-throughput-scenarios.html): 1,000 WRU / 3,000 RRU a second per partition, a new
  on-demand table at 4,000 write and 12,000 read units a second, doubling its previous peak in 30 minutes.
- AWS, "Understanding GSI write throttling and back pressure" (developerguide/gsi-throttling.html) and the
  Knowledge Center's "dynamodb-gsi-throttling-table": an index short of write capacity throttles the
  base-table write, and the exception names the index.
- AWS, "DynamoDB burst and adaptive capacity" (developerguide/burst-adaptive-capacity.html): 300 s of burst
  for provisioned capacity.
- The DynamoDB API reference, as shipped in botocore's service model (`TransactionCanceledException`'s
  cancellation reason codes: `ThrottlingError` and its two on-demand messages; `ThrottlingException` with
  `message` and `throttlingReasons`; `ThrottlingReason`'s `<Table|Index><Read|Write><LimitType>` reasons).
- Observed on AWS: on-demand writes throttled as `ThrottlingException` with the message above
  (github.com/aws/aws-sdk-java/issues/2222, github.com/praetorian-inc/chariot-ui/issues/684, a hot key);
  the `__type` `com.amazon.coral.availability#ThrottlingException` (dynalite's test helpers, which run
  against DynamoDB itself, retry on it); a cancelled transaction's body (`__type`
  `com.amazonaws.dynamodb.v20120810#TransactionCanceledException`, `Message`, `CancellationReasons` with
  `{"Code": "None"}`; github.com/erlcloud/erlcloud/pull/607).
- AWS, BatchWriteItem API reference: throttled items return in `UnprocessedItems`; an error only when none
  of the items could be processed.

Not modelled (docs/partition-model.md): reads (RCU), adaptive capacity and split for heat, on-demand growth
past the table's limit, the per-table account quota (40,000 units a second by default), partitions shared
by several keys, item size limits, provisioned mode.
"""

import argparse
import contextlib
import http.client
import json
import logging
import socket
import threading
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from couponmint_dev.local.capacity import (
    Charge,
    Item,
    TableSchema,
    UpdateNotEvaluated,
    WriteCharges,
    apply_update,
    write_charges,
)
from couponmint_dev.local.services import ACCOUNT_ID, DUMMY_ACCESS_KEY, LOCALHOST, REGION

logger = logging.getLogger(__name__)

# AWS's numbers (see the module docstring); the model runs at `scale` times these.
AWS_PARTITION_WCU = 1_000
AWS_ON_DEMAND_START_WRU = 4_000
DEFAULT_SCALE = 0.1
DEFAULT_BURST_SECONDS = 1.0

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_SCHEMA_CHANGES = frozenset({"CreateTable", "DeleteTable", "UpdateTable"})
_TARGET_PREFIX = "DynamoDB_20120810."
_JSON = "application/x-amz-json-1.0"

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
class ModelLimits:
    """The model's limits: AWS's numbers and the scale they run at (`key_rate`, `table_rate` per second)."""

    scale: float = DEFAULT_SCALE
    # AWS's write units a second per partition (table or index).
    key_wcu: float = AWS_PARTITION_WCU
    # The table's (and each index's) write request units a second: a new on-demand table's, or a warm throughput.
    table_wru: float = AWS_ON_DEMAND_START_WRU
    # How many seconds of its rate a bucket holds.
    burst_seconds: float = DEFAULT_BURST_SECONDS
    # Keys whose bucket is full and never throttled are folded into their table's totals past this many.
    max_tracked_keys: int = 50_000

    def __post_init__(self) -> None:
        if self.scale <= 0 or self.key_wcu <= 0 or self.table_wru <= 0 or self.burst_seconds <= 0:
            raise ValueError("the model's scale, limits and burst must be positive")

    @property
    def key_rate(self) -> float:
        return self.key_wcu * self.scale

    @property
    def table_rate(self) -> float:
        return self.table_wru * self.scale

    def describe(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "aws_key_wcu_per_second": self.key_wcu,
            "aws_table_wru_per_second": self.table_wru,
            "key_wcu_per_second": self.key_rate,
            "table_wru_per_second": self.table_rate,
            "burst_seconds": self.burst_seconds,
        }


# ---------------------------------------------------------------------------------------- the model
class _Meter:
    """A token bucket and what it was charged."""

    __slots__ = ("throttled_requests", "throttled_wcu", "tokens", "updated", "wcu")

    def __init__(self, capacity: float, now: float) -> None:
        self.tokens = capacity
        self.updated = now
        self.wcu = 0
        self.throttled_requests = 0
        self.throttled_wcu = 0

    def refill(self, rate: float, capacity: float, now: float) -> None:
        self.tokens = min(capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now

    def fits(self, units: int, capacity: float) -> bool:
        # A request larger than the bucket passes when the bucket is full, and overdraws it.
        return self.tokens >= units or self.tokens >= capacity - 1e-9


# (table, index or None, partition key) and (table, index or None)
KeyId = tuple[str, str | None, str]
ResourceId = tuple[str, str | None]


@dataclass(frozen=True)
class Admission:
    """What the model decided for a group of item writes (all admitted, or none)."""

    admitted: bool
    # Positions (in the group) of the writes charged to a bucket that ran out.
    throttled_items: frozenset[int] = frozenset()
    # The buckets that ran out: (table, index or None, key or None for the table's total).
    exhausted: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass
class _ResourceTotals:
    meter: _Meter
    untracked_wcu: int = 0
    untracked_keys: int = 0


class ThroughputModel:
    """Token buckets per partition key and per table / index; thread-safe (one lock)."""

    def __init__(self, limits: ModelLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._operations: dict[str, dict[str, int]] = {}
        self.reset()

    def reset(self) -> None:
        """Full buckets, zero counters."""
        with self._lock:
            self._keys: dict[KeyId, _Meter] = {}
            self._resources: dict[ResourceId, _ResourceTotals] = {}
            self._operations = {}
            self._started = self._clock()
            self._prune_at = self.limits.max_tracked_keys

    def count(self, operation: str, *, throttled: bool) -> None:
        with self._lock:
            counters = self._operations.setdefault(operation, {"requests": 0, "throttled": 0})
            counters["requests"] += 1
            counters["throttled"] += int(throttled)

    def admit(self, group: Sequence[Iterable[Charge]]) -> Admission:
        """Charge every write of `group` at once, or none of them when any bucket would be overdrawn."""
        key_rate, table_rate = self.limits.key_rate, self.limits.table_rate
        key_capacity = key_rate * self.limits.burst_seconds
        table_capacity = table_rate * self.limits.burst_seconds
        per_key: dict[KeyId, int] = {}
        per_resource: dict[ResourceId, int] = {}
        items_of_key: dict[KeyId, set[int]] = {}
        items_of_resource: dict[ResourceId, set[int]] = {}
        for position, charges in enumerate(group):
            for charge in charges:
                key_id = (charge.table, charge.index, charge.key)
                resource = (charge.table, charge.index)
                per_key[key_id] = per_key.get(key_id, 0) + charge.units
                per_resource[resource] = per_resource.get(resource, 0) + charge.units
                items_of_key.setdefault(key_id, set()).add(position)
                items_of_resource.setdefault(resource, set()).add(position)
        with self._lock:
            now = self._clock()
            exhausted: list[tuple[str, str | None, str | None]] = []
            throttled_items: set[int] = set()
            key_meters = {}
            for key_id, units in per_key.items():
                meter = self._keys.get(key_id)
                if meter is None:
                    meter = self._keys[key_id] = _Meter(key_capacity, now)
                meter.refill(key_rate, key_capacity, now)
                key_meters[key_id] = meter
                if not meter.fits(units, key_capacity):
                    exhausted.append(key_id)
                    throttled_items |= items_of_key[key_id]
            resource_totals = {}
            for resource, units in per_resource.items():
                totals = self._resources.get(resource)
                if totals is None:
                    totals = self._resources[resource] = _ResourceTotals(_Meter(table_capacity, now))
                totals.meter.refill(table_rate, table_capacity, now)
                resource_totals[resource] = totals
                if not totals.meter.fits(units, table_capacity):
                    exhausted.append((*resource, None))
                    throttled_items |= items_of_resource[resource]
            if exhausted:
                for table, index, key in exhausted:
                    if key is None:
                        meter = resource_totals[(table, index)].meter
                        units = per_resource[(table, index)]
                    else:
                        meter = key_meters[(table, index, key)]
                        units = per_key[(table, index, key)]
                    meter.throttled_requests += 1
                    meter.throttled_wcu += units
                return Admission(False, frozenset(throttled_items), tuple(exhausted))
            for key_id, units in per_key.items():
                meter = key_meters[key_id]
                meter.tokens -= units
                meter.wcu += units
            for resource, units in per_resource.items():
                totals = resource_totals[resource]
                totals.meter.tokens -= units
                totals.meter.wcu += units
            if len(self._keys) > self._prune_at:
                self._prune(now, key_rate, key_capacity)
            return Admission(True)

    def _prune(self, now: float, rate: float, capacity: float) -> None:
        """Fold idle, never-throttled keys into their table's totals (a full bucket is a fresh one)."""
        for key_id, meter in list(self._keys.items()):
            meter.refill(rate, capacity, now)
            if meter.throttled_requests == 0 and meter.tokens >= capacity - 1e-9:
                del self._keys[key_id]
                totals = self._resources[(key_id[0], key_id[1])]
                totals.untracked_wcu += meter.wcu
                totals.untracked_keys += 1
        self._prune_at = max(self.limits.max_tracked_keys, 2 * len(self._keys))

    def stats(self, top: int = 50) -> dict[str, Any]:
        """Counters: per table / index, the `top` keys by throttled requests then units, per operation."""
        with self._lock:
            keys: list[dict[str, Any]] = [
                {
                    "table": table,
                    "index": index,
                    "key": key,
                    "wcu": meter.wcu,
                    "throttled_requests": meter.throttled_requests,
                    "throttled_wcu": meter.throttled_wcu,
                }
                for (table, index, key), meter in self._keys.items()
                if meter.wcu or meter.throttled_requests
            ]
            key_throttles: dict[ResourceId, int] = {}
            key_counts: dict[ResourceId, int] = {}
            for entry in keys:
                resource = (entry["table"], entry["index"])
                key_throttles[resource] = key_throttles.get(resource, 0) + entry["throttled_requests"]
                key_counts[resource] = key_counts.get(resource, 0) + 1
            resources = [
                {
                    "table": table,
                    "index": index,
                    "wcu": totals.meter.wcu,
                    "throttled_requests": totals.meter.throttled_requests,
                    "throttled_wcu": totals.meter.throttled_wcu,
                    "key_throttled_requests": key_throttles.get((table, index), 0),
                    "keys": key_counts.get((table, index), 0) + totals.untracked_keys,
                    "untracked_keys_wcu": totals.untracked_wcu,
                }
                for (table, index), totals in self._resources.items()
            ]
            operations = {name: dict(counters) for name, counters in self._operations.items()}
            elapsed = self._clock() - self._started
        keys.sort(key=lambda entry: (-entry["throttled_requests"], -entry["wcu"]))
        return {
            "limits": self.limits.describe(),
            "elapsed_seconds": round(elapsed, 3),
            "operations": operations,
            "resources": resources,
            "keys": keys[:top],
        }


# ---------------------------------------------------------------------------------------- reading stats
@dataclass(frozen=True)
class KeyStats:
    table: str
    index: str | None
    key: str
    wcu: int
    throttled_requests: int
    throttled_wcu: int


_ANY = object()


def hottest_keys(
    stats: Mapping[str, Any], *, index: Any = _ANY, table: str | None = None, n: int = 5
) -> list[KeyStats]:
    """The `n` keys with the most throttled requests, then the most units (of `index`: None for the table)."""
    found = [
        KeyStats(**entry)
        for entry in stats["keys"]
        if (index is _ANY or entry["index"] == index) and (table is None or entry["table"] == table)
    ]
    found.sort(key=lambda entry: (-entry.throttled_requests, -entry.wcu))
    return found[:n]


def throttled_requests(stats: Mapping[str, Any], *, index: Any = _ANY, table: str | None = None) -> int:
    """Requests throttled by a key or by the total of `index` (None: the table itself; default: all)."""
    return sum(
        resource["throttled_requests"] + resource["key_throttled_requests"]
        for resource in stats["resources"]
        if (index is _ANY or resource["index"] == index) and (table is None or resource["table"] == table)
    )


# ---------------------------------------------------------------------------------------- DynamoDB's errors
@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_answer(status: int, document: Mapping[str, Any]) -> Answer:
    """An answer as DynamoDB sends it: JSON 1.0, a request id, and the body's CRC32 (botocore checks it)."""
    body = json.dumps(document, separators=(",", ":")).encode()
    headers = [
        ("Content-Type", _JSON),
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


def throttling_exception(
    exhausted: Sequence[tuple[str, str | None, str | None]], arn_of: Callable[[str], str]
) -> Answer:
    """The ThrottlingException an on-demand table answers a throttled write with."""
    by_index = any(index for _, index, _ in exhausted)
    message = INDEX_THROTTLED_MESSAGE if by_index else TABLE_THROTTLED_MESSAGE
    return json_answer(
        400,
        {
            "__type": THROTTLING_TYPE,
            "message": message,
            "throttlingReasons": _throttling_reasons(exhausted, arn_of),
        },
    )


def transaction_canceled(count: int, admission: Admission) -> Answer:
    """TransactionCanceledException with `ThrottlingError` for the actions charged to an exhausted bucket."""
    by_index = any(index for _, index, _ in admission.exhausted)
    message = INDEX_THROTTLED_MESSAGE if by_index else TABLE_THROTTLED_MESSAGE
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


# ---------------------------------------------------------------------------------------- upstream
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade", "content-length"}
)
# DynamoDB Local reads the region from the credential scope and verifies no signature.
_INTERNAL_HEADERS = {
    "Content-Type": _JSON,
    "Authorization": (
        f"AWS4-HMAC-SHA256 Credential={DUMMY_ACCESS_KEY}/20250101/{REGION}/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=0"
    ),
}


class UpstreamError(RuntimeError):
    """DynamoDB Local refused one of the model's own reads."""


class _Upstream:
    """Keep-alive HTTP connections to DynamoDB Local, one per thread."""

    def __init__(self, endpoint: str, timeout: float = 60.0) -> None:
        parsed = urllib.parse.urlsplit(endpoint)
        self.host, self.port = parsed.hostname or LOCALHOST, parsed.port or 80
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            connection.connect()
            assert connection.sock is not None
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def send(self, method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes) -> Answer:
        """Forward one request; a connection the server closed meanwhile is reopened once."""
        outgoing = {name: value for name, value in headers if name.lower() not in _HOP_BY_HOP}
        outgoing["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            try:
                connection = self._connection()
                connection.request(method, path, body=body, headers=outgoing)
                response = connection.getresponse()
                content = response.read()
                kept = [(name, value) for name, value in response.getheaders() if name.lower() not in _HOP_BY_HOP]
                if response.will_close:
                    self._drop()
                return Answer(response.status, kept, content)
            except (http.client.HTTPException, ConnectionError, TimeoutError, OSError):
                self._drop()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def call(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """One DynamoDB call of the model's own (not charged)."""
        headers = [*_INTERNAL_HEADERS.items(), ("X-Amz-Target", _TARGET_PREFIX + operation)]
        answer = self.send("POST", "/", headers, json.dumps(payload).encode())
        document: dict[str, Any] = json.loads(answer.body or b"{}")
        if answer.status != 200:
            raise UpstreamError(f"{operation}: {answer.status} {document}")
        return document


# ---------------------------------------------------------------------------------------- the proxy
def _key_text(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


class PartitionModelProxy:
    """The HTTP proxy (see the module docstring). `start()` it, point boto3 at `url`, read `stats()`."""

    def __init__(
        self, upstream: str, limits: ModelLimits | None = None, *, host: str = LOCALHOST, port: int = 0
    ) -> None:
        self.limits = limits or ModelLimits()
        self.model = ThroughputModel(self.limits)
        self.upstream_endpoint = upstream
        self._upstream = _Upstream(upstream)
        self._schemas: dict[str, TableSchema] = {}
        self._schemas_lock = threading.Lock()
        self._server = _ProxyServer((host, port), _ProxyHandler)
        self._server.proxy = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "PartitionModelProxy":
        self._thread = threading.Thread(target=self._server.serve_forever, name="partition-model", daemon=True)
        self._thread.start()
        logger.info("partition model on %s in front of %s: %s", self.url, self.upstream_endpoint, self.limits)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def stats(self, top: int = 50) -> dict[str, Any]:
        return self.model.stats(top)

    def reset(self, limits: ModelLimits | None = None) -> None:
        """Full buckets and zero counters; with `limits`, the model runs at those from now on."""
        if limits is not None and limits != self.limits:
            self.limits = limits
            self.model = ThroughputModel(limits)
        else:
            self.model.reset()

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

    def _arn(self, table: str) -> str:
        with self._schemas_lock:
            known = self._schemas.get(table)
        if known is not None and known.arn.startswith("arn:aws:"):
            return known.arn
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}"

    def forget_schemas(self) -> None:
        with self._schemas_lock:
            self._schemas.clear()

    # ------------------------------------------------------------------ requests
    def handle(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        target = next((value for name, value in headers if name.lower() == "x-amz-target"), "")
        operation = target.rpartition(".")[2]
        if operation in _SCHEMA_CHANGES:
            self.forget_schemas()
        if method != "POST" or operation not in WRITE_OPERATIONS:
            return self._upstream.send(method, path, headers, body)
        try:
            request = json.loads(body)
            writes = self._writes(operation, request)
            group = self._charges(writes, transactional=operation == "TransactWriteItems")
        except (UpstreamError, UpdateNotEvaluated, KeyError, TypeError, ValueError) as error:
            # A request the model cannot read goes on as it is: DynamoDB Local answers it (often with the
            # validation error it deserves); the model must never make a valid request fail.
            logger.warning("partition model passes %s on uncharged: %r", operation, error)
            return self._upstream.send(method, path, headers, body)
        if operation == "BatchWriteItem":
            return self._batch_write(request, group, method, path, headers, body)
        admission = self.model.admit(group)
        self.model.count(operation, throttled=not admission.admitted)
        if admission.admitted:
            return self._upstream.send(method, path, headers, body)
        if operation == "TransactWriteItems":
            return transaction_canceled(len(group), admission)
        return throttling_exception(admission.exhausted, self._arn)

    @classmethod
    def _writes(cls, operation: str, request: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        """The request's item writes, each as (PutItem | UpdateItem | DeleteItem | ConditionCheck, its fields)."""
        if operation == "TransactWriteItems":
            return [cls._action(action) for action in request["TransactItems"]]
        if operation == "BatchWriteItem":
            return [
                ("PutItem", {"TableName": table, "Item": write["PutRequest"]["Item"]})
                if "PutRequest" in write
                else ("DeleteItem", {"TableName": table, "Key": write["DeleteRequest"]["Key"]})
                for table, writes in request["RequestItems"].items()
                for write in writes
            ]
        return [(operation, request)]

    @staticmethod
    def _action(action: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        ((kind, fields),) = action.items()
        return {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind, kind), fields

    def _charges(self, writes: Sequence[tuple[str, Mapping[str, Any]]], *, transactional: bool) -> list[WriteCharges]:
        """The charges of each write (a ConditionCheck costs no write units), reading the items before."""
        keyed: list[tuple[str, Mapping[str, Any], TableSchema, Item] | None] = []
        for kind, fields in writes:
            if kind not in ("PutItem", "UpdateItem", "DeleteItem"):
                keyed.append(None)
                continue
            schema = self.schema(fields["TableName"])
            key = schema.key_of(fields["Item"]) if kind == "PutItem" else dict(fields["Key"])
            keyed.append((kind, fields, schema, key))
        before = self._items_before([(entry[2].name, entry[3]) for entry in keyed if entry is not None])
        group: list[WriteCharges] = []
        for entry in keyed:
            if entry is None:
                group.append(WriteCharges())
                continue
            kind, fields, schema, key = entry
            old = before.get((schema.name, _key_text(key)))
            if kind == "PutItem":
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
                found[(table, _key_text(key))] = item
            return found
        unique = list({(table, _key_text(key)): (table, key) for table, key in keys}.values())
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {}
            for table, key in unique[start : start + 100]:
                request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
            while request:
                answer = self._upstream.call("BatchGetItem", {"RequestItems": request})
                for table, items in answer.get("Responses", {}).items():
                    schema = self.schema(table)
                    for item in items:
                        found[(table, _key_text(schema.key_of(item)))] = item
                request = answer.get("UnprocessedKeys") or {}
        return found

    def _batch_write(
        self,
        request: dict[str, Any],
        group: list[WriteCharges],
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> Answer:
        """Each item of a batch on its own: those that fit are written, the others returned unprocessed."""
        entries = [(table, write) for table, writes in request["RequestItems"].items() for write in writes]
        if not entries:  # not a valid batch: DynamoDB Local says why
            return self._upstream.send(method, path, headers, body)
        admitted: dict[str, list[Any]] = {}
        unprocessed: dict[str, list[Any]] = {}
        exhausted: list[tuple[str, str | None, str | None]] = []
        for (table, write), charges in zip(entries, group, strict=True):
            admission = self.model.admit([charges])
            if admission.admitted:
                admitted.setdefault(table, []).append(write)
            else:
                unprocessed.setdefault(table, []).append(write)
                exhausted.extend(admission.exhausted)
        self.model.count("BatchWriteItem", throttled=bool(unprocessed))
        if not admitted:
            return throttling_exception(exhausted, self._arn)
        if not unprocessed:
            return self._upstream.send(method, path, headers, body)
        answer = self._upstream.send(method, path, headers, json.dumps({**request, "RequestItems": admitted}).encode())
        if answer.status != 200:
            return answer
        document = json.loads(answer.body)
        merged = document.get("UnprocessedItems") or {}
        for table, writes_left in unprocessed.items():
            merged.setdefault(table, []).extend(writes_left)
        document["UnprocessedItems"] = merged
        return json_answer(200, document)


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


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: PartitionModelProxy

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the stack's output

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, answer: Answer) -> None:
        self.send_response(answer.status)  # with this server's own Date and Server headers
        for name, value in answer.headers:
            if name.lower() not in ("date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _serve(self, method: str) -> None:
        body = self._body()
        proxy = self.server.proxy
        route = urllib.parse.urlsplit(self.path)
        if route.path == "/_model/stats" and method == "GET":
            top = int(urllib.parse.parse_qs(route.query).get("top", ["50"])[0])
            self._answer(json_answer(200, proxy.stats(top)))
            return
        if route.path == "/_model/reset" and method == "POST":
            proxy.reset()
            self._answer(json_answer(200, {"reset": True}))
            return
        try:
            answer = proxy.handle(method, self.path, list(self.headers.items()), body)
        except (OSError, http.client.HTTPException) as error:
            logger.warning("partition model: DynamoDB Local did not answer: %r", error)
            answer = json_answer(500, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"})
        self._answer(answer)

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")


_OFF = frozenset({"", "0", "off", "false", "no"})
_ON = frozenset({"on", "true", "yes"})


def limits_from(setting: str | None, table_wru: float | None = None) -> ModelLimits | None:
    """The model's limits from a setting: unset or "off" → no model; "on" → the default scale; a number → that
    scale (1 runs at AWS's own numbers). `table_wru` (AWS units a second) stands for a warm throughput."""
    if setting is None or setting.strip().lower() in _OFF:
        return None
    text = setting.strip().lower()
    scale = DEFAULT_SCALE if text in _ON else float(text)
    return ModelLimits(scale=scale, table_wru=table_wru or AWS_ON_DEMAND_START_WRU)


def start_partition_model(upstream: str, limits: ModelLimits | None = None, *, port: int = 0) -> PartitionModelProxy:
    """A running proxy in front of the DynamoDB endpoint `upstream`."""
    return PartitionModelProxy(upstream, limits, port=port).start()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m couponmint_dev.local.partition_model --upstream URL`: the proxy alone, in the foreground."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True, help="DynamoDB endpoint to put the model in front of")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--table-wru", type=float, default=AWS_ON_DEMAND_START_WRU, help="AWS-scale table WRU/s")
    parser.add_argument("--burst-seconds", type=float, default=DEFAULT_BURST_SECONDS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limits = ModelLimits(scale=args.scale, table_wru=args.table_wru, burst_seconds=args.burst_seconds)
    proxy = start_partition_model(args.upstream, limits, port=args.port)
    print(f"partition model on {proxy.url} (stats: {proxy.url}/_model/stats)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
