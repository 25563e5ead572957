"""Bulk jobs: record, release 250-code batches a window at a time, finish (service/assembly.py makes the CSV),
cancel.

A job keeps at most its window of batches in flight: it starts with that many, and each batch that finishes
releases the next. A small job of another store started meanwhile therefore waits behind a window of this
job's messages, not behind all of them.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from couponmint.errors import NotAllowed, NotFound
from couponmint.logic.pagination import offset_page
from couponmint.models.codegen import CodeFormat
from couponmint.models.events import job_failed
from couponmint.models.jobs import JOB_WINDOW, JobRecord, JobRequest, JobStatus, job_batch_id
from couponmint.models.messages import AssembleJobMessage, GenerateBatchMessage, PlanJobMessage
from couponmint.models.records import BatchRecord, BatchStatus
from couponmint.observability import logger
from couponmint.service.codegen import check_generation
from couponmint.service.events import NO_EVENTS
from couponmint.service.ports import BatchStore, EventPublisher, JobStore, PromotionStore, Queue

# Conditional releases tried before giving up to the sweeper (each failure means another caller released).
RELEASE_ATTEMPTS = 5


def start_job(
    promotions: PromotionStore,
    jobs: JobStore,
    queue: Queue,
    store_hash: str,
    promotion_id: int,
    request: JobRequest,
    *,
    job_id: str | None = None,
    source: str = "api",
    schedule_id: str | None = None,
) -> tuple[JobRecord, bool]:
    """Record a QUEUED job and queue its planning; returns the job and whether it is new.

    With a `job_id` given (a scheduled tick), a job that already exists is returned as it is.
    """
    check_generation(promotions, store_hash, promotion_id, request.code_format, request.quantity)
    job = JobRecord(
        store_hash=store_hash,
        promotion_id=promotion_id,
        job_id=job_id or uuid.uuid4().hex,
        status=JobStatus.QUEUED,
        quantity=request.quantity,
        max_uses=request.max_uses,
        max_uses_per_customer=request.max_uses_per_customer,
        code_format=request.code_format,
        created=datetime.now(UTC),
        batches_total=JobRecord.batches_for(request.quantity),
        source=source,
        schedule_id=schedule_id,
    )
    if not jobs.put(job):
        existing = jobs.get(store_hash, job.job_id)
        assert existing is not None
        return existing, False
    queue.send(PlanJobMessage(store_hash=store_hash, job_id=job.job_id))
    return job, True


def plan_job(
    jobs: JobStore, batches: BatchStore, queue: Queue, message: PlanJobMessage, *, window: int = JOB_WINDOW
) -> None:
    """Start a recorded job: move it to RUNNING with its window of batches in flight (the job lane's setting,
    kept for the job's life) and release its first window of batches (once)."""
    job = jobs.get(message.store_hash, message.job_id)
    if job is None or job.status.finished:
        return
    jobs.move(job.store_hash, job.job_id, JobStatus.RUNNING, {JobStatus.QUEUED}, window=window)
    released = fill_window(jobs, batches, queue, job.store_hash, job.job_id)
    logger.info("job started", job_id=job.job_id, released=len(released), of=job.batches_total)


def fill_window(jobs: JobStore, batches: BatchStore, queue: Queue, store_hash: str, job_id: str) -> range:
    """Release batches until the job has its window in flight (or none left), and send them.

    What is in flight follows from the job's counters (released less done), so calling this again (a
    redelivery, the sweeper) releases nothing more; a concurrent caller makes the conditional release fail, and
    the job is read and judged again.
    """
    return _fill_window(jobs, batches, queue, store_hash, job_id)[1]


def _fill_window(
    jobs: JobStore, batches: BatchStore, queue: Queue, store_hash: str, job_id: str
) -> tuple[JobRecord | None, range]:
    """fill_window's work; also returns the job as last read (before its release, which changes no other
    counter), so that a finished batch's caller need not read it again."""
    job = None
    for _ in range(RELEASE_ATTEMPTS):
        job = jobs.get(store_hash, job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return job, range(0)
        wanted = min(job.batches_total, job.batches_done + job.batches_in_flight) - job.batches_released
        if wanted <= 0:
            return job, range(0)
        released = jobs.release(job, wanted)
        if released:
            send_batches(batches, queue, job, released)
            return job, released
    return job, range(0)


def send_batches(batches: BatchStore, queue: Queue, job: JobRecord, indexes: Sequence[int]) -> None:
    """Record the job's batches `indexes` (unless recorded already) and send their messages to the job lane."""
    for index in indexes:
        batches.put_once(job_batch(job, index))
    queue.send_many(
        [
            GenerateBatchMessage(store_hash=job.store_hash, promotion_id=job.promotion_id, batch_id=batch_id)
            for batch_id in (job_batch_id(job.job_id, index) for index in indexes)
        ]
    )


def job_batch(job: JobRecord, index: int) -> BatchRecord:
    """The job's batch `index` as planned (its key and size; not read from the table)."""
    return BatchRecord(
        store_hash=job.store_hash,
        promotion_id=job.promotion_id,
        batch_id=job_batch_id(job.job_id, index),
        status=BatchStatus.PENDING,
        batch_size=job.batch_size_of(index),
        max_uses=job.max_uses,
        max_uses_per_customer=job.max_uses_per_customer,
        code_format=CodeFormat.model_validate(job.code_format.model_dump()),
        created=datetime.now(UTC),
        job_id=job.job_id,
    )


def after_batch(
    jobs: JobStore, batches: BatchStore, queue: Queue, batch: BatchRecord, *, events: EventPublisher = NO_EVENTS
) -> None:
    """A batch of a job has finished: release the job's next batches, or, after its last one, queue the CSV's
    assembly or mark the job FAILED (again harmless for a redelivered batch)."""
    if batch.job_id is None:
        return
    # The job as read after this batch was counted (its completion came first): when it shows every batch done,
    # the job is finished here (finish_job's conditional move does it once, whichever last batch gets there).
    job, _ = _fill_window(jobs, batches, queue, batch.store_hash, batch.job_id)
    if job is not None:
        finish_job(jobs, queue, job, events=events)


def finish_job(jobs: JobStore, queue: Queue, job: JobRecord, *, events: EventPublisher = NO_EVENTS) -> None:
    """A RUNNING job whose batches have all finished: queue its CSV's assembly, or mark it FAILED (and publish
    that; a job found FAILED with every batch done, by a redelivered last batch, is published again)."""
    if job.batches_done < job.batches_total:
        return
    if job.status is JobStatus.FAILED and job.failed:
        events.publish(job_failed(job, job.completed or datetime.now(UTC)))
        return
    if job.status is not JobStatus.RUNNING:
        return
    if job.failed:
        failed = jobs.move(
            job.store_hash,
            job.job_id,
            JobStatus.FAILED,
            {JobStatus.RUNNING},
            error=f"{job.failed} of {job.quantity} codes could not be made",
            completed=_now(),
        )
        if failed:
            events.publish(job_failed(job, datetime.now(UTC)))
    elif jobs.move(job.store_hash, job.job_id, JobStatus.ASSEMBLING, {JobStatus.RUNNING}, progressed=_now()):
        queue.send(AssembleJobMessage(store_hash=job.store_hash, job_id=job.job_id))


def find_job(jobs: JobStore, store_hash: str, promotion_id: int, job_id: str) -> JobRecord:
    job = jobs.get(store_hash, job_id)
    if job is None or job.promotion_id != promotion_id:
        raise NotFound(f"job {job_id} does not exist")
    return job


def list_jobs(
    promotions: PromotionStore, jobs: JobStore, store_hash: str, promotion_id: int, page: int, limit: int
) -> tuple[list[JobRecord], dict[str, Any]]:
    """A page of a promotion's jobs, newest first, and its `meta`; an unknown promotion is NotFound."""
    if promotions.get(store_hash, promotion_id) is None:
        raise NotFound(f"promotion {promotion_id} does not exist")
    return offset_page(jobs.of_promotion(store_hash, promotion_id), page, limit)


def cancel_job(jobs: JobStore, store_hash: str, promotion_id: int, job_id: str) -> JobRecord:
    """Stop a job: no new batch starts; codes already made stay (and are counted)."""
    job = find_job(jobs, store_hash, promotion_id, job_id)
    moved = jobs.move(store_hash, job_id, JobStatus.CANCELLED, {JobStatus.QUEUED, JobStatus.RUNNING}, completed=_now())
    if not moved and job.status is not JobStatus.CANCELLED:
        raise NotAllowed(f"job {job_id} is {job.status.value} and can no longer be cancelled")
    return find_job(jobs, store_hash, promotion_id, job_id)


def _now() -> str:
    return datetime.now(UTC).isoformat()
