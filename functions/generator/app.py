"""GeneratorFunction: Powertools batch processor wiring only (SQS, ReportBatchItemFailures)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from couponmint.adapters.factory import batch_queue, coupon_table, export_store
from couponmint.config import get_settings
from couponmint.models.messages import AssembleJobMessage, GenerateBatchMessage, GenerateBatchRecord, PlanJobMessage
from couponmint.observability import logger, metrics, tracer
from couponmint.service import jobs
from couponmint.service.generation import complete_batch, give_up

# Report every failed record, even when all of them failed, rather than raising: Lambda then retries
# exactly those messages, and the local poller sees the same answer.
processor = BatchProcessor(event_type=EventType.SQS, model=GenerateBatchRecord, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: GenerateBatchRecord) -> None:
    message = record.body
    match message:
        case GenerateBatchMessage():
            generate_batch(message, receive_count=int(record.attributes.ApproximateReceiveCount))
        case PlanJobMessage():
            jobs.plan_job(coupon_table(), batch_queue(), message)
        case AssembleJobMessage():
            jobs.assemble_job(coupon_table(), export_store(), message)


def generate_batch(message: GenerateBatchMessage, *, receive_count: int) -> None:
    table = coupon_table()
    try:
        batch = complete_batch(table, export_store(), message, redelivered=receive_count > 1)
    except Exception as error:
        # The queue redrives the message to the DLQ after this receive: record why on the batch first.
        if receive_count >= max_receives():
            logger.exception("batch failed for good", batch_id=message.batch_id)
            failed = give_up(table, message, f"{type(error).__name__}: {error}")
            if failed is not None:
                jobs.after_batch(table, batch_queue(), failed)
        raise
    metrics.add_metric(name="CodesGenerated", unit=MetricUnit.Count, value=len(batch.codes))
    jobs.after_batch(table, batch_queue(), batch)


def max_receives() -> int:
    return get_settings().max_receive_count


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
