"""The partition model's proxy: each write request is charged, then forwarded to DynamoDB Local or refused.

It reads each JSON-protocol request (`X-Amz-Target`). A write (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
TransactWriteItems, and PartiQL's ExecuteStatement, BatchExecuteStatement and ExecuteTransaction) is charged the
units charging.py computes to the model's buckets (buckets.py); one that would overdraw any bucket is answered
with the throttling error DynamoDB returns (errors.py) and is NOT forwarded: nothing is written. A batch's items
and statements are judged one by one. Reads are forwarded and their read units counted (reads.py); everything
else (the control plane) is forwarded untouched. A write the model cannot read is forwarded uncharged, logged
and counted as unmodelled (`stats()["unmodelled"]`). A request's `X-Model-Tag` header, when present, also
counts it under that tag.
"""

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from couponmint_dev.local.partition_model.buckets import Admission, ThroughputModel
from couponmint_dev.local.partition_model.charges import WriteCharges
from couponmint_dev.local.partition_model.charging import Charger
from couponmint_dev.local.partition_model.counters import RequestCounters
from couponmint_dev.local.partition_model.errors import (
    Answer,
    json_answer,
    statement_throttled,
    throttling_exception,
    transaction_canceled,
)
from couponmint_dev.local.partition_model.limits import ModelLimits
from couponmint_dev.local.partition_model.reads import READ_OPERATIONS, read_charges
from couponmint_dev.local.partition_model.server import ModelRequestHandler, ModelServer
from couponmint_dev.local.partition_model.update_expression import UpdateNotEvaluated
from couponmint_dev.local.partition_model.upstream import Upstream, UpstreamError
from couponmint_dev.local.partition_model.writes import (
    SCHEMA_CHANGES,
    STATEMENT_OPERATIONS,
    TRANSACTIONS,
    WRITE_OPERATIONS,
    StatementWrite,
    Unmodelled,
    item_writes,
    statement_writes,
)
from couponmint_dev.local.processes import LOCALHOST

logger = logging.getLogger(__name__)

TAG_HEADER = "x-model-tag"
Exhausted = tuple[tuple[str, str | None, str | None], ...]


