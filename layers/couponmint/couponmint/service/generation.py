"""Codegen on the generator side: complete one batch exactly once, whatever redelivery does.

The order is what makes it safe:
1. Generate the candidates, then write them onto the batch record (the write-ahead record) in the same
   transaction that claims the first of them: a redelivered message finds them and claims the same codes,
   never a second set. A codegen request's batch is created by that transaction (its message describes it).
2. Claim the rest store-wide, each with a conditional write that also accepts this batch's own earlier claim.
3. A code another batch holds is replaced on the record first (write-ahead again), then claimed.
4. Write the CSV export (it starts as soon as the candidates are recorded, and runs beside the claims), then
   mark the batch DONE with exactly its codes and count them, in one transaction that also claims the last
   codes of a codegen request's batch (`BatchStore.completion_room`).
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from couponmint.adapters.exports import batch_export_key, codes_csv
from couponmint.errors import BatchMissing, CodesTaken, CollisionsPersist, PromotionGone, StaleBatch
from couponmint.logic.formats import make_formatted_codes
from couponmint.models.events import batch_failed
from couponmint.models.jobs import JobStatus
from couponmint.models.messages import GenerateBatchMessage
from couponmint.models.records import BatchRecord, BatchStatus
from couponmint.observability import logger
from couponmint.service import jobs as job_service
from couponmint.service.codegen import new_batch_record
from couponmint.service.events import NO_EVENTS
from couponmint.service.ports import BatchStore, EventPublisher, Exports, JobStore, Now, PromotionStore, Queue

# Each round replaces the codes that collided; with the capacity guard's fill limit of 1 % the chance
# that one code needs this many rounds is below 1e-40.
MAX_CLAIM_ROUNDS = 20
# A codegen request's message older than this is not fresh from the API (the API waits at most 25 s): it may
# be a redelivery or a redrive from the dead-letter queue, so its batch's record is read before anything else.
READ_FIRST_AFTER = timedelta(seconds=30)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    """The message's batch as it ends this delivery, and whether this delivery finished it."""

    batch: BatchRecord
    finished_now: bool


def complete_batch(
    batches: BatchStore,
    promotions: PromotionStore,
    jobs: JobStore,
    exports: Exports,
    message: GenerateBatchMessage,
    *,
    redelivered: bool = False,
    now: Now = _utc_now,
    events: EventPublisher = NO_EVENTS,
) -> Outcome:
    """Complete the message's batch, or leave it as it is if it already finished.

    A codegen request's fresh message starts its batch without a read (the first transaction records it). A
    redelivered or old one (a message redriven from the dead-letter queue, say) reads the record first, so a
    batch already finished costs one read and no write.
    """
    if message.new is not None and not redelivered and now() - message.new.created < READ_FIRST_AFTER:
        batch = new_batch_record(message.store_hash, message.promotion_id, message.batch_id, message.new)
    else:
        batch = _recorded_batch(batches, message)
        if batch.status is BatchStatus.PENDING and _job_cancelled(jobs, batch):
            # A cancelled job starts no new batch.
            batches.cancel(batch)
            return Outcome(batches.get(batch.store_hash, batch.batch_id) or batch, finished_now=True)
    while not batch.status.finished:
        try:
            return Outcome(_advance(batches, promotions, exports, batch, now), finished_now=True)
        except StaleBatch:
            # Another delivery of this message moved the batch on; carry on from its state.
            logger.info("batch changed underneath, re-reading", batch_id=batch.batch_id)
            batch = _recorded_batch(batches, message)
        except PromotionGone:
            # Deleted since the request was accepted: no retry can make these codes.
            logger.info("promotion deleted before the batch started", batch_id=batch.batch_id)
            return Outcome(_fail(batches, message, "the promotion was deleted", events), finished_now=True)
    return Outcome(batch, finished_now=False)


def run_batch_message(
    batches: BatchStore,
    promotions: PromotionStore,
    jobs: JobStore,
    exports: Exports,
    queue: Queue,
    message: GenerateBatchMessage,
    *,
    receive_count: int,
    max_receives: int,
    events: EventPublisher = NO_EVENTS,
) -> Outcome:
    """Complete the message's batch and move its job on; on the last delivery of a failing message, record the
    batch FAILED (giving back the codes it claimed) and move its job on, before the error goes back to the
    queue, which then dead-letters the message. A batch failed for good, and a job that ends, is published to
    `events` (service/events.py).
    """
    try:
        outcome = complete_batch(
            batches, promotions, jobs, exports, message, redelivered=receive_count > 1, events=events
        )
    except Exception as error:
        if receive_count >= max_receives:
            logger.exception("batch failed for good", batch_id=message.batch_id)
            failed = _fail(batches, message, f"{type(error).__name__}: {error}", events)
            job_service.after_batch(jobs, batches, queue, failed, events=events)
        raise
    if outcome.batch.status.finished:
        # Also on a redelivery of a finished batch: the delivery that finished it may have stopped right after.
        job_service.after_batch(jobs, batches, queue, outcome.batch, events=events)
    return outcome


