"""Bulk jobs.

Items: `STORE#<store>#JOB#<job_id>` / `JOB`, with its progress counters (batches planned and done, codes
generated and failed). gsi1 (`STORE#<store>#PROMOTION#<id>#JOBS`, created ms) lists a promotion's jobs newest
first; the sparse gsi2 (`OPEN_JOBS`, created ms) lists the jobs not yet finished, for the sweeper.
"""

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from couponmint.adapters.dynamo import Table, is_condition_failure, plain
from couponmint.adapters.keys import OPEN_JOBS, job_key, promotion_jobs_pk, without_keys
from couponmint.models.jobs import JobRecord, JobStatus
from couponmint.models.records import BatchRecord


class JobRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, job: JobRecord) -> bool:
        """Store a new job; False when a job with its id exists already (a repeated scheduled tick)."""
        created = _millis(job.created)
        return self._table.put_new(
            {
                **job_key(job.store_hash, job.job_id),
                "gsi1pk": promotion_jobs_pk(job.store_hash, job.promotion_id),
                "gsi1sk": created,
                # Listed in the sparse gsi2 until it finishes, for the sweeper.
                "gsi2pk": OPEN_JOBS,
                "gsi2sk": created,
                **job.model_dump(mode="json", exclude_none=True),
            }
        )

    def get(self, store_hash: str, job_id: str) -> JobRecord | None:
        item = self._table.get(job_key(store_hash, job_id), consistent=True)
        return _record(item) if item else None

    def of_promotion(self, store_hash: str, promotion_id: int) -> list[JobRecord]:
        """A promotion's jobs, newest first (one query on gsi1)."""
        items = self._table.query_items(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": promotion_jobs_pk(store_hash, promotion_id)},
            ScanIndexForward=False,
        )
        return [_record(item) for item in items]

    def open(self) -> list[JobRecord]:
        """Every job not yet finished, oldest first (a query on the sparse gsi2)."""
        items = self._table.query_items(
            IndexName="gsi2", KeyConditionExpression="gsi2pk = :open", ExpressionAttributeValues={":open": OPEN_JOBS}
        )
        return [_record(item) for item in items]

    def move(self, store_hash: str, job_id: str, to: JobStatus, allowed_from: set[JobStatus], **fields: Any) -> bool:
        """Move a job to status `to` if it is in one of `allowed_from` (setting `fields` too)."""
        names = {"#s": "status", **{f"#{k}": k for k in fields}}
        values = {":to": to.value, **{f":{k}": v for k, v in fields.items()}}
        values.update({f":from{i}": status.value for i, status in enumerate(sorted(allowed_from))})
        allowed = ", ".join(f":from{i}" for i in range(len(allowed_from)))
        finished = " REMOVE gsi2pk, gsi2sk" if to.finished else ""
        return self._table.update_if(
            job_key(store_hash, job_id),
            UpdateExpression="SET #s = :to" + "".join(f", #{k} = :{k}" for k in fields) + finished,
            ConditionExpression=f"#s IN ({allowed})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def reopen_assembly(self, job: JobRecord, reason: str) -> bool:
        """Move a COMPLETED job back to ASSEMBLING (its CSV is gone and will be made again), listed among the
        open jobs again so the sweeper watches it, its former upload forgotten so that a fresh assembly starts;
        False when it is no longer COMPLETED."""
        created = _millis(job.created)
        return self._table.update_if(
            job_key(job.store_hash, job.job_id),
            UpdateExpression="SET #s = :assembling, #e = :reason, progressed = :now, gsi2pk = :open, gsi2sk = :created"
            " REMOVE export_key, assembly_upload_id, assembly_part_batches, assembly_parts",
            ConditionExpression="#s = :completed",
            ExpressionAttributeNames={"#s": "status", "#e": "error"},
            ExpressionAttributeValues={
                ":assembling": JobStatus.ASSEMBLING.value,
                ":completed": JobStatus.COMPLETED.value,
                ":reason": reason,
                ":now": _iso_now(),
                ":open": OPEN_JOBS,
                ":created": created,
            },
        )

    def record_upload(self, job: JobRecord, upload_id: str, part_batches: int) -> bool:
        """Record the multipart upload an ASSEMBLING job's CSV is assembled in, and the batches a part holds,
        unless one is recorded already (another delivery of the start won: False)."""
        return self._table.update_if(
            job_key(job.store_hash, job.job_id),
            UpdateExpression="SET assembly_upload_id = :upload, assembly_part_batches = :per_part,"
            " assembly_parts = :none, progressed = :now",
            ConditionExpression="#s = :assembling AND attribute_not_exists(assembly_upload_id)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":upload": upload_id,
                ":per_part": part_batches,
                ":none": {},
                ":assembling": JobStatus.ASSEMBLING.value,
                ":now": _iso_now(),
            },
        )

    def record_part(self, job: JobRecord, upload_id: str, number: int, etag: str) -> JobRecord | None:
        """Record part `number`'s ETag (again, for a part uploaded again) if the job is still ASSEMBLING into
        `upload_id`; the job as it is now, every part recorded so far included, or None when it moved on."""
        try:
            answer = self._table.resource.update_item(
                Key=job_key(job.store_hash, job.job_id),
                UpdateExpression="SET assembly_parts.#n = :etag, progressed = :now",
                ConditionExpression="#s = :assembling AND assembly_upload_id = :upload",
                ExpressionAttributeNames={"#s": "status", "#n": str(number)},
                ExpressionAttributeValues={
                    ":etag": etag,
                    ":assembling": JobStatus.ASSEMBLING.value,
                    ":upload": upload_id,
                    ":now": _iso_now(),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return _record(answer["Attributes"])

    def release(self, job: JobRecord, count: int) -> range:
        """Take the indexes of the job's next `count` batches to send, if it is RUNNING and nobody released any
        since `job` was read (one conditional write, so two callers never take the same batch).

        Returns the indexes taken, or none when the job moved on meanwhile (read it again and decide again).
        """
        try:
            answer = self._table.resource.update_item(
                Key=job_key(job.store_hash, job.job_id),
                UpdateExpression="ADD batches_released :n SET progressed = :now",
                ConditionExpression="#s = :running AND batches_released = :seen",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":n": count,
                    ":running": JobStatus.RUNNING.value,
                    ":seen": job.batches_released,
                    ":now": _iso_now(),
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return range(0)
            raise
        released = int(answer["Attributes"]["batches_released"])
        return range(released - count, released)

    def count_batch_items(self, batch: BatchRecord, *, generated: int, failed: int) -> list[dict[str, Any]]:
        """The transaction item that counts a finished batch in its job (none for a codegen request's batch)."""
        if batch.job_id is None:
            return []
        return [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": job_key(batch.store_hash, batch.job_id),
                    "UpdateExpression": "ADD generated :generated, failed :failed, batches_done :one"
                    " SET progressed = :now",
                    "ExpressionAttributeValues": {
                        ":generated": generated,
                        ":failed": failed,
                        ":one": 1,
                        ":now": _iso_now(),
                    },
                }
            }
        ]


def _record(item: dict[str, Any]) -> JobRecord:
    return JobRecord.model_validate(plain(without_keys(item)))


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso_now() -> str:
    return datetime.now(UTC).isoformat()
