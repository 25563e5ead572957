"""Codegen on the API side: check the promotion and capacity, record a batch, queue it, wait for it."""

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from couponmint.adapters.queue import BatchQueue
from couponmint.adapters.table import CouponTable
from couponmint.errors import BatchFailed, InvalidRequest, NotAllowed, NotFound
from couponmint.logic.codes import alphabet_without, capacity_shortfall
from couponmint.models.codegen import CodeFormat, CodegenData, CodegenRequest, GeneratedCode, iso_timestamp
from couponmint.models.messages import GenerateBatchMessage
from couponmint.models.records import BatchRecord, BatchStatus, PromotionRecord

BULK_ONLY = (
    "Bulk code generation is only supported for promotions with redemption_type of 'COUPON' and coupon_type of 'BULK'."
)
FINISHED = {BatchStatus.DONE, BatchStatus.FAILED}


def bulk_promotion(table: CouponTable, store_hash: str, promotion_id: int) -> PromotionRecord:
    """The promotion, if it exists in this store and takes generated codes."""
    promotion = table.get_promotion(store_hash, promotion_id)
    if promotion is None:
        raise NotFound(f"promotion {promotion_id} does not exist")
    if not promotion.allows_bulk_codes:
        raise NotAllowed(BULK_ONLY)
    return promotion


def check_capacity(table: CouponTable, store_hash: str, code_format: CodeFormat, requested: int) -> None:
    """Refuse a format whose space is too small for the store's codes plus `requested` more."""
    alphabet = alphabet_without(code_format.exclude_characters)
    shortfall = capacity_shortfall(
        len(alphabet), code_format.code_length, table.store_code_count(store_hash), requested
    )
    if shortfall:
        raise InvalidRequest(shortfall)


def start_batch(
    table: CouponTable, queue: BatchQueue, store_hash: str, promotion_id: int, request: CodegenRequest
) -> BatchRecord:
    """Record a PENDING batch and queue it for the generator."""
    bulk_promotion(table, store_hash, promotion_id)
    check_capacity(table, store_hash, request.code_format, request.batch_size)
    batch = BatchRecord(
        store_hash=store_hash,
        promotion_id=promotion_id,
        batch_id=uuid.uuid4().hex,
        status=BatchStatus.PENDING,
        batch_size=request.batch_size,
        max_uses=request.max_uses,
        max_uses_per_customer=request.max_uses_per_customer,
        code_format=request.code_format,
        created=datetime.now(UTC),
    )
    table.put_batch(batch)
    try:
        queue.send(GenerateBatchMessage(store_hash=store_hash, promotion_id=promotion_id, batch_id=batch.batch_id))
    except Exception as error:
        table.fail_batch(store_hash, batch.batch_id, f"could not queue the batch: {type(error).__name__}")
        raise
    return batch


def wait_for_batch(
    table: CouponTable,
    batch: BatchRecord,
    budget_seconds: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchRecord:
    """Poll the batch's status (consistent reads of that one attribute, every 15 ms at first, backing off to
    100 ms) until it finishes or the budget runs out; then read the whole record once."""
    deadline = clock() + budget_seconds
    delay = 0.015
    status = batch.status
    while status not in FINISHED:
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(delay, remaining))
        delay = min(delay * 1.2, 0.1)
        status = table.batch_status(batch.store_hash, batch.batch_id) or status
    return table.get_batch(batch.store_hash, batch.batch_id) or batch


def find_batch(table: CouponTable, store_hash: str, promotion_id: int, batch_id: str) -> BatchRecord:
    batch = table.get_batch(store_hash, batch_id)
    if batch is None or batch.promotion_id != promotion_id:
        raise NotFound(f"batch {batch_id} does not exist")
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