def _fail(batches: BatchStore, message: GenerateBatchMessage, reason: str, events: EventPublisher) -> BatchRecord:
    """Mark the message's batch FAILED for good, holding no code (recording a codegen request's batch that
    never started, so its 202's Location reads FAILED), and publish that it failed."""
    if message.new is not None:
        batches.put_once(new_batch_record(message.store_hash, message.promotion_id, message.batch_id, message.new))
    batches.fail(message.store_hash, message.batch_id, reason)
    failed = _recorded_batch(batches, message)
    if failed.status is BatchStatus.FAILED:
        events.publish(batch_failed(failed, _utc_now()))
    return failed


def _job_cancelled(jobs: JobStore, batch: BatchRecord) -> bool:
    """Whether `batch` belongs to a cancelled job (checked before it makes any code)."""
    if batch.job_id is None:
        return False
    job = jobs.get(batch.store_hash, batch.job_id)
    return job is not None and job.status is JobStatus.CANCELLED


def _recorded_batch(batches: BatchStore, message: GenerateBatchMessage) -> BatchRecord:
    """The batch's record; for a codegen request's batch not yet recorded, the one its message describes."""
    batch = batches.get(message.store_hash, message.batch_id)
    if batch is not None:
        return batch
    if message.new is not None:
        return new_batch_record(message.store_hash, message.promotion_id, message.batch_id, message.new)
    raise BatchMissing(message.batch_id)


def _advance(
    batches: BatchStore, promotions: PromotionStore, exports: Exports, batch: BatchRecord, now: Now
) -> BatchRecord:
    if batch.codes:
        # Started by an earlier delivery: claim all its codes again (its own claims pass).
        pending = list(batch.codes)
    else:
        batch = _start(batches, promotions, batch)
        pending = batch.codes[batches.first_claim_room(batch) :]
    key = batch_export_key(batch)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export") as beside:
        exported = batch.codes
        export = beside.submit(exports.put_csv, key, codes_csv(batch.code_records(exported)))
        for _ in range(MAX_CLAIM_ROUNDS):
            # The last claims may ride in the transaction that marks the batch DONE; the others go before it.
            split = max(0, len(pending) - batches.completion_room(batch))
            taken = batches.claim(batch, batch.code_records(pending[:split])) if split else set()
            if not taken:
                if batch.codes != exported:
                    # Codes were replaced after the export started: write it again with the final codes.
                    export.result()
                    exported = batch.codes
                    export = beside.submit(exports.put_csv, key, codes_csv(batch.code_records(exported)))
                export.result()  # DONE promises the export
                try:
                    done = batches.complete(batch, key, now(), batch.code_records(pending[split:]))
                except CodesTaken as last:
                    taken = last.codes
                else:
                    logger.info("batch done", batch_id=done.batch_id, codes=len(done.codes))
                    return done
            # Write the replacements ahead of claiming them, then claim again what is not known claimed.
            batch, pending = _replace(batches, batch, pending, taken)
    raise CollisionsPersist(f"codes of batch {batch.batch_id} kept colliding")


def _replace(
    batches: BatchStore, batch: BatchRecord, pending: list[str], taken: set[str]
) -> tuple[BatchRecord, list[str]]:
    """Replace codes another batch holds on the write-ahead record; returns it and the codes to claim."""
    replacements = _replacements(batch, taken, batch.codes)
    batch = batches.record_codes(batch, [replacements.get(code, code) for code in batch.codes])
    return batch, [replacements.get(code, code) for code in pending]


def _replacements(batch: BatchRecord, taken: set[str], candidates: list[str]) -> dict[str, str]:
    """A fresh code for each taken one, distinct from every candidate."""
    fresh = make_formatted_codes(batch.code_format.layout, len(taken), avoid=set(candidates))
    logger.info("replacing colliding codes", batch_id=batch.batch_id, replaced=len(taken))
    return dict(zip(sorted(taken), fresh, strict=True))


def _start(batches: BatchStore, promotions: PromotionStore, batch: BatchRecord) -> BatchRecord:
    """Write the candidates ahead and claim the first of them, in one transaction.

    Codes another batch holds make the transaction write nothing: they are replaced and it is tried again.
    """
    candidates = make_formatted_codes(batch.code_format.layout, batch.batch_size)
    first_id = promotions.reserve_ids(batch.store_hash, "code", batch.batch_size)
    for _ in range(MAX_CLAIM_ROUNDS):
        started = batch.claiming(candidates, first_id)
        first = started.code_records(candidates[: batches.first_claim_room(batch)])
        taken = batches.start_claiming(batch, started, first)
        if not taken:
            return started
        replacements = _replacements(batch, taken, candidates)
        candidates = [replacements.get(code, code) for code in candidates]
    raise CollisionsPersist(f"codes of batch {batch.batch_id} kept colliding")
