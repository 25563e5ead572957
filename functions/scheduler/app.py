"""SchedulerFunction: EventBridge Scheduler wiring only (scheduled generation and the sweeper)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter

from couponmint.adapters.factory import codegen_queue, event_bus, job_queue, repositories
from couponmint.observability import logger, metrics, tracer
from couponmint.service.schedules import ScheduledGeneration, ScheduledInput, Sweep, run_scheduled_generation, sweep

SCHEDULED_INPUT: TypeAdapter[ScheduledGeneration | Sweep] = TypeAdapter(ScheduledInput)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    stores = repositories()
    match SCHEDULED_INPUT.validate_python(event):
        case ScheduledGeneration() as tick:
            job = run_scheduled_generation(stores.promotions, stores.jobs, stores.schedules, job_queue(), tick)
            return {"job_id": job.job_id, "status": job.status.value} if job else {"job_id": None}
        case Sweep() as asked:
            return sweep(
                stores.jobs, stores.batches, job_queue(), codegen_queue(), resume=asked.resume, events=event_bus()
            )
    raise AssertionError("unreachable")
