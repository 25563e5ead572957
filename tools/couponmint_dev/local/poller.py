"""Feed a function from an SQS queue the way Lambda's event source mapping does.

From template.yaml (the function's `Type: SQS` event): BatchSize, FunctionResponseTypes
(ReportBatchItemFailures), and the concurrency cap (the smaller of ReservedConcurrentExecutions and
ScalingConfig.MaximumConcurrency). Each of that many workers long-polls the queue, builds the SQS event
Lambda would send, invokes the handler, then:

- deletes every message when the handler returns no `batchItemFailures` (or the mapping does not report
  them);
- deletes all but the reported failures when it reports some (an empty or unknown itemIdentifier fails
  the whole batch, as in Lambda);
- deletes nothing when the handler raises.

Messages not deleted reappear after the queue's VisibilityTimeout, and moto's server moves them to the
dead-letter queue after maxReceiveCount receives, as SQS does.

Local difference, on purpose and off by default: `retry_visibility_seconds` makes failed messages visible
again after that many seconds (ChangeMessageVisibility) instead of the template's 360 s, so redelivery
can be watched in a test or a demo. `couponmint local run` takes it from COUPONMINT_LOCAL_RETRY_VISIBILITY_SECONDS.

Each worker invokes its own copy of the handler module when given a `LocalFunction` (see lambdas.py),
because Powertools' module-level BatchProcessor is not safe to share between concurrent invocations.
"""

import base64
import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from couponmint.adapters.aws import sqs_client
from couponmint_dev.local.lambdas import Handler, LambdaContext, LocalFunction, load_handler
from couponmint_dev.local.resources import LOCAL_WORKERS, LocalResources
from couponmint_dev.local.services import REGION
from couponmint_dev.local.template import (
    function_properties,
    load_template,
    parameter_value,
    project_root,
    resources_of_type,
)

logger = logging.getLogger(__name__)

# Lambda's limit for a standard queue without a batching window.
MAX_SQS_BATCH = 10


