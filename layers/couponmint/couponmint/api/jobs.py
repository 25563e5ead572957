"""Bulk jobs (couponmint's extension): start, list, read, cancel."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from couponmint.adapters.factory import export_store, job_queue, repositories
from couponmint.api.idempotency import answered_once
from couponmint.api.openapi import READ_ERRORS, WRITE_ERRORS, answers
from couponmint.api.paths import JOB, JOBS, job_location, promotion_id_of
from couponmint.api.views import job_view, json_response
from couponmint.logic.pagination import MAX_LIMIT
from couponmint.models.jobs import JobCollection, JobRequest, JobResponse
from couponmint.service import assembly, jobs

router = Router()


@router.post(
    JOBS,
    summary="Start a bulk job of up to 1,000,000 codes (couponmint extension)",
    responses=answers(202, JobResponse, *WRITE_ERRORS),
)
def start_job(store_hash: str, promotion_id: str, body: Annotated[JobRequest, Body()]) -> Response[Any]:
    def start() -> Response[Any]:
        stores = repositories()
        job, _ = jobs.start_job(
            stores.promotions, stores.jobs, job_queue(), store_hash, promotion_id_of(promotion_id), body
        )
        location = job_location(store_hash, job.promotion_id, job.job_id)
        return json_response(202, JobResponse(data=job_view(job)), {"Location": location})

    return answered_once(router.current_event, start)


@router.get(
    JOBS,
    summary="List a promotion's bulk jobs (couponmint extension)",
    responses=answers(200, JobCollection, *READ_ERRORS),
)
def list_jobs(
    store_hash: str,
    promotion_id: str,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Response[Any]:
    stores = repositories()
    shown, meta = jobs.list_jobs(stores.promotions, stores.jobs, store_hash, promotion_id_of(promotion_id), page, limit)
    exported = [assembly.with_export(stores.jobs, export_store(), job_queue(), job) for job in shown]
    return json_response(200, JobCollection(data=[job_view(job) for job in exported], meta=meta))


@router.get(JOB, summary="Get a bulk job (couponmint extension)", responses=answers(200, JobResponse, *READ_ERRORS))
def get_job(store_hash: str, promotion_id: str, job_id: str) -> Response[Any]:
    stores = repositories()
    job = jobs.find_job(stores.jobs, store_hash, promotion_id_of(promotion_id), job_id)
    job = assembly.with_export(stores.jobs, export_store(), job_queue(), job)
    return json_response(200, JobResponse(data=job_view(job)))


@router.delete(
    JOB, summary="Cancel a bulk job (couponmint extension)", responses=answers(200, JobResponse, *READ_ERRORS)
)
def cancel_job(store_hash: str, promotion_id: str, job_id: str) -> Response[Any]:
    job = jobs.cancel_job(repositories().jobs, store_hash, promotion_id_of(promotion_id), job_id)
    return json_response(200, JobResponse(data=job_view(job)))
