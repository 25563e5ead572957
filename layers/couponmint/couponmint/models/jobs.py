"""Bulk jobs (EXT): up to a million codes per request, generated in the background 250 a batch."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt

from couponmint.models.codegen import MAX_BATCH_SIZE, CodeFormat, GenerationRequest

MAX_JOB_QUANTITY = 1_000_000
# Batches of one job in flight at once, unless the job lane's setting (config.job_window) says otherwise: a job
# releases its next batch as one finishes, so another store's job started meanwhile waits behind at most this
# many of its messages, not thousands.
JOB_WINDOW = 20


class JobStatus(StrEnum):
    QUEUED = "QUEUED"  # recorded; its batches are being planned
    RUNNING = "RUNNING"  # batches planned and being generated
    ASSEMBLING = "ASSEMBLING"  # every batch finished; the CSV is being assembled
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        """COMPLETED, FAILED or CANCELLED: nothing will change it again."""
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobRequest(GenerationRequest):
    """`POST /promotions/{promotion_id}/codegen/jobs`: codegen's fields, with `quantity` for `batch_size`."""

    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_JOB_QUANTITY)]


class JobRecord(BaseModel):
    store_hash: str
    promotion_id: int
    job_id: str
    status: JobStatus
    quantity: int
    max_uses: int
    max_uses_per_customer: int
    code_format: CodeFormat
    created: datetime
    batches_total: int
    # Batches recorded and sent to the job lane so far; at most `window` more than `batches_done`.
    batches_released: int = 0
    batches_done: int = 0
    generated: int = 0
    failed: int = 0
    completed: datetime | None = None
    export_key: str | None = None
    error: str | None = None
    source: str = "api"
    # The store's schedule whose tick started the job (EXT "Schedules").
    schedule_id: str | None = None
    # When the job last moved on (a batch finished or was released); the sweeper judges staleness from it.
    progressed: datetime | None = None
    # Its window of batches in flight, recorded when it starts running (JOB_WINDOW for jobs recorded before).
    window: int | None = None
    # Its CSV's assembly: the multipart upload, the batches each part holds, and each uploaded part's ETag by
    # part number (all three cleared when a lost CSV is assembled again).
    assembly_upload_id: str | None = None
    assembly_part_batches: int | None = None
    assembly_parts: dict[int, str] | None = None

    @property
    def batches_in_flight(self) -> int:
        """The most batches it keeps in flight at once."""
        return self.window or JOB_WINDOW

    @property
    def last_progress(self) -> datetime:
        return self.progressed or self.created

    def batch_size_of(self, index: int) -> int:
        """Batch `index` holds 250 codes, the last one what remains."""
        return min(MAX_BATCH_SIZE, self.quantity - index * MAX_BATCH_SIZE)

    @staticmethod
    def batches_for(quantity: int) -> int:
        return -(-quantity // MAX_BATCH_SIZE)


class JobView(BaseModel):
    id: str
    status: str
    quantity: int
    generated: int
    failed: int
    created: str
    completed: str | None = None
    max_uses: int
    max_uses_per_customer: int
    download_url: str | None = None
    error: str | None = None
    schedule_id: str | None = None


class JobResponse(BaseModel):
    data: JobView
    meta: dict[str, Any] = Field(default_factory=dict)


class JobCollection(BaseModel):
    data: list[JobView]
    meta: dict[str, Any]


def job_batch_id(job_id: str, index: int) -> str:
    """Deterministic, so planning the same job twice makes the same batches."""
    return f"{job_id}-{index:05d}"
