"""GeneratorFunction and JobFunction: Powertools batch processor wiring only (SQS, ReportBatchItemFailures).

Both lanes run this handler: the interactive lane gets codegen requests' batches, the job lane bulk jobs'
batches, their start and their assembly (in parts); whatever a job's batch queues next goes to the job lane.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from couponmint.adapters.factory import event_bus, export_store, job_queue, repositories
from couponmint.config import get_settings
from couponmint.models.messages import AssembleJobMessage, GenerateBatchMessage, GenerateBatchRecord, PlanJobMessage
from couponmint.models.records import BatchStatus
from couponmint.observability import logger, metrics, tracer
from couponmint.service import assembly, generation, jobs

# Report every failed record, even when all of them failed, rather than raising: Lambda then retries
# exactly those messages, and the local poller sees the same answer.
processor = BatchProcessor(event_type=EventType.SQS, model=GenerateBatchRecord, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: GenerateBatchRecord) -> None:
    stores = repositories()
    match record.body:
        case GenerateBatchMessage() as message:
            outcome = generation.run_batch_message(
                stores.batches,
                stores.promotions,
                stores.jobs,
                export_store(),
                job_queue(),
                message,
                receive_count=int(record.attributes.ApproximateReceiveCount),
                max_receives=get_settings().max_receive_count,
                events=event_bus(),
            )
            if outcome.finished_now and outcome.batch.status is BatchStatus.DONE:
                # Counted by the delivery that finished the batch only, not again on a redelivery.
                metrics.add_metric(name="CodesGenerated", unit=MetricUnit.Count, value=len(outcome.batch.codes))
        case PlanJobMessage() as message:
            jobs.plan_job(stores.jobs, stores.batches, job_queue(), message, window=get_settings().job_window)
        case AssembleJobMessage() as message:
            assembly.assemble_job(
                stores.jobs,
                stores.batches,
                export_store(),
                job_queue(),
                message,
                batches_per_part=get_settings().assembly_batches_per_part,
                events=event_bus(),
            )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
