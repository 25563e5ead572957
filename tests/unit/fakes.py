"""In-memory implementations of the services' ports (service/ports.py), for fast unit tests of their decisions."""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from couponmint.errors import CodesTaken, UploadGone
from couponmint.models.codegen import CodeFormat
from couponmint.models.jobs import JobRecord, JobStatus
from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord, PromotionRecord


@dataclass
class FakeQueue:
    sent: list[BaseModel] = field(default_factory=list)

    def send(self, message: BaseModel) -> str:
        self.sent.append(message)
        return str(len(self.sent))

    def send_many(self, messages: Sequence[BaseModel]) -> None:
        self.sent.extend(messages)


@dataclass
class FakeJobs:
    jobs: dict[str, JobRecord] = field(default_factory=dict)

    def put(self, job: JobRecord) -> bool:
        if job.job_id in self.jobs:
            return False
        self.jobs[job.job_id] = job
        return True

    def get(self, store_hash: str, job_id: str) -> JobRecord | None:
        return self.jobs.get(job_id)

    def of_promotion(self, store_hash: str, promotion_id: int) -> list[JobRecord]:
        return [job for job in self.jobs.values() if job.promotion_id == promotion_id]

    def open(self) -> list[JobRecord]:
        return [job for job in self.jobs.values() if not job.status.finished]

    def move(self, store_hash: str, job_id: str, to: JobStatus, allowed_from: set[JobStatus], **fields: Any) -> bool:
        job = self.jobs.get(job_id)
        if job is None or job.status not in allowed_from:
            return False
        # Validated, as the repository reads it back (an ISO time becomes a datetime).
        self.jobs[job_id] = JobRecord.model_validate({**job.model_dump(), "status": to, **fields})
        return True

    def reopen_assembly(self, job: JobRecord, reason: str) -> bool:
        stored = self.jobs[job.job_id]
        if stored.status is not JobStatus.COMPLETED:
            return False
        forgotten = {"assembly_upload_id": None, "assembly_part_batches": None, "assembly_parts": None}
        update = {"status": JobStatus.ASSEMBLING, "error": reason, "export_key": None, **forgotten}
        self.jobs[job.job_id] = stored.model_copy(update=update)
        return True

    def record_upload(self, job: JobRecord, upload_id: str, part_batches: int) -> bool:
        stored = self.jobs[job.job_id]
        if stored.status is not JobStatus.ASSEMBLING or stored.assembly_upload_id is not None:
            return False
        update = {"assembly_upload_id": upload_id, "assembly_part_batches": part_batches, "assembly_parts": {}}
        self.jobs[job.job_id] = stored.model_copy(update=update)
        return True

    def record_part(self, job: JobRecord, upload_id: str, number: int, etag: str) -> JobRecord | None:
        stored = self.jobs[job.job_id]
        if stored.status is not JobStatus.ASSEMBLING or stored.assembly_upload_id != upload_id:
            return None
        parts = {**(stored.assembly_parts or {}), number: etag}
        self.jobs[job.job_id] = stored.model_copy(update={"assembly_parts": parts})
        return self.jobs[job.job_id]

    def release(self, job: JobRecord, count: int) -> range:
        stored = self.jobs[job.job_id]
        if stored.status is not JobStatus.RUNNING or stored.batches_released != job.batches_released:
            return range(0)
        released = stored.batches_released + count
        self.jobs[job.job_id] = stored.model_copy(update={"batches_released": released})
        return range(released - count, released)


@dataclass
class FakeBatches:
    batches: dict[str, BatchRecord] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def get(self, store_hash: str, batch_id: str) -> BatchRecord | None:
        return self.batches.get(batch_id)

    def statuses(self, store_hash: str, batch_ids: Sequence[str]) -> dict[str, BatchStatus]:
        return {b: self.batches[b].status for b in batch_ids if b in self.batches}

    def put_once(self, batch: BatchRecord) -> None:
        self.batches.setdefault(batch.batch_id, batch)

    def open_codegen_batches(self) -> list[BatchRecord]:
        return [b for b in self.batches.values() if b.job_id is None and not b.status.finished]

    def record_codes(self, batch: BatchRecord, codes: list[str]) -> BatchRecord:
        self.batches[batch.batch_id] = batch.claiming(codes)
        return self.batches[batch.batch_id]

    def start_claiming(self, batch: BatchRecord, started: BatchRecord, first: Sequence[CodeRecord]) -> set[str]:
        self.batches[batch.batch_id] = started
        return set()

    def claim(self, batch: BatchRecord, codes: Sequence[CodeRecord]) -> set[str]:
        return set()

    def first_claim_room(self, batch: BatchRecord) -> int:
        return 0

    def completion_room(self, batch: BatchRecord) -> int:
        return 0

    def complete(
        self, batch: BatchRecord, export_key: str, completed: datetime, claims: Sequence[CodeRecord] = ()
    ) -> BatchRecord:
        if claims and any(claim.code.startswith("TAKEN") for claim in claims):
            raise CodesTaken({claim.code for claim in claims})
        done = batch.model_copy(update={"status": BatchStatus.DONE, "export_key": export_key})
        self.batches[batch.batch_id] = done
        return done

    def fail(self, store_hash: str, batch_id: str, reason: str) -> None:
        self.failed.append((batch_id, reason))
        batch = self.batches.get(batch_id)
        if batch is not None and not batch.status.finished:
            self.batches[batch_id] = batch.model_copy(update={"status": BatchStatus.FAILED, "error": reason})

    def cancel(self, batch: BatchRecord) -> None:
        self.batches[batch.batch_id] = batch.model_copy(update={"status": BatchStatus.CANCELLED})


