"""GeneratorFunction: Powertools batch processor wiring only (SQS, ReportBatchItemFailures)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from couponmint.adapters.factory import batch_queue, export_store, repositories
from couponmint.config import get_settings
from couponmint.models.messages import AssembleJobMessage, GenerateBatchMessage, GenerateBatchRecord, PlanJobMessage
from couponmint.observability import logger, metrics, tracer
from couponmint.service import generation, jobs

# Report every failed record, even when all of them failed, rather than raising: Lambda then retries
# exactly those messages, and the local poller sees the same answer.
processor = BatchProcessor(event_type=EventType.SQS, model=GenerateBatchRecord, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: GenerateBatchRecord) -> None:
    stores = repositories()
    match record.body:
        case GenerateBatchMessage() as message:
            batch = generation.run_batch_message(
                stores.batches,
                stores.promotions,
                stores.jobs,
                export_store(),
                batch_queue(),
                message,
                receive_count=int(record.attributes.ApproximateReceiveCount),
                max_receives=get_settings().max_receive_count,
            )
            metrics.add_metric(name="CodesGenerated", unit=MetricUnit.Count, value=len(batch.codes))
        case PlanJobMessage() as message:
            jobs.plan_job(stores.jobs, stores.batches, batch_queue(), message)
        case AssembleJobMessage() as message:
            jobs.assemble_job(stores.jobs, export_store(), message)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
