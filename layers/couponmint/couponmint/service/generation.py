"""Codegen on the generator side: complete one batch exactly once, whatever redelivery does.

The order is what makes it safe:
1. Generate the candidates and write them onto the batch record (the write-ahead record) before
   claiming any. A redelivered message finds them and claims the same codes, never a second set.
2. Claim each code store-wide with a conditional write that also accepts this batch's own earlier claim.
3. A code another batch holds is replaced on the record first (write-ahead again), then claimed.
4. Write the CSV export, then mark the batch DONE with exactly its codes (and count them) in one transaction.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from couponmint.adapters.exports import ExportStore, batch_export_key, codes_csv
from couponmint.adapters.table import CouponTable, StaleBatch
from couponmint.logic.codes import alphabet_without, make_codes
from couponmint.models.messages import GenerateBatchMessage
from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord
from couponmint.observability import logger
from couponmint.service.jobs import job_cancelled

# Each round replaces the codes that collided; with the capacity guard's fill limit of 1 % the chance
# that one code needs this many rounds is below 1e-40.
MAX_CLAIM_ROUNDS = 20


class BatchMissing(Exception):
    """The message names a batch that does not exist (never retried into success)."""


class CollisionsPersist(Exception):
    """Codes kept colliding: the format's space is nearly full."""


def complete_batch(
    table: CouponTable,
    exports: ExportStore,
    message: GenerateBatchMessage,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BatchRecord:
    batch = table.get_batch(message.store_hash, message.batch_id)
    if batch is None:
        raise BatchMissing(message.batch_id)
    if batch.status is BatchStatus.PENDING and job_cancelled(table, batch):
        # A cancelled job starts no new batch.
        table.cancel_batch(batch)
        return table.get_batch(batch.store_hash, batch.batch_id) or batch
    while True:
        if batch.status in (BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.CANCELLED):
            return batch
        try:
            return _advance(table, exports, batch, now)
        except StaleBatch:
            # Another delivery of this message moved the batch on; carry on from its state.
            logger.info("batch changed underneath, re-reading", batch_id=batch.batch_id)
            batch = table.get_batch(message.store_hash, message.batch_id) or batch


def _advance(table: CouponTable, exports: ExportStore, batch: BatchRecord, now: Callable[[], datetime]) -> BatchRecord:
    fmt = batch.code_format
    alphabet = alphabet_without(fmt.exclude_characters)
    if not batch.codes:
        candidates = make_codes(alphabet, fmt.code_length, batch.batch_size, fmt.head, fmt.tail)
        first_id = table.reserve_ids(batch.store_hash, "code", batch.batch_size)
        batch = table.record_batch_codes(batch, candidates, first_id)

    pending = list(batch.codes)
    for _ in range(MAX_CLAIM_ROUNDS):
        taken = table.claim_codes(batch, _code_records(batch, pending))
        if not taken:
            break
        # Write the replacements ahead of claiming them, then claim only what is not yet claimed.
        fresh = make_codes(alphabet, fmt.code_length, len(taken), fmt.head, fmt.tail, avoid=set(batch.codes))
        replacements = dict(zip(sorted(taken), fresh, strict=True))
        batch = table.record_batch_codes(batch, [replacements.get(code, code) for code in batch.codes])
        logger.info("replaced colliding codes", batch_id=batch.batch_id, replaced=len(taken))
        pending = [replacements.get(code, code) for code in pending]
    else:
        raise CollisionsPersist(f"codes of batch {batch.batch_id} kept colliding")

    key = batch_export_key(batch.store_hash, batch.promotion_id, batch.batch_id)
    exports.put_csv(key, codes_csv(_code_records(batch, batch.codes)))
    done = table.complete_batch(batch, key, now())
    logger.info("batch done", batch_id=batch.batch_id, codes=len(done.codes))
    return done


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
