"""The partition model's proxy: each write request is charged, then forwarded to DynamoDB Local or refused.

It reads each JSON-protocol request (`X-Amz-Target`); for a write it charges the units charging.py computes
to the model's buckets (buckets.py). A write that would overdraw any bucket is answered with the throttling
error DynamoDB returns (errors.py) and is NOT forwarded: nothing is written. Everything else (reads, control
plane) is forwarded untouched.
"""

import json
import logging
import threading
from typing import Any

from couponmint_dev.local.partition_model.buckets import ThroughputModel
from couponmint_dev.local.partition_model.charges import WriteCharges
from couponmint_dev.local.partition_model.charging import Charger
from couponmint_dev.local.partition_model.errors import Answer, json_answer, throttling_exception, transaction_canceled
from couponmint_dev.local.partition_model.limits import ModelLimits
from couponmint_dev.local.partition_model.server import ModelRequestHandler, ModelServer
from couponmint_dev.local.partition_model.update_expression import UpdateNotEvaluated
from couponmint_dev.local.partition_model.upstream import Upstream, UpstreamError
from couponmint_dev.local.partition_model.writes import SCHEMA_CHANGES, WRITE_OPERATIONS, item_writes
from couponmint_dev.local.services import LOCALHOST

logger = logging.getLogger(__name__)


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
        return self.model.stats(top)

    def reset(self, limits: ModelLimits | None = None) -> None:
        """Full buckets and zero counters; with `limits`, the model runs at those from now on."""
        if limits is not None and limits != self.limits:
            self.limits = limits
            self.model = ThroughputModel(limits)
        else:
            self.model.reset()

    # ------------------------------------------------------------------ requests
    def handle(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        target = next((value for name, value in headers if name.lower() == "x-amz-target"), "")
        operation = target.rpartition(".")[2]
        if operation in SCHEMA_CHANGES:
            self._charger.forget_schemas()
        if method != "POST" or operation not in WRITE_OPERATIONS:
            return self._upstream.send(method, path, headers, body)
        try:
            request = json.loads(body)
            writes = item_writes(operation, request)
            group = self._charger.charges(writes, transactional=operation == "TransactWriteItems")
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
        return throttling_exception(admission.exhausted, self._charger.arn)

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
            return throttling_exception(exhausted, self._charger.arn)
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


def start_partition_model(upstream: str, limits: ModelLimits | None = None, *, port: int = 0) -> PartitionModelProxy:
    """A running proxy in front of the DynamoDB endpoint `upstream`."""
    return PartitionModelProxy(upstream, limits, port=port).start()