@dataclass(frozen=True)
class EventSourceConfig:
    """The function's SQS event source, as the template declares it."""

    function_id: str
    queue_logical_id: str
    batch_size: int
    report_batch_item_failures: bool
    max_concurrency: int
    timeout_seconds: int
    memory_mb: int

    @classmethod
    def from_template(cls, template: dict[str, Any], function_id: str) -> "EventSourceConfig":
        properties = function_properties(template, function_id)
        sqs_events = [e["Properties"] for e in (properties.get("Events") or {}).values() if e["Type"] == "SQS"]
        if len(sqs_events) != 1:
            raise ValueError(f"{function_id} needs exactly one SQS event, found {len(sqs_events)}")
        event = sqs_events[0]
        queue = event["Queue"]
        if not (isinstance(queue, dict) and "Fn::GetAtt" in queue):
            raise ValueError(f"{function_id}'s SQS event must name its queue with !GetAtt Queue.Arn")
        # Without either cap Lambda scales pollers up to 1,000; locally a handful is plenty.
        caps = [
            int(parameter_value(template, value))
            for value in (
                properties.get("ReservedConcurrentExecutions"),
                (event.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            )
            if value is not None
        ]
        return cls(
            function_id=function_id,
            queue_logical_id=queue["Fn::GetAtt"][0],
            batch_size=min(int(event.get("BatchSize", MAX_SQS_BATCH)), MAX_SQS_BATCH),
            report_batch_item_failures="ReportBatchItemFailures" in (event.get("FunctionResponseTypes") or []),
            max_concurrency=min(*caps, LOCAL_WORKERS) if caps else 5,
            timeout_seconds=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
        )


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """The event Lambda sends for a batch of messages returned by ReceiveMessage."""
    return {"Records": [_record(message, queue_arn, region) for message in messages]}


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    body = message["Body"]
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's {"StringValue", "DataType", ...} in the event's camelCase shape."""
    converted: dict[str, Any] = {
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return converted


def failed_message_ids(result: Any, message_ids: list[str], *, report_batch_item_failures: bool) -> set[str]:
    """The messages of a batch the handler did not process, judged from its return value like Lambda."""
    if not report_batch_item_failures or not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    reported = {failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures}
    if not reported <= set(message_ids):
        # Lambda treats an empty, missing or unknown identifier as a failure of the whole batch.
        return set(message_ids)
    return {identifier for identifier in reported if isinstance(identifier, str)}


class SqsPoller:
    """Workers that receive from one queue and invoke one function, at most `max_concurrency` at once."""

    def __init__(
        self,
        config: EventSourceConfig,
        handler: Handler,
        queue_url: str,
        queue_arn: str,
        *,
        retry_visibility_seconds: int | None = None,
        wait_seconds: int = 2,
        sqs: Any = None,
    ) -> None:
        self.config = config
        self._handler = handler
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._retry_visibility_seconds = retry_visibility_seconds
        # Shorter than SQS's 20 s maximum so stop() returns within ~2 s; idle, each worker asks every 2 s.
        self._wait_seconds = wait_seconds
        self._sqs = sqs
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []

    @classmethod
    def from_template(
        cls,
        template_path: Path | None,
        handler: Handler,
        resources: LocalResources,
        *,
        function_id: str = "GeneratorFunction",
        retry_visibility_seconds: int | None = None,
        wait_seconds: int = 2,
    ) -> "SqsPoller":
        """A poller for `function_id`'s SQS event source, on the queue `resources` created for it."""
        config = EventSourceConfig.from_template(
            load_template(template_path or project_root() / "template.yaml"), function_id
        )
        queue = resources.queues[config.queue_logical_id]
        return cls(
            config,
            handler,
            queue.url,
            queue.arn,
            retry_visibility_seconds=retry_visibility_seconds,
            wait_seconds=wait_seconds,
        )

    def start(self) -> None:
        sqs = self._sqs or sqs_client()
        for number in range(self.config.max_concurrency):
            # A LocalFunction gives each worker its own module copy; a plain callable is shared.
            handler = self._handler.fresh() if isinstance(self._handler, LocalFunction) else self._handler
            worker = threading.Thread(
                target=self._work, args=(sqs, handler), name=f"{self.config.function_id}-poller-{number}", daemon=True
            )
            worker.start()
            self._workers.append(worker)
        logger.info(
            "poller started: %s ← %s (batch %s, %s at once, partial failures %s)",
            self.config.function_id,
            self._queue_url,
            self.config.batch_size,
            self.config.max_concurrency,
            self.config.report_batch_item_failures,
        )

    def stop(self, timeout: float | None = None) -> None:
        """Stop receiving; wait for invocations in flight (at most the function's timeout)."""
        self._stopping.set()
        limit = timeout if timeout is not None else self._wait_seconds + self.config.timeout_seconds + 5
        for worker in self._workers:
            worker.join(limit)
        self._workers.clear()

    def _work(self, sqs: Any, handler: Handler) -> None:
        while not self._stopping.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=self.config.batch_size,
                    WaitTimeSeconds=self._wait_seconds,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except (BotoCoreError, ClientError):
                if self._stopping.is_set():
                    return  # the services may already be gone at shutdown
                logger.exception("receive failed; retrying")
                self._stopping.wait(1)
                continue
            if not messages:
                continue
            if self._stopping.is_set():
                self._release(sqs, messages)
                return
            self._deliver(sqs, handler, messages)

    def _deliver(self, sqs: Any, handler: Handler, messages: list[dict[str, Any]]) -> None:
        message_ids = [m["MessageId"] for m in messages]
        context = LambdaContext(
            function_name=self.config.function_id,
            memory_limit_in_mb=self.config.memory_mb,
            timeout_seconds=self.config.timeout_seconds,
            aws_request_id=str(uuid.uuid4()),
        )
        try:
            result = handler(sqs_event(messages, self._queue_arn), context)
            failed = failed_message_ids(
                result, message_ids, report_batch_item_failures=self.config.report_batch_item_failures
            )
        except Exception:  # the invocation failed: Lambda deletes nothing and the batch comes back
            logger.exception("invocation failed; the batch stays on the queue", extra={"messages": len(messages)})
            failed = set(message_ids)
        succeeded = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(succeeded), MAX_SQS_BATCH):
            chunk = succeeded[start : start + MAX_SQS_BATCH]
            sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        if failed and self._retry_visibility_seconds is not None:
            self._change_visibility(
                sqs, [m for m in messages if m["MessageId"] in failed], self._retry_visibility_seconds
            )

    def _release(self, sqs: Any, messages: list[dict[str, Any]]) -> None:
        """Hand back messages received while stopping, untouched, for whoever polls next."""
        self._change_visibility(sqs, messages, 0)

    def _change_visibility(self, sqs: Any, messages: list[dict[str, Any]], seconds: int) -> None:
        try:
            sqs.change_message_visibility_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": seconds}
                    for i, m in enumerate(messages)
                ],
            )
        except (BotoCoreError, ClientError):
            logger.exception("could not change visibility; the queue's timeout applies")


def sqs_functions(template: dict[str, Any]) -> list[str]:
    """The functions of the template that an SQS queue feeds (each lane of the service)."""
    return [
        function_id
        for function_id in resources_of_type(template, "AWS::Serverless::Function")
        if any(e["Type"] == "SQS" for e in (function_properties(template, function_id).get("Events") or {}).values())
    ]


def start_pollers(
    resources: LocalResources, *, retry_visibility_seconds: int | None = None, wait_seconds: int = 2
) -> list[SqsPoller]:
    """A running poller for every SQS-fed function of the template, each with its own handler copies."""
    pollers = [
        SqsPoller.from_template(
            None,
            load_handler(None, function_id),
            resources,
            function_id=function_id,
            retry_visibility_seconds=retry_visibility_seconds,
            wait_seconds=wait_seconds,
        )
        for function_id in sqs_functions(resources.template)
    ]
    for poller in pollers:
        poller.start()
    return pollers
