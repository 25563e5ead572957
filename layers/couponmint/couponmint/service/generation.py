"""Codegen on the generator side: complete one batch exactly once, whatever redelivery does.

The order is what makes it safe:
1. Generate the candidates, then write them onto the batch record (the write-ahead record) in the same
   transaction that claims the first of them: a redelivered message finds them and claims the same codes,
   never a second set. A codegen request's batch is created by that transaction (its message describes it).
2. Claim the rest store-wide, each with a conditional write that also accepts this batch's own earlier claim.
3. A code another batch holds is replaced on the record first (write-ahead again), then claimed.
4. Write the CSV export (it starts as soon as the candidates are recorded, and runs beside the claims), then
   mark the batch DONE with exactly its codes and count them, in one transaction that also claims the last
   codes of a codegen request's batch (`CouponTable.completion_room`).
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from couponmint.adapters.exports import ExportStore, batch_export_key, codes_csv
from couponmint.adapters.table import MAX_TRANSACTION_ITEMS, CodesTaken, CouponTable, StaleBatch
from couponmint.logic.codes import alphabet_without, make_codes
from couponmint.models.messages import GenerateBatchMessage
from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord
from couponmint.observability import logger
from couponmint.service.codegen import new_batch_record
from couponmint.service.jobs import job_cancelled

# Each round replaces the codes that collided; with the capacity guard's fill limit of 1 % the chance
# that one code needs this many rounds is below 1e-40.
MAX_CLAIM_ROUNDS = 20
# The codes claimed in the transaction that records the batch (which takes the transaction's last item).
FIRST_CLAIMS = MAX_TRANSACTION_ITEMS - 1
FINISHED = (BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.CANCELLED)


class BatchMissing(Exception):
    """The message names a batch that does not exist (never retried into success)."""


class CollisionsPersist(Exception):
    """Codes kept colliding: the format's space is nearly full."""


