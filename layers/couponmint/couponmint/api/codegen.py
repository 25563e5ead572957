"""Generate Multiple Coupon Codes (BigCommerce's codegen), and the batch behind a 202 (couponmint's)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from couponmint.adapters.factory import codegen_queue, export_store, repositories
from couponmint.api.idempotency import answered_once
from couponmint.api.openapi import READ_ERRORS, WRITE_ERRORS, answers
from couponmint.api.paths import BATCH, CODEGEN, batch_location, promotion_id_of
from couponmint.api.views import batch_response, json_response
from couponmint.config import get_settings
from couponmint.models.codegen import BatchResponse, CodegenRequest, CodegenResponse
from couponmint.observability import logger, metrics, tracer
from couponmint.service import codegen

router = Router()


@router.post(
    CODEGEN,
    summary="Generate Multiple Coupon Codes",
    responses=answers(
        201,
        CodegenResponse,
        *WRITE_ERRORS,
        500,
        status_202={"description": "Still running", "content": {"application/json": {"model": BatchResponse}}},
    ),
)
@tracer.capture_method
def generate_codes(store_hash: str, promotion_id: str, body: Annotated[CodegenRequest, Body()]) -> Response[Any]:
    return answered_once(router.current_event, lambda: _generate(store_hash, promotion_id_of(promotion_id), body))


def _generate(store_hash: str, promotion_id: int, body: CodegenRequest) -> Response[Any]:
    stores = repositories()
    finished = codegen.generate(
        stores.promotions,
        stores.batches,
        stores.limits,
        codegen_queue(),
        store_hash,
        promotion_id,
        body,
        get_settings().api_wait_seconds,
    )
    metrics.add_metric(name="BatchesRequested", unit=MetricUnit.Count, value=1)
    if not finished.status.finished:
        logger.info("batch still running, answering 202", batch_id=finished.batch_id)
        location = batch_location(store_hash, promotion_id, finished.batch_id)
        return json_response(202, batch_response(finished), {"Location": location})
    return json_response(201, CodegenResponse(data=codegen.batch_data(finished)))


@router.get(
    BATCH, summary="Get a codegen batch (couponmint extension)", responses=answers(200, BatchResponse, *READ_ERRORS)
)
@tracer.capture_method
def get_batch(store_hash: str, promotion_id: str, batch_id: str) -> Response[Any]:
    batch = codegen.find_batch(repositories().batches, store_hash, promotion_id_of(promotion_id), batch_id)
    return json_response(200, batch_response(codegen.with_export(export_store(), batch)))
