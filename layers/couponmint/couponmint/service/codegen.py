"""Codegen on the API side: check the promotion and capacity, queue a new batch, wait for the generator."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from couponmint.adapters.exports import codes_csv
from couponmint.errors import BatchFailed, InvalidRequest, NotAllowed, NotFound
from couponmint.logic.formats import format_capacity_shortfall
from couponmint.logic.polling import CompletionTimes
from couponmint.models.codegen import CodeFormat, CodegenData, CodegenRequest, GeneratedCode, iso_timestamp
from couponmint.models.messages import GenerateBatchMessage, NewBatch
from couponmint.models.records import BatchRecord, BatchStatus, PromotionRecord
from couponmint.service import formats, limits
from couponmint.service.ports import BatchStore, Exports, LimitStore, Monotonic, PromotionStore, Queue, Sleep

BULK_ONLY = (
    "Bulk code generation is only supported for promotions with redemption_type of 'COUPON' and coupon_type of 'BULK'."
)


def check_generation(
    promotions: PromotionStore, store_hash: str, promotion_id: int, code_format: CodeFormat, requested: int
) -> PromotionRecord:
    """The promotion, if it exists in this store and takes generated codes, and the format's space has room
    for the store's codes plus `requested` more (both read at once)."""
    promotion, store_codes = promotions.with_store_code_count(store_hash, promotion_id)
    if promotion is None:
        raise NotFound(f"promotion {promotion_id} does not exist")
    if not promotion.allows_bulk_codes:
        raise NotAllowed(BULK_ONLY)
    shortfall = format_capacity_shortfall(code_format.layout, store_codes, requested)
    if shortfall:
        raise InvalidRequest(shortfall)
    formats.remember(promotions, store_hash, code_format)
    return promotion


def generate(
    promotions: PromotionStore,
    batches: BatchStore,
    slots: LimitStore,
    queue: Queue,
    store_hash: str,
    promotion_id: int,
    request: CodegenRequest,
    budget_seconds: float,
) -> BatchRecord:
    """Hold one of the store's codegen slots while a new batch is checked, queued and waited for.

    The check only reads, so it runs while the slot is being taken (one round trip instead of two) and
    counts only once the slot is held. Returns the batch finished, or as it is when the budget ran out.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="check") as beside:
        checked = beside.submit(
            check_generation, promotions, store_hash, promotion_id, request.code_format, request.batch_size
        )
        with limits.concurrency_slot(slots, store_hash, "codegen", uuid.uuid4().hex):
            checked.result()
            batch = queue_batch(queue, store_hash, promotion_id, request)
            return wait_for_batch(batches, batch, budget_seconds)


def queue_batch(queue: Queue, store_hash: str, promotion_id: int, request: CodegenRequest) -> BatchRecord:
    """Queue a new batch for the generator, which records it when it starts it; returns it as PENDING.

    Nothing is written here: a batch the queue did not take does not exist (the request fails), and one it
    took is recorded by the generator in the transaction that claims its first codes.
    """
    new = NewBatch(
        batch_size=request.batch_size,
        max_uses=request.max_uses,
        max_uses_per_customer=request.max_uses_per_customer,
        code_format=request.code_format,
        created=datetime.now(UTC),
    )
    batch_id = uuid.uuid4().hex
    queue.send(GenerateBatchMessage(store_hash=store_hash, promotion_id=promotion_id, batch_id=batch_id, new=new))
    return new_batch_record(store_hash, promotion_id, batch_id, new)


def new_batch_record(store_hash: str, promotion_id: int, batch_id: str, new: NewBatch) -> BatchRecord:
    """The PENDING record of a codegen request's batch (before the generator has written anything)."""
    return BatchRecord(
        store_hash=store_hash,
        promotion_id=promotion_id,
        batch_id=batch_id,
        status=BatchStatus.PENDING,
        batch_size=new.batch_size,
        max_uses=new.max_uses,
        max_uses_per_customer=new.max_uses_per_customer,
        code_format=new.code_format,
        created=new.created,
    )


# How long this process has seen batches take, to poll near the moment a batch finishes.
COMPLETION_TIMES = CompletionTimes()


def wait_for_batch(
    batches: BatchStore,
    batch: BatchRecord,
    budget_seconds: float,
    *,
    clock: Monotonic = time.monotonic,
    sleep: Sleep = time.sleep,
    times: CompletionTimes = COMPLETION_TIMES,
) -> BatchRecord:
    """Read the batch (consistently; `logic.polling` says when) until it finishes or the budget runs out.

    Polls come near the moment the batch is expected to finish, so there are few: each reads the whole record
    (~5 KB for 250 codes), which saves a last read. A batch the generator has not started when the budget
    runs out is recorded PENDING here (unless the generator records it meanwhile), so the 202 answer's batch
    can be looked up.
    """
    started = clock()
    deadline = started + budget_seconds
    recorded: BatchRecord | None = None
    for wait in times.waits(batch.batch_size):
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(wait, remaining))
        recorded = batches.get(batch.store_hash, batch.batch_id)
        if recorded is not None and recorded.status.finished:
            times.observe(batch.batch_size, clock() - started)
            return recorded
    if recorded is None:
        batches.put_once(batch)
        recorded = batches.get(batch.store_hash, batch.batch_id)
    return recorded or batch


def find_batch(batches: BatchStore, store_hash: str, promotion_id: int, batch_id: str) -> BatchRecord:
    batch = batches.get(store_hash, batch_id)
    if batch is None or batch.promotion_id != promotion_id:
        raise NotFound(f"batch {batch_id} does not exist")
    return batch


def with_export(exports: Exports, batch: BatchRecord) -> BatchRecord:
    """A DONE batch whose CSV is gone from S3 gets it made again from its record (250 rows at most)."""
    if batch.status is BatchStatus.DONE and batch.export_key and not exports.exists(batch.export_key):
        exports.put_csv(batch.export_key, codes_csv(batch.code_records()))
    return batch


def batch_data(batch: BatchRecord) -> CodegenData:
    """The 201 answer's `data` for a finished batch."""
    if batch.status is BatchStatus.FAILED:
        raise BatchFailed(batch.error or "the batch failed")
    return CodegenData(
        created=iso_timestamp(batch.created),
        max_uses=batch.max_uses,
        max_uses_per_customer=batch.max_uses_per_customer,
        batch_size=batch.batch_size,
        codes=[GeneratedCode(code=code) for code in batch.codes],
    )
