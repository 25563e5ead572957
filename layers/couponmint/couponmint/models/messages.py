"""Queue messages: one model shared by the producer (API) and the consumer (generator)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Json, StrictInt, Tag

from couponmint.models.codegen import CodeFormat


class NewBatch(BaseModel):
    """What a codegen request asked for. Its batch is not recorded yet: the generator records it in the
    transaction that claims its first codes (one write instead of the API's put, a read and a write-ahead)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: Annotated[StrictInt, Field(ge=1)]
    max_uses: StrictInt
    max_uses_per_customer: StrictInt
    code_format: CodeFormat
    created: datetime


class GenerateBatchMessage(BaseModel):
    """Asks the generator to complete one batch: a recorded one (a job's), or a codegen request's `new` one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["batch"] = "batch"
    store_hash: Annotated[str, Field(min_length=1, max_length=64)]
    promotion_id: StrictInt
    batch_id: Annotated[str, Field(min_length=1, max_length=64)]
    new: NewBatch | None = None


class PlanJobMessage(BaseModel):
    """Asks the job lane to start a recorded job: release its first window of batches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["plan_job"] = "plan_job"
    store_hash: Annotated[str, Field(min_length=1, max_length=64)]
    job_id: Annotated[str, Field(min_length=1, max_length=64)]


class AssembleJobMessage(BaseModel):
    """Asks the job lane to assemble a finished job's CSV from its batches' exports: without `part`, to start
    (open the multipart upload once and send a message for each part not yet uploaded); with `part`, to upload
    that part of the upload `upload_id` (and, whoever records the last part, to complete the upload)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["assemble_job"] = "assemble_job"
    store_hash: Annotated[str, Field(min_length=1, max_length=64)]
    job_id: Annotated[str, Field(min_length=1, max_length=64)]
    # S3 numbers a multipart upload's parts 1 to 10,000.
    part: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    upload_id: Annotated[str, Field(min_length=1, max_length=1024)] | None = None


def _kind_of(message: Any) -> str:
    # Messages without a `kind` are batch messages (the first kind there was).
    if isinstance(message, dict):
        return str(message.get("kind", "batch"))
    return str(getattr(message, "kind", "batch"))


QueueMessage = Annotated[
    Annotated[GenerateBatchMessage, Tag("batch")]
    | Annotated[PlanJobMessage, Tag("plan_job")]
    | Annotated[AssembleJobMessage, Tag("assemble_job")],
    Discriminator(_kind_of),
]


class GenerateBatchRecord(SqsRecordModel):
    """An SQS record whose body is one of the queue's messages (parsed by the batch processor)."""

    body: Json[QueueMessage]  # type: ignore[assignment]
