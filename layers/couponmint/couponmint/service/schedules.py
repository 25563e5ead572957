"""What the EventBridge schedules run: scheduled generation (a job per tick) and the sweeper."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from couponmint.models.events import job_failed
from couponmint.models.jobs import JobRecord, JobRequest, JobStatus, job_batch_id
from couponmint.models.messages import AssembleJobMessage, GenerateBatchMessage, NewBatch, PlanJobMessage
from couponmint.models.records import BatchStatus
from couponmint.observability import logger
from couponmint.service import jobs
from couponmint.service.events import NO_EVENTS
from couponmint.service.ports import BatchStore, EventPublisher, JobStore, PromotionStore, Queue, ScheduleStore

# A job that has not moved for this long is nudged again by the sweeper (its message may have been lost).
STALE_AFTER = timedelta(minutes=5)
# A job that has not moved for this long cannot finish: the sweeper marks it FAILED.
GIVE_UP_AFTER = timedelta(hours=24)
# Assembly makes no progress marks while it runs: it is sent again only after the job lane's timeout has
# surely passed, and given up after a few such attempts.
ASSEMBLY_STALE_AFTER = timedelta(minutes=15)
ASSEMBLY_GIVE_UP_AFTER = timedelta(hours=1)


class ScheduledGeneration(JobRequest):
    """A schedule's input: the schedule (its id), store, promotion, quantity and format, and the tick it is for."""

    action: Literal["generate"]
    schedule: Annotated[str, Field(min_length=1, max_length=64)]
    store_hash: Annotated[str, Field(min_length=1, max_length=64)]
    promotion_id: int
    scheduled_time: Annotated[str, Field(min_length=1)]


class Sweep(BaseModel):
    action: Literal["sweep"]
    # Resume everything unfinished at once, whatever its last progress (a local stack that was just started
    # knows nothing is in flight); the template's schedule leaves it out.
    resume: bool = False


ScheduledInput = Annotated[ScheduledGeneration | Sweep, Field(discriminator="action")]


def tick_job_id(schedule: str, scheduled_time: str) -> str:
    """One job per schedule and tick, however often the tick is delivered."""
    return hashlib.sha256(f"{schedule}|{scheduled_time}".encode()).hexdigest()[:32]


def run_scheduled_generation(
    promotions: PromotionStore, job_store: JobStore, schedules: ScheduleStore, queue: Queue, tick: ScheduledGeneration
) -> JobRecord | None:
    """Start the tick's job (one however often the tick is delivered) and point the schedule at it.

    A tick of a schedule that is gone (deleted while EventBridge Scheduler had the tick in flight) starts nothing.
    """
    if schedules.get(tick.store_hash, tick.promotion_id, tick.schedule) is None:
        logger.info("tick of a deleted schedule: nothing to do", schedule=tick.schedule)
        return None
    request = JobRequest.model_validate(tick.model_dump(include=set(JobRequest.model_fields)))
    job, new = jobs.start_job(
        promotions,
        job_store,
        queue,
        tick.store_hash,
        tick.promotion_id,
        request,
        job_id=tick_job_id(tick.schedule, tick.scheduled_time),
        source=f"schedule:{tick.schedule}",
        schedule_id=tick.schedule,
    )
    schedules.set_last_job(tick.store_hash, tick.promotion_id, tick.schedule, job.job_id)
    logger.info("scheduled generation", schedule=tick.schedule, job_id=job.job_id, new=new)
    return job


