"""What the EventBridge schedules run: scheduled generation (a job per tick) and the sweeper."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from couponmint.adapters.queue import BatchQueue
from couponmint.adapters.table import CouponTable
from couponmint.models.jobs import JobRecord, JobRequest, JobStatus
from couponmint.models.messages import AssembleJobMessage, PlanJobMessage
from couponmint.observability import logger
from couponmint.service import jobs

# A job that has not moved for this long is nudged again by the sweeper (its message may have been lost).
STALE_AFTER = timedelta(minutes=5)


class ScheduledGeneration(JobRequest):
    """A schedule's input: store, promotion, quantity and format, and the tick it is for."""

    action: Literal["generate"]
    schedule: Annotated[str, Field(min_length=1, max_length=64)]
    store_hash: Annotated[str, Field(min_length=1, max_length=64)]
    promotion_id: int
    scheduled_time: Annotated[str, Field(min_length=1)]


class Sweep(BaseModel):
    action: Literal["sweep"]


ScheduledInput = Annotated[ScheduledGeneration | Sweep, Field(discriminator="action")]


def tick_job_id(schedule: str, scheduled_time: str) -> str:
    """One job per schedule and tick, however often the tick is delivered."""
    return hashlib.sha256(f"{schedule}|{scheduled_time}".encode()).hexdigest()[:32]


def run_scheduled_generation(table: CouponTable, queue: BatchQueue, tick: ScheduledGeneration) -> JobRecord:
    request = JobRequest.model_validate(tick.model_dump(include=set(JobRequest.model_fields)))
    job, new = jobs.start_job(
        table,
        queue,
        tick.store_hash,
        tick.promotion_id,
        request,
        job_id=tick_job_id(tick.schedule, tick.scheduled_time),
        source=f"schedule:{tick.schedule}",
    )
    logger.info("scheduled generation", schedule=tick.schedule, job_id=job.job_id, new=new)
    return job


def sweep(table: CouponTable, queue: BatchQueue, now: datetime | None = None) -> dict[str, int]:
    """Finish jobs whose batches are all done, and nudge jobs whose next step did not come."""
    moment = now or datetime.now(UTC)
    counts = {"finished": 0, "replanned": 0, "reassembled": 0}
    for job in table.open_jobs():
        stale = moment - job.created > STALE_AFTER
        if job.status is JobStatus.RUNNING and job.batches_done >= job.batches_total:
            jobs.finish_job(table, queue, job)
            counts["finished"] += 1
        elif stale and job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and job.batches_planned < job.batches_total:
            queue.send(PlanJobMessage(store_hash=job.store_hash, job_id=job.job_id, start_index=job.batches_planned))
            counts["replanned"] += 1
        elif stale and job.status is JobStatus.ASSEMBLING:
            queue.send(AssembleJobMessage(store_hash=job.store_hash, job_id=job.job_id))
            counts["reassembled"] += 1
    logger.info("sweep done", extra=counts)
    return counts
