"""Codegen batches and the transactions that claim their codes.

Items: `STORE#<store>#BATCH#<batch_id>` / `BATCH`: a batch (a codegen request's, or one of a job's) with its
write-ahead list of codes (`codes`, `first_code_id`) and a `version` that every move checks.

A batch's transactions span aggregates; each is assembled here from the fragments the other repositories give:
the claim of a code (`CodeRepository.claim_item`), the store's and promotion's code counts
(`PromotionRepository.count_codes_items`) and the job's progress (`JobRepository.count_batch_items`).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from couponmint.adapters.codes import CodeRepository
from couponmint.adapters.dynamo import MAX_TRANSACTION_ITEMS, Table, cancellation_reasons, plain, wire, wire_item
from couponmint.adapters.jobs import JobRepository
from couponmint.adapters.keys import OPEN_BATCHES, batch_key, promotion_codes_pk, without_keys
from couponmint.adapters.promotions import PromotionRepository
from couponmint.errors import CodesTaken, PromotionGone, StaleBatch
from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord


class BatchRepository:
    def __init__(
        self, table: Table, codes: CodeRepository, promotions: PromotionRepository, jobs: JobRepository
    ) -> None:
        self._table = table
        self._codes = codes
        self._promotions = promotions
        self._jobs = jobs

    # ------------------------------------------------------------------ reads
    def get(self, store_hash: str, batch_id: str) -> BatchRecord | None:
        item = self._table.get(batch_key(store_hash, batch_id), consistent=True)
        return BatchRecord.model_validate(plain(without_keys(item))) if item else None

    def statuses(self, store_hash: str, batch_ids: Sequence[str]) -> dict[str, BatchStatus]:
        """The status of each existing batch among `batch_ids` (BatchGetItem)."""
        items = self._table.get_many(
            [batch_key(store_hash, batch_id) for batch_id in batch_ids],
            ProjectionExpression="batch_id, #s",
            ExpressionAttributeNames={"#s": "status"},
            ConsistentRead=True,
        )
        return {item["batch_id"]: BatchStatus(item["status"]) for item in items}

    # ------------------------------------------------------------------ records
    def put_once(self, batch: BatchRecord) -> None:
        """Record a batch unless it is recorded already (planning a job twice; the API recording a 202's batch
        while the generator records it too)."""
        self._table.put_new(_stored(batch))

    def open_codegen_batches(self) -> list[BatchRecord]:
        """Every codegen request's batch not yet finished, oldest first (a query on the sparse gsi2)."""
        items = self._table.query_items(
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :open",
            ExpressionAttributeValues={":open": OPEN_BATCHES},
        )
        return [BatchRecord.model_validate(plain(without_keys(item))) for item in items]

    def record_codes(self, batch: BatchRecord, codes: list[str]) -> BatchRecord:
        """Write replacements onto a started batch's candidate codes, ahead of claiming them.

        Conditional on the version the caller read, so two deliveries of one message cannot both write a list:
        the loser gets StaleBatch, re-reads and carries on with the winner's codes.
        """
        updated = batch.claiming(codes)
        moved = self._table.update_if(
            batch_key(batch.store_hash, batch.batch_id),
            UpdateExpression="SET codes = :codes, #s = :status, version = :next",
            ConditionExpression="version = :version",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":codes": codes,
                ":status": BatchStatus.CLAIMING.value,
                ":version": batch.version,
                ":next": batch.version + 1,
            },
        )
        if not moved:
            raise StaleBatch(batch.batch_id)
        return updated

    # ------------------------------------------------------------------ claims
    def start_claiming(self, batch: BatchRecord, started: BatchRecord, first: Sequence[CodeRecord]) -> set[str]:
        """Record `started` (the batch with its candidates written ahead) and claim `first` of its codes, in
        one transaction: the write-ahead record exists exactly when some of its codes are claimed.

        The record is written over `batch` as read (`version`), or created when the batch is new (a codegen
        request's batch, which only its message describes). Raises StaleBatch when the record moved on
        (another delivery started it); returns the codes of `first` another batch holds (then nothing was
        written: the caller replaces them and starts again).
        """
        if len(first) > MAX_TRANSACTION_ITEMS - 2:
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS - 2} codes ride with the batch record")
        item = _stored(started)
        record = {
            "Put": {
                "TableName": self._table.name,
                "Item": wire_item(item),
                "ConditionExpression": "attribute_not_exists(pk) OR version = :version",
                "ExpressionAttributeValues": {":version": {"N": str(batch.version)}},
            }
        }
        # The promotion must still exist, and cannot be deleted until these codes are counted or given back.
        pending = self._promotions.pending_codes_item(started.store_hash, started.promotion_id, len(started.codes))
        return self._claim(batch, [record, wire(pending)], first)

    def claim(self, batch: BatchRecord, codes: Sequence[CodeRecord]) -> set[str]:
        """Write `codes` for `batch`, each only if its text is free in the store or already this batch's.

        A codegen request's batch writes in transactions of at most 100 items (nothing of a chunk is written when
        one of its codes is taken); a job's batch inserts each code on its own, at half the cost (claims.py).
        Returns the codes that another batch or request holds: the caller replaces them and claims again.
        """
        if batch.job_id is not None:
            return self._codes.claim_each(batch.batch_id, codes)
        taken: set[str] = set()
        for start in range(0, len(codes), MAX_TRANSACTION_ITEMS):
            taken |= self._claim(batch, [], codes[start : start + MAX_TRANSACTION_ITEMS])
        return taken

    @staticmethod
    def first_claim_room(batch: BatchRecord) -> int:
        """How many claims ride in `start_claiming`'s transaction, beside the record and the promotion's count:
        a codegen request's batch saves a round trip; a job's batch claims all its codes the cheaper way."""
        return 0 if batch.job_id is not None else MAX_TRANSACTION_ITEMS - 2

    @staticmethod
    def completion_room(batch: BatchRecord) -> int:
        """How many claims ride in `complete`'s transaction, beside the batch and the store's and the
        promotion's code counts.

        None for a job's batch: every batch of a job also adds to the job's item, and the batches of a job run
        ten at a time, so their completions conflict (TransactionConflict) now and then; a small completion
        transaction of its own keeps such a conflict from cancelling and repeating ~100 claims. A codegen
        request's batch, which a client is waiting for, saves the round trip instead.
        """
        return 0 if batch.job_id is not None else MAX_TRANSACTION_ITEMS - 3

    def complete(
        self, batch: BatchRecord, export_key: str, completed: datetime, claims: Sequence[CodeRecord] = ()
    ) -> BatchRecord:
        """Claim the batch's last `claims`, mark it DONE and count its codes (store, promotion, job), in one
        transaction of at most 100 items (`completion_room` says how many claims fit).

        Raises CodesTaken when another batch holds some of `claims` (then nothing was written) and StaleBatch
        when the record moved on (another delivery finished it).
        """
        done = batch.model_copy(
            update={"status": BatchStatus.DONE, "export_key": export_key, "version": batch.version + 1}
        )
        finish = [
            self._move_item(
                batch,
                "SET #s = :done, export_key = :key, completed = :completed, version = :next,"
                " gsi1pk = :index, gsi1sk = :first REMOVE gsi2pk, gsi2sk",
                {
                    ":done": BatchStatus.DONE.value,
                    ":key": export_key,
                    ":completed": completed.isoformat(),
                    # Listed from now on, as one entry of its promotion's code index (code_index.py).
                    ":index": promotion_codes_pk(batch.store_hash, batch.promotion_id),
                    ":first": batch.first_code_id or 0,
                },
            ),
            *self._promotions.count_codes_items(
                batch.store_hash, batch.promotion_id, len(batch.codes), pending=-len(batch.codes)
            ),
            *self._jobs.count_batch_items(batch, generated=len(batch.codes), failed=0),
        ]
        if len(claims) > MAX_TRANSACTION_ITEMS - len(finish):
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS - len(finish)} claims fit beside the completion")
        taken = self._claim(batch, [wire(item) for item in finish], claims)
        if taken:
            raise CodesTaken(taken)
        return done

    def fail(self, store_hash: str, batch_id: str, reason: str) -> None:
        """Mark a batch FAILED with its reason, unless it already finished (and count it in its job); the codes
        it claimed are given back first, so a failed batch leaves no live code behind."""
        self._finish_unfinished(store_hash, batch_id, BatchStatus.FAILED, reason[:1000])

    def cancel(self, batch: BatchRecord) -> None:
        """Mark a batch of a cancelled job CANCELLED before it made any code (and count it in its job)."""
        self._finish_unfinished(batch.store_hash, batch.batch_id, BatchStatus.CANCELLED, "job cancelled")

    def _finish_unfinished(self, store_hash: str, batch_id: str, status: BatchStatus, reason: str) -> None:
        batch = self.get(store_hash, batch_id)
        if batch is None or batch.status.finished:
            return
        failed = batch.batch_size if status is BatchStatus.FAILED else 0
        # A started batch holds claims, and its promotion counts them as pending: both are given back.
        started = batch.status is BatchStatus.CLAIMING and bool(batch.codes)
        if started:
            self._codes.release(batch.store_hash, batch.batch_id, batch.codes)
        items = [
            self._move_item(
                batch,
                "SET #s = :status, #e = :reason, version = :next REMOVE gsi2pk, gsi2sk",
                {":status": status.value},
            ),
            *self._jobs.count_batch_items(batch, generated=0, failed=failed),
        ]
        if started:
            items.append(self._promotions.pending_codes_item(batch.store_hash, batch.promotion_id, -len(batch.codes)))
            # The promotion cannot have gone while it counted these codes as pending.
            del items[-1]["Update"]["ConditionExpression"]
        items[0]["Update"]["ExpressionAttributeNames"]["#e"] = "error"
        items[0]["Update"]["ExpressionAttributeValues"][":reason"] = reason
        try:
            self._table.transact(items)
        except ClientError as error:
            if cancellation_reasons(error)[:1] != ["ConditionalCheckFailed"]:
                raise
            # The batch moved on meanwhile (another delivery finished it): nothing to record.

    def _move_item(self, batch: BatchRecord, expression: str, values: dict[str, Any]) -> dict[str, Any]:
        """A transaction item updating the batch as read (its `version`) to the next version."""
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": batch_key(batch.store_hash, batch.batch_id),
                "UpdateExpression": expression,
                "ConditionExpression": "version = :version",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {**values, ":version": batch.version, ":next": batch.version + 1},
            }
        }

    def _claim(self, batch: BatchRecord, own: list[dict[str, Any]], codes: Sequence[CodeRecord]) -> set[str]:
        """One transaction: the batch's `own` items (wire form; the first is conditional on the batch's state)
        and a claim of each of `codes`. Returns the codes another batch or request holds: then nothing was
        written, and the caller replaces them. Raises StaleBatch when the batch moved on.
        """
        try:
            self._table.transact(
                [*own, *(self._codes.claim_item(batch.batch_id, code) for code in codes)], serialized=True
            )
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if not reasons:
                raise
            if own and reasons[0] == "ConditionalCheckFailed":
                raise StaleBatch(batch.batch_id) from error
            if "ConditionalCheckFailed" in reasons[1 : len(own)]:
                # Only the promotion's count can refuse among the batch's own items: it was deleted.
                raise PromotionGone(batch.promotion_id) from error
            collided = {
                code.code
                for code, reason in zip(codes, reasons[len(own) :], strict=False)
                if reason == "ConditionalCheckFailed"
            }
            if not collided:
                # Cancelled for another reason (a concurrent transaction on the same items):
                # let the message be retried rather than guess.
                raise
            return collided
        return set()


def _stored(batch: BatchRecord) -> dict[str, Any]:
    """A batch's item; a codegen request's batch is listed in the sparse gsi2 until it finishes (the sweeper
    re-drives one whose message was lost, e.g. with a local stack's restart). Jobs' batches are swept by job."""
    item = {**batch_key(batch.store_hash, batch.batch_id), **batch.model_dump(mode="json")}
    if batch.job_id is None and not batch.status.finished:
        item.update(gsi2pk=OPEN_BATCHES, gsi2sk=int(batch.created.timestamp() * 1000))
    return item