@dataclass
class FakePromotions:
    promotions: dict[int, PromotionRecord] = field(default_factory=dict)
    next_id: int = 1
    store_codes: int = 0
    registered: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, promotion: PromotionRecord) -> bool:
        if promotion.id in self.promotions:
            return False
        self.promotions[promotion.id] = promotion
        return True

    def update(self, promotion: PromotionRecord) -> None:
        self.promotions[promotion.id] = promotion

    def get(self, store_hash: str, promotion_id: int) -> PromotionRecord | None:
        return self.promotions.get(promotion_id)

    def of_store(self, store_hash: str) -> list[PromotionRecord]:
        return list(self.promotions.values())

    def delete(self, store_hash: str, promotion_id: int) -> bool:
        return self.promotions.pop(promotion_id, None) is not None

    def with_store_code_count(self, store_hash: str, promotion_id: int) -> tuple[PromotionRecord | None, int]:
        return self.promotions.get(promotion_id), self.store_codes

    def reserve_ids(self, store_hash: str, counter: str, count: int) -> int:
        first, self.next_id = self.next_id, self.next_id + count
        return first

    def raise_counter(self, store_hash: str, counter: str, at_least: int) -> None:
        self.next_id = max(self.next_id, at_least + 1)

    def register_format(self, store_hash: str, name: str, code_format: dict[str, Any]) -> None:
        self.registered[name] = code_format

    def formats(self, store_hash: str) -> list[dict[str, Any]]:
        return list(self.registered.values())


@dataclass
class FakeExports:
    """S3 in memory, multipart uploads included: parts but the last must hold `min_part_bytes` (S3's 5 MiB unless
    a test lowers it), a part uploaded again replaces itself, a completed or aborted upload takes no more parts."""

    objects: dict[str, bytes] = field(default_factory=dict)
    uploads: dict[str, dict[int, bytes]] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    completions: int = 0
    min_part_bytes: int = 5 * 1024 * 1024

    def put_csv(self, key: str, body: bytes) -> None:
        self.objects[key] = body

    def exists(self, key: str) -> bool:
        return key in self.objects

    def read_all(self, keys: Sequence[str], rebuild: Callable[[str], bytes]) -> list[bytes]:
        return [self.objects[key] if key in self.objects else rebuild(key) for key in keys]

    def start_upload(self, key: str) -> str:
        upload_id = f"upload-{len(self.started) + 1}"
        self.started.append(upload_id)
        self.uploads[upload_id] = {}
        return upload_id

    def upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        if upload_id not in self.uploads:
            raise UploadGone(upload_id)
        self.uploads[upload_id][number] = body
        return _etag(body)

    def complete_upload(self, key: str, upload_id: str, etags: Mapping[int, str]) -> None:
        parts = self.uploads.pop(upload_id, None)
        if parts is None:
            if key in self.objects:
                return
            raise UploadGone(upload_id)
        numbers = sorted(etags)
        assert numbers == sorted(parts), f"parts recorded {numbers}, uploaded {sorted(parts)}"
        assert all(_etag(parts[n]) == etags[n] for n in numbers), "an ETag does not match"
        assert all(len(parts[n]) >= self.min_part_bytes for n in numbers[:-1]), "a part but the last is too small"
        self.objects[key] = b"".join(parts[n] for n in numbers)
        self.completions += 1

    def abort_upload(self, key: str, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)
        self.aborted.append(upload_id)

    def download_url(self, key: str, expires_seconds: int) -> str:
        return f"https://exports.example/{key}"


def _etag(body: bytes) -> str:
    """S3's ETag of a part (an MD5 of its bytes: the bucket encrypts with SSE-S3)."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def job(status: JobStatus = JobStatus.RUNNING, **fields: Any) -> JobRecord:
    """A job of 1,000 codes (4 batches) of store `s`, promotion 1, in `status`."""
    values: dict[str, Any] = {
        "store_hash": "s",
        "promotion_id": 1,
        "job_id": "j",
        "status": status,
        "quantity": 1000,
        "max_uses": 1,
        "max_uses_per_customer": 1,
        "code_format": CodeFormat(),
        "created": datetime(2026, 1, 1, tzinfo=UTC),
        "batches_total": 4,
        **fields,
    }
    return JobRecord.model_validate(values)


def batch(batch_id: str = "b", status: BatchStatus = BatchStatus.PENDING, **fields: Any) -> BatchRecord:
    values: dict[str, Any] = {
        "store_hash": "s",
        "promotion_id": 1,
        "batch_id": batch_id,
        "status": status,
        "batch_size": 5,
        "max_uses": 1,
        "max_uses_per_customer": 1,
        "code_format": CodeFormat(code_length=8),
        "created": datetime(2026, 1, 1, tzinfo=UTC),
        **fields,
    }
    return BatchRecord.model_validate(values)
