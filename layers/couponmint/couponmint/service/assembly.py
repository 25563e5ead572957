"""A finished job's CSV, assembled in parallel parts of one multipart upload.

The start message opens the upload once (recorded on the job: a second delivery that opened its own aborts it
and uses the recorded one) and sends a message for each part not yet uploaded. A part reads its run of batch
CSVs, uploads them as its part, and records its ETag on the job; the part whose record completes the set
completes the upload and the job. Every step may be delivered again: a part uploaded again replaces itself (the
same bytes, the same ETag), a completion that happened already is not an error, and the job moves to COMPLETED
(and is published) once. The sweeper resends the start message of a job stuck assembling, which sends the parts
still missing, or completes a job whose parts are all uploaded.
"""

from datetime import UTC, datetime

from couponmint.adapters.exports import CSV_HEADER, batch_export_key, codes_csv, job_export_key
from couponmint.errors import BatchMissing, UploadGone
from couponmint.logic.assembly import BATCHES_PER_PART, part_batches, part_count
from couponmint.models.events import job_completed
from couponmint.models.jobs import JobRecord, JobStatus
from couponmint.models.messages import AssembleJobMessage
from couponmint.models.records import BatchStatus
from couponmint.observability import logger
from couponmint.service.events import NO_EVENTS
from couponmint.service.jobs import job_batch
from couponmint.service.ports import BatchStore, EventPublisher, Exports, JobStore, Queue

HEADER = ",".join(CSV_HEADER).encode() + b"\n"


def assemble_job(
    jobs: JobStore,
    batches: BatchStore,
    exports: Exports,
    queue: Queue,
    message: AssembleJobMessage,
    *,
    batches_per_part: int = BATCHES_PER_PART,
    events: EventPublisher = NO_EVENTS,
) -> None:
    """Start the job's assembly (no `part`) or upload one part; see the module's description.

    A message that finds its job COMPLETED already (redelivered after a crash) publishes it again (same event).
    """
    job = jobs.get(message.store_hash, message.job_id)
    if job is not None and job.status is JobStatus.COMPLETED:
        events.publish(job_completed(job, job.completed or datetime.now(UTC)))
        return
    if job is None or job.status is not JobStatus.ASSEMBLING:
        return
    if message.part is None:
        start_assembly(jobs, exports, queue, job, batches_per_part, events)
    elif message.upload_id is not None and message.upload_id == job.assembly_upload_id:
        assemble_part(jobs, batches, exports, job, message.part, events)


def start_assembly(
    jobs: JobStore, exports: Exports, queue: Queue, job: JobRecord, batches_per_part: int, events: EventPublisher
) -> None:
    """Open the job's upload (once) and send a message for each part not yet uploaded; complete the job when
    every part is uploaded already (its completion was lost)."""
    key = _export_key(job)
    if job.assembly_upload_id is None:
        upload_id = exports.start_upload(key)
        if jobs.record_upload(job, upload_id, batches_per_part):
            job = job.model_copy(
                update={
                    "assembly_upload_id": upload_id,
                    "assembly_part_batches": batches_per_part,
                    "assembly_parts": {},
                }
            )
        else:
            # Another delivery recorded its upload first: that one is the job's.
            exports.abort_upload(key, upload_id)
            recorded = jobs.get(job.store_hash, job.job_id)
            if recorded is None or recorded.status is not JobStatus.ASSEMBLING or not recorded.assembly_upload_id:
                return
            job = recorded
    missing = _missing_parts(job)
    if not missing:
        complete_job(jobs, exports, job, events)
        return
    recorded_id = job.assembly_upload_id
    queue.send_many(
        [
            AssembleJobMessage(store_hash=job.store_hash, job_id=job.job_id, part=number, upload_id=recorded_id)
            for number in missing
        ]
    )
    logger.info("job assembly started", job_id=job.job_id, parts=_parts_total(job), sent=len(missing))