def complete_batch(
    table: CouponTable,
    exports: ExportStore,
    message: GenerateBatchMessage,
    *,
    redelivered: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BatchRecord:
    """Complete the message's batch, or return it as it is if it already finished.

    A codegen request's batch on its first delivery starts from its message (no read: the first transaction
    records it); a redelivered one reads its record first, so a batch already done costs one read.
    """
    if message.new is not None and not redelivered:
        batch = new_batch_record(message.store_hash, message.promotion_id, message.batch_id, message.new)
    else:
        batch = _recorded_batch(table, message)
        if batch.status is BatchStatus.PENDING and job_cancelled(table, batch):
            # A cancelled job starts no new batch.
            table.cancel_batch(batch)
            return table.get_batch(batch.store_hash, batch.batch_id) or batch
    while batch.status not in FINISHED:
        try:
            return _advance(table, exports, batch, now)
        except StaleBatch:
            # Another delivery of this message moved the batch on; carry on from its state.
            logger.info("batch changed underneath, re-reading", batch_id=batch.batch_id)
            batch = _recorded_batch(table, message)
    return batch


def give_up(table: CouponTable, message: GenerateBatchMessage, reason: str) -> BatchRecord | None:
    """Mark the message's batch FAILED for good (recording a codegen request's batch that never started)."""
    if message.new is not None:
        table.put_batch_once(new_batch_record(message.store_hash, message.promotion_id, message.batch_id, message.new))
    table.fail_batch(message.store_hash, message.batch_id, reason)
    return table.get_batch(message.store_hash, message.batch_id)


def _recorded_batch(table: CouponTable, message: GenerateBatchMessage) -> BatchRecord:
    """The batch's record; for a codegen request's batch not yet recorded, the one its message describes."""
    batch = table.get_batch(message.store_hash, message.batch_id)
    if batch is not None:
        return batch
    if message.new is not None:
        return new_batch_record(message.store_hash, message.promotion_id, message.batch_id, message.new)
    raise BatchMissing(message.batch_id)


def _advance(table: CouponTable, exports: ExportStore, batch: BatchRecord, now: Callable[[], datetime]) -> BatchRecord:
    if batch.codes:
        # Started by an earlier delivery: claim all its codes again (its own claims pass).
        pending = list(batch.codes)
    else:
        batch = _start(table, batch)
        pending = batch.codes[FIRST_CLAIMS:]
    key = batch_export_key(batch.store_hash, batch.promotion_id, batch.batch_id)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export") as beside:
        exported = batch.codes
        export = beside.submit(exports.put_csv, key, codes_csv(_code_records(batch, exported)))
        for _ in range(MAX_CLAIM_ROUNDS):
            # The last claims may ride in the transaction that marks the batch DONE; the others go before it.
            split = max(0, len(pending) - table.completion_room(batch))
            taken = table.claim_codes(batch, _code_records(batch, pending[:split])) if split else set()
            if not taken:
                if batch.codes != exported:
                    # Codes were replaced after the export started: write it again with the final codes.
                    export.result()
                    exported = batch.codes
                    export = beside.submit(exports.put_csv, key, codes_csv(_code_records(batch, exported)))
                export.result()  # DONE promises the export
                try:
                    done = table.complete_batch(batch, key, now(), _code_records(batch, pending[split:]))
                except CodesTaken as last:
                    taken = last.codes
                else:
                    logger.info("batch done", batch_id=done.batch_id, codes=len(done.codes))
                    return done
            # Write the replacements ahead of claiming them, then claim again what is not known claimed.
            batch, pending = _replace(table, batch, pending, taken)
    raise CollisionsPersist(f"codes of batch {batch.batch_id} kept colliding")


def _replace(
    table: CouponTable, batch: BatchRecord, pending: list[str], taken: set[str]
) -> tuple[BatchRecord, list[str]]:
    """Replace codes another batch holds on the write-ahead record; returns it and the codes to claim."""
    replacements = _replacements(batch, taken, batch.codes)
    batch = table.record_batch_codes(batch, [replacements.get(code, code) for code in batch.codes])
    return batch, [replacements.get(code, code) for code in pending]


def _replacements(batch: BatchRecord, taken: set[str], candidates: list[str]) -> dict[str, str]:
    """A fresh code for each taken one, distinct from every candidate."""
    fmt = batch.code_format
    alphabet = alphabet_without(fmt.exclude_characters)
    fresh = make_codes(alphabet, fmt.code_length, len(taken), fmt.head, fmt.tail, avoid=set(candidates))
    logger.info("replacing colliding codes", batch_id=batch.batch_id, replaced=len(taken))
    return dict(zip(sorted(taken), fresh, strict=True))


def _start(table: CouponTable, batch: BatchRecord) -> BatchRecord:
    """Write the candidates ahead and claim the first of them, in one transaction.

    Codes another batch holds make the transaction write nothing: they are replaced and it is tried again.
    """
    fmt = batch.code_format
    alphabet = alphabet_without(fmt.exclude_characters)
    candidates = make_codes(alphabet, fmt.code_length, batch.batch_size, fmt.head, fmt.tail)
    first_id = table.reserve_ids(batch.store_hash, "code", batch.batch_size)
    for _ in range(MAX_CLAIM_ROUNDS):
        started = batch.claiming(candidates, first_id)
        taken = table.start_claiming(batch, started, _code_records(started, candidates[:FIRST_CLAIMS]))
        if not taken:
            return started
        replacements = _replacements(batch, taken, candidates)
        candidates = [replacements.get(code, code) for code in candidates]
    raise CollisionsPersist(f"codes of batch {batch.batch_id} kept colliding")


def _code_records(batch: BatchRecord, codes: list[str]) -> list[CodeRecord]:
    """The stored form of `codes`; a code's id follows from its position in the batch."""
    position = {code: index for index, code in enumerate(batch.codes)}
    first_id = batch.first_code_id or 0
    return [
        CodeRecord(
            store_hash=batch.store_hash,
            promotion_id=batch.promotion_id,
            id=first_id + position[code],
            code=code,
            max_uses=batch.max_uses,
            max_uses_per_customer=batch.max_uses_per_customer,
            created=batch.created,
            batch_id=batch.batch_id,
        )
        for code in codes
    ]
