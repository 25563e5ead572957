"""How records are shown: JSON answers, and the views of batches and jobs (with presigned download URLs)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from couponmint.adapters.factory import export_store
from couponmint.config import get_settings
from couponmint.models.codegen import BatchResponse, BatchView, iso_timestamp
from couponmint.models.jobs import JobRecord, JobStatus, JobView
from couponmint.models.records import BatchRecord, BatchStatus
from couponmint.service import codegen


def json_response(status: int, payload: BaseModel, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, payload.model_dump_json(), headers)


def no_content() -> Response[Any]:
    return Response(204, None, "")


def download_url(key: str) -> str:
    return export_store().download_url(key, get_settings().presign_seconds)


def batch_response(batch: BatchRecord) -> BatchResponse:
    done = batch.status is BatchStatus.DONE
    view = BatchView(
        id=batch.batch_id,
        status=batch.status.value,
        created=iso_timestamp(batch.created),
        max_uses=batch.max_uses,
        max_uses_per_customer=batch.max_uses_per_customer,
        batch_size=batch.batch_size,
        codes=codegen.batch_data(batch).codes if done else [],
        download_url=download_url(batch.export_key) if done and batch.export_key else None,
        error=batch.error,
    )
    return BatchResponse(data=view)


def job_view(job: JobRecord) -> JobView:
    done = job.status is JobStatus.COMPLETED and job.export_key
    return JobView(
        id=job.job_id,
        status=job.status.value,
        quantity=job.quantity,
        generated=job.generated,
        failed=job.failed,
        created=iso_timestamp(job.created),
        completed=iso_timestamp(job.completed) if job.completed else None,
        max_uses=job.max_uses,
        max_uses_per_customer=job.max_uses_per_customer,
        download_url=download_url(job.export_key) if done and job.export_key else None,
        error=job.error,
        schedule_id=job.schedule_id,
    )