def assemble_part(
    jobs: JobStore, batches: BatchStore, exports: Exports, job: JobRecord, number: int, events: EventPublisher
) -> None:
    """Upload part `number` of the job's CSV (part 1 opens with the header) and record it; whoever records the
    last part completes the job."""
    upload_id, per_part = job.assembly_upload_id, job.assembly_part_batches
    assert upload_id is not None and per_part is not None
    planned = {
        batch_export_key(batch): batch.batch_id
        for batch in (job_batch(job, index) for index in _batches_of(job, number))
    }

    def rebuild(batch_key: str) -> bytes:
        batch = batches.get(job.store_hash, planned[batch_key])
        if batch is None or batch.status is not BatchStatus.DONE:
            raise BatchMissing(planned[batch_key])
        logger.info("rebuilding a missing batch CSV", job_id=job.job_id, batch_id=batch.batch_id)
        return codes_csv(batch.code_records())

    rows = [csv[csv.index(b"\n") + 1 :] for csv in exports.read_all(list(planned), rebuild)]
    body = b"".join([HEADER, *rows] if number == 1 else rows)
    try:
        etag = exports.upload_part(_export_key(job), upload_id, number, body)
    except UploadGone:
        # Completed meanwhile (this part delivered again after the last one), or lost: judge from the job.
        current = jobs.get(job.store_hash, job.job_id)
        if current is None or current.status is not JobStatus.ASSEMBLING or current.assembly_upload_id != upload_id:
            return
        if _missing_parts(current):
            raise
        complete_job(jobs, exports, current, events)
        return
    recorded = jobs.record_part(job, upload_id, number, etag)
    logger.info("job CSV part uploaded", job_id=job.job_id, part=number, bytes=len(body))
    if recorded is not None and not _missing_parts(recorded):
        complete_job(jobs, exports, recorded, events)


def complete_job(jobs: JobStore, exports: Exports, job: JobRecord, events: EventPublisher) -> None:
    """Every part is uploaded: complete the upload (again is harmless), and the job, once."""
    assert job.assembly_upload_id is not None
    key = _export_key(job)
    exports.complete_upload(key, job.assembly_upload_id, job.assembly_parts or {})
    completed = datetime.now(UTC)
    moved = jobs.move(
        job.store_hash,
        job.job_id,
        JobStatus.COMPLETED,
        {JobStatus.ASSEMBLING},
        export_key=key,
        completed=completed.isoformat(),
        error=None,
    )
    if moved:
        events.publish(job_completed(job, completed))
        logger.info("job completed", job_id=job.job_id, codes=job.generated, parts=_parts_total(job))


def with_export(jobs: JobStore, exports: Exports, queue: Queue, job: JobRecord) -> JobRecord:
    """The job as a client may see it: a COMPLETED job whose CSV is gone from S3 (an operator's deletion, a local
    stack's restart) is assembled again from DynamoDB and shown ASSEMBLING meanwhile, never with a dead link."""
    if job.status is not JobStatus.COMPLETED or job.export_key is None or exports.exists(job.export_key):
        return job
    if jobs.reopen_assembly(job, "its CSV was missing and is being made again"):
        queue.send(AssembleJobMessage(store_hash=job.store_hash, job_id=job.job_id))
        logger.info("job CSV missing, assembling again", job_id=job.job_id)
    return jobs.get(job.store_hash, job.job_id) or job


def _export_key(job: JobRecord) -> str:
    return job_export_key(job.store_hash, job.promotion_id, job.job_id)


def _parts_total(job: JobRecord) -> int:
    return part_count(job.batches_total, job.assembly_part_batches or BATCHES_PER_PART)


def _batches_of(job: JobRecord, number: int) -> range:
    return part_batches(number, job.batches_total, job.assembly_part_batches or BATCHES_PER_PART)


def _missing_parts(job: JobRecord) -> list[int]:
    """The part numbers whose ETag the job has not recorded."""
    done = job.assembly_parts or {}
    return [number for number in range(1, _parts_total(job) + 1) if number not in done]