class PartitionModelProxy:
    """The HTTP proxy in front of DynamoDB Local. `start()` it, point boto3 at `url`, read `stats()`."""

    def __init__(
        self, upstream: str, limits: ModelLimits | None = None, *, host: str = LOCALHOST, port: int = 0
    ) -> None:
        self.limits = limits or ModelLimits()
        self.model = ThroughputModel(self.limits)
        self.upstream_endpoint = upstream
        self._upstream = Upstream(upstream)
        self._charger = Charger(self._upstream)
        self.counters = RequestCounters()
        self._warned: set[str] = set()
        self._warned_lock = threading.Lock()
        self._server = ModelServer((host, port), ModelRequestHandler)
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
        """The buckets' counters (limits, tables and indexes, the `top` keys) and the operations' (counters.py)."""
        return {**self.model.stats(top), **self.counters.stats()}

    def reset(self, limits: ModelLimits | None = None) -> None:
        """Full buckets and zero counters; with `limits`, the model runs at those from now on."""
        if limits is not None and limits != self.limits:
            self.limits = limits
            self.model = ThroughputModel(limits)
        else:
            self.model.reset()
        self.counters.reset()

    # ------------------------------------------------------------------ requests
    def handle(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        target = _header(headers, "x-amz-target")
        operation = target.rpartition(".")[2]
        request = _Request(operation, _header(headers, TAG_HEADER) or None, method, path, headers, body)
        if operation in SCHEMA_CHANGES:
            self._charger.forget_schemas()
        if method != "POST" or operation not in WRITE_OPERATIONS | READ_OPERATIONS:
            return self._forward(request)
        if operation in READ_OPERATIONS:
            return self._read(request)
        try:
            document = json.loads(body)
            if operation in STATEMENT_OPERATIONS:
                return self._statements(request, document)
            writes = item_writes(operation, document)
            group = self._charger.charges(writes, transactional=operation in TRANSACTIONS)
        except (UpstreamError, UpdateNotEvaluated, KeyError, TypeError, ValueError) as error:
            # A request the model cannot read goes on as it is: DynamoDB Local answers it (often with the
            # validation error it deserves); the model must never make a valid request fail. It is counted.
            self._unmodelled(request, repr(error))
            return self._forward(request)
        if operation == "BatchWriteItem":
            return self._batch_write(request, document, group)
        return self._whole(request, group, list(range(len(group))), len(group))

    def _whole(self, request: "_Request", group: list[WriteCharges], positions: list[int], count: int) -> Answer:
        """A request admitted whole or not at all; `positions` place `group`'s writes among its `count` items."""
        admission = self.model.admit(group)
        throttled = {positions[i] for i in admission.throttled_items}
        self.counters.count(
            request.operation,
            request.tag,
            throttled=int(not admission.admitted),
            items=count,
            throttled_items=len(throttled),
            wcu=sum(charges.units for charges in group) if admission.admitted else 0,
            unmodelled=count - len(group) if request.operation in STATEMENT_OPERATIONS else 0,
        )
        if admission.admitted:
            return self._forward(request)
        if request.operation in TRANSACTIONS:
            return transaction_canceled(count, Admission(False, frozenset(throttled), admission.exhausted))
        return throttling_exception(admission.exhausted, self._charger.arn)

    def _each(self, group: list[WriteCharges]) -> tuple[dict[int, Exhausted], int]:
        """Each write on its own: the positions throttled (with the buckets that ran out) and the units charged."""
        throttled: dict[int, Exhausted] = {}
        units = 0
        for position, charges in enumerate(group):
            admission = self.model.admit([charges])
            if admission.admitted:
                units += charges.units
            else:
                throttled[position] = admission.exhausted
        return throttled, units

    def _batch_write(self, request: "_Request", document: dict[str, Any], group: list[WriteCharges]) -> Answer:
        """Each item of a batch on its own: those that fit are written, the others returned unprocessed."""
        entries = [(table, write) for table, writes in document["RequestItems"].items() for write in writes]
        if not entries:  # not a valid batch: DynamoDB Local says why
            return self._forward(request)
        throttled, units = self._each(group)
        self.counters.count(
            "BatchWriteItem",
            request.tag,
            throttled=int(bool(throttled)),
            items=len(entries),
            throttled_items=len(throttled),
            wcu=units,
        )
        if len(throttled) == len(entries):
            return throttling_exception([bucket for buckets in throttled.values() for bucket in buckets], self._arn)
        if not throttled:
            return self._forward(request)
        admitted: dict[str, list[Any]] = {}
        unprocessed: dict[str, list[Any]] = {}
        for position, (table, write) in enumerate(entries):
            (unprocessed if position in throttled else admitted).setdefault(table, []).append(write)
        answer = self._forward(request, {**document, "RequestItems": admitted})
        if answer.status != 200:
            return answer
        result = json.loads(answer.body)
        merged = result.get("UnprocessedItems") or {}
        for table, writes_left in unprocessed.items():
            merged.setdefault(table, []).extend(writes_left)
        result["UnprocessedItems"] = merged
        return json_answer(200, result)

    # ------------------------------------------------------------------ PartiQL
    def _statements(self, request: "_Request", document: dict[str, Any]) -> Answer:
        """ExecuteStatement, ExecuteTransaction (whole or nothing) and BatchExecuteStatement (each on its own)."""
        writes = statement_writes(request.operation, document, lambda table: self._charger.schema(table).key_names)
        if all(write is None for write in writes):
            return self._forward(request)  # reads (SELECT)
        for write in writes:
            if isinstance(write, Unmodelled):
                self._unmodelled(request, write.reason, count=False)
        modelled = [position for position, write in enumerate(writes) if isinstance(write, tuple)]
        group = self._charger.charges(
            [write for write in writes if isinstance(write, tuple)], transactional=request.operation in TRANSACTIONS
        )
        if request.operation != "BatchExecuteStatement":
            return self._whole(request, group, modelled, len(writes))
        throttled_of_group, units = self._each(group)
        throttled = {modelled[i]: buckets for i, buckets in throttled_of_group.items()}
        self.counters.count(
            request.operation,
            request.tag,
            throttled=int(bool(throttled)),
            items=len(writes),
            throttled_items=len(throttled),
            wcu=units,
            unmodelled=len(writes) - len(modelled),
        )
        if len(throttled) == len(writes):
            return throttling_exception([bucket for buckets in throttled.values() for bucket in buckets], self._arn)
        if not throttled:
            return self._forward(request)
        statements = document["Statements"]
        answer = self._forward(
            request, {**document, "Statements": [s for i, s in enumerate(statements) if i not in throttled]}
        )
        if answer.status != 200:
            return answer
        result = json.loads(answer.body)
        responses = iter(result.get("Responses", []))
        result["Responses"] = [
            statement_throttled(_table_of(writes[i]), throttled[i]) if i in throttled else next(responses, {})
            for i in range(len(statements))
        ]
        return json_answer(200, result)

    # ------------------------------------------------------------------ reads, and what passes uncharged
    def _read(self, request: "_Request") -> Answer:
        """Forward a read and count its read units (reads are never throttled)."""
        answer = self._forward(request)
        if answer.status == 200:
            try:
                charges = read_charges(request.operation, json.loads(request.body), json.loads(answer.body))
            except (KeyError, TypeError, ValueError) as error:
                logger.debug("partition model counts no read units for %s: %r", request.operation, error)
                return answer
            for table, index, units in charges:
                self.counters.count_reads(table, index, units)
            self.counters.count(request.operation, request.tag, rru=sum(units for _, _, units in charges))
        return answer

    def _unmodelled(self, request: "_Request", reason: str, *, count: bool = True) -> None:
        """Say so (once per reason) and count it: a write the model cannot read is never silently free."""
        if count:
            self.counters.count(request.operation, request.tag, unmodelled=1)
        with self._warned_lock:
            if reason in self._warned:
                return
            self._warned.add(reason)
        logger.warning("partition model cannot read a %s; it passes uncharged (counted): %s", request.operation, reason)

    def _arn(self, table: str) -> str:
        return self._charger.arn(table)

    def _forward(self, request: "_Request", document: dict[str, Any] | None = None) -> Answer:
        body = request.body if document is None else json.dumps(document).encode()
        return self._upstream.send(request.method, request.path, request.headers, body)


@dataclass(frozen=True)
class _Request:
    operation: str
    tag: str | None
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


def _header(headers: list[tuple[str, str]], wanted: str) -> str:
    return next((value for name, value in headers if name.lower() == wanted), "")


def _table_of(write: StatementWrite) -> str:
    return str(write[1]["TableName"]) if isinstance(write, tuple) else ""


def start_partition_model(upstream: str, limits: ModelLimits | None = None, *, port: int = 0) -> PartitionModelProxy:
    """A running proxy in front of the DynamoDB endpoint `upstream`."""
    return PartitionModelProxy(upstream, limits, port=port).start()