def sweep(
    job_store: JobStore,
    batches: BatchStore,
    queue: Queue,
    codegen_queue: Queue,
    now: datetime | None = None,
    *,
    resume: bool = False,
    events: EventPublisher = NO_EVENTS,
) -> dict[str, int]:
    """Finish jobs whose batches are all done, nudge jobs whose next step did not come, re-drive their batches
    and codegen requests' batches whose message was lost, and mark FAILED what cannot finish.

    A job is judged by its last progress (a batch finished or released, assembly begun), never by its age: a
    large job that keeps moving is left alone, however long it runs. `resume` treats everything as stale.
    """
    moment = now or datetime.now(UTC)
    stale, assembly_stale = (timedelta(0), timedelta(0)) if resume else (STALE_AFTER, ASSEMBLY_STALE_AFTER)
    counts = {"finished": 0, "replanned": 0, "reassembled": 0, "redriven": 0, "failed": 0}
    counts["redriven"] += redrive_codegen_batches(batches, codegen_queue, moment - stale)
    for job in job_store.open():
        idle = moment - job.last_progress
        if idle > (ASSEMBLY_GIVE_UP_AFTER if job.status is JobStatus.ASSEMBLING else GIVE_UP_AFTER):
            given_up = job_store.move(
                job.store_hash,
                job.job_id,
                JobStatus.FAILED,
                {JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.ASSEMBLING},
                error=f"{job.status.value.lower()} without progress for {idle.total_seconds() / 3600:.1f} h",
                completed=moment.isoformat(),
            )
            if given_up:
                events.publish(job_failed(job, moment))
            counts["failed"] += int(given_up)
        elif job.status is JobStatus.RUNNING and job.batches_done >= job.batches_total:
            jobs.finish_job(job_store, queue, job, events=events)
            counts["finished"] += 1
        elif idle <= (assembly_stale if job.status is JobStatus.ASSEMBLING else stale):
            continue
        elif job.status is JobStatus.QUEUED:
            queue.send(PlanJobMessage(store_hash=job.store_hash, job_id=job.job_id))
            counts["replanned"] += 1
        elif job.status is JobStatus.RUNNING:
            counts["redriven"] += redrive_batches(job_store, batches, queue, job)
        elif job.status is JobStatus.ASSEMBLING:
            queue.send(AssembleJobMessage(store_hash=job.store_hash, job_id=job.job_id))
            counts["reassembled"] += 1
    logger.info("sweep done", extra=counts)
    return counts


def redrive_batches(job_store: JobStore, batches: BatchStore, queue: Queue, job: JobRecord) -> int:
    """Send again every released batch of a stalled job that has not finished (recording any whose record is
    missing), and release batches up to the job's window again if some release was lost.

    Harmless for a batch that is in fact still running: a second delivery finishes the same codes (the
    write-ahead record), and the batch's version check keeps the two from writing twice.
    """
    indexes = range(job.batches_released)
    statuses = batches.statuses(job.store_hash, [job_batch_id(job.job_id, index) for index in indexes])
    unfinished = [
        index
        for index in indexes
        if statuses.get(job_batch_id(job.job_id, index)) in (None, BatchStatus.PENDING, BatchStatus.CLAIMING)
    ]
    jobs.send_batches(batches, queue, job, unfinished)
    topped_up = jobs.fill_window(job_store, batches, queue, job.store_hash, job.job_id)
    return len(unfinished) + len(topped_up)


def redrive_codegen_batches(batches: BatchStore, codegen_queue: Queue, started_before: datetime) -> int:
    """Send again the message of each codegen request's batch still unfinished that started before
    `started_before` (its client got a 202 and its Location; its message was lost). The generator reads such an
    old batch's record first, so one that is in fact running is finished once."""
    stale = [batch for batch in batches.open_codegen_batches() if batch.created < started_before]
    codegen_queue.send_many(
        [
            GenerateBatchMessage(
                store_hash=batch.store_hash,
                promotion_id=batch.promotion_id,
                batch_id=batch.batch_id,
                new=NewBatch(
                    batch_size=batch.batch_size,
                    max_uses=batch.max_uses,
                    max_uses_per_customer=batch.max_uses_per_customer,
                    code_format=batch.code_format,
                    created=batch.created,
                ),
            )
            for batch in stale
        ]
    )
    return len(stale)
