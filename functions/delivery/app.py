"""DeliveryFunction: webhooks, wiring only (SQS batch processor, ReportBatchItemFailures).

Its queue holds two kinds of message: events, put there by the EventBridge rule on the deployment's bus, which
are fanned out to the store's matching hooks; and the deliveries that makes, each POSTed to its hook, signed,
and held back for its backoff when it fails.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter

from couponmint.adapters.factory import delivery_queue, repositories
from couponmint.adapters.webhooks import WebhookSender, resolve_host
from couponmint.config import get_settings
from couponmint.models.events import BusEvent, DeliveryMessage
from couponmint.observability import logger, metrics, tracer
from couponmint.service import deliveries

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
QUEUED: TypeAdapter[BusEvent | DeliveryMessage] = TypeAdapter(BusEvent | DeliveryMessage)
# Each call to a destination gives up after this long without an answer.
SENDER = WebhookSender(timeout_seconds=10.0)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    settings = get_settings()
    hooks = repositories().hooks
    match QUEUED.validate_json(record.body):
        case BusEvent() as published:
            deliveries.fan_out(hooks, delivery_queue(), published.detail)
        case DeliveryMessage() as message:
            deliveries.deliver_or_retry_later(
                lambda: deliveries.deliver(
                    hooks, SENDER, message, allow_local_http=settings.hook_allow_local_http, resolve=resolve_host
                ),
                lambda seconds: delivery_queue().retry_later(record.receipt_handle, seconds),
                attempt=int(record.attributes.approximate_receive_count),
                fixed_delay=settings.delivery_retry_seconds,
            )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
