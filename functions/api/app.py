"""ApiFunction: Powertools wiring and routes only. Parse → call the layer → shape the answer."""

import base64
import json
import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from couponmint import console
from couponmint.adapters import idempotency
from couponmint.adapters.factory import batch_queue, coupon_table, export_store
from couponmint.config import get_settings
from couponmint.errors import Conflict, CouponmintError, InvalidRequest, NotFound, PayloadTooLarge, TooManyRequests
from couponmint.logic.limits import DEFAULT_QUOTA, DEFAULT_WINDOW_MS, RateState
from couponmint.logic.pagination import MAX_LIMIT, PageRequest, integer_id, offset_page, parse_id_list
from couponmint.models.codegen import (
    BatchResponse,
    BatchView,
    CodegenRequest,
    CodegenResponse,
    iso_timestamp,
)
from couponmint.models.codes import CouponCode, CouponCodeCollection, CouponCodeResponse, CreateCodeRequest
from couponmint.models.errors import (
    ERROR_MODELS,
    BulkErrorList,
    Problem,
    bulk_problem,
    method_not_allowed,
    problem_for,
    unprocessable,
    validation_problem,
)
from couponmint.models.jobs import JobCollection, JobRecord, JobRequest, JobResponse, JobStatus, JobView
from couponmint.models.promotions import (
    PromotionCollection,
    PromotionDraft,
    PromotionPatch,
    PromotionResponse,
    saved_promotion,
)
from couponmint.models.records import BatchRecord, BatchStatus
from couponmint.observability import logger, metrics, tracer
from couponmint.service import accounts, codegen, codes, jobs, limits, promotions

app = APIGatewayRestResolver(enable_validation=True)

PROMOTIONS = "/stores/<store_hash>/v3/promotions"
CODES_BY_TEXT = f"{PROMOTIONS}/codes"
PROMOTION = f"{PROMOTIONS}/<promotion_id>"
CODES = f"{PROMOTION}/codes"
CODE = f"{CODES}/<code_id>"
CODEGEN = f"{PROMOTION}/codegen"
BATCH = f"{CODEGEN}/batches/<batch_id>"
JOBS = f"{CODEGEN}/jobs"
JOB = f"{JOBS}/<job_id>"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "TRACE", "POST", "PUT", "PATCH", "DELETE"]
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
STORE_IN_PATH = re.compile(r"^/stores/([^/]+)/")


# ---------------------------------------------------------------- the OpenAPI document's answers
READ_ERRORS = (401, 403, 404, 405, 429, 422)
WRITE_ERRORS = (400, 401, 403, 404, 405, 413, 429, 422)


def answers(status: int, model: type[BaseModel] | None, *errors: int, **more: Any) -> dict[int, Any]:
    """The `responses` of an operation: its success and the errors it can answer, with their bodies."""
    documented: dict[int, Any] = {
        # An empty `content` keeps Powertools from describing a 204 with the route's return type.
        status: {"description": "Success", "content": {"application/json": {"model": model}} if model else {}}
    }
    for code in errors:
        description, error_model = ERROR_MODELS[code]
        documented[code] = {"description": description, "content": {"application/json": {"model": error_model}}}
    for code, spec in more.items():
        documented[int(code.removeprefix("status_"))] = spec
    return documented


BULK_422 = {"description": "Missing or malformed id:in", "content": {"application/json": {"model": BulkErrorList}}}


# ---------------------------------------------------------------- admission (every request)
def admit_request() -> None:
    """Size and authentication checks that come before anything else about the request."""
    event = app.current_event
    if event.path in OPEN_PATHS:
        return
    body = event.body or ""
    if len(body.encode("utf-8")) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"the request body is larger than {get_settings().max_body_bytes} bytes")
    match = STORE_IN_PATH.match(event.path)
    if match is None:
        raise NotFound(f"no route for {event.path}")
    table = coupon_table()
    store_hash = match.group(1)
    accounts.authorize(
        table, event.headers.get("X-Auth-Token"), store_hash, modifies=event.http_method.upper() not in READ_METHODS
    )
    state = limits.count_request(table, store_hash)
    app.append_context(rate=state)
    limits.refuse_if_exceeded(state)


def admission(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    app.append_context(rate=None)
    admit_request()
    response = next_middleware(app)
    response.headers.update(rate_headers())
    return response


def rate_headers() -> dict[str, str]:
    """The four X-Rate-Limit headers every answer carries (counted by admission, else only read)."""
    state: RateState | None = app.context.get("rate")
    if state is None:
        match = STORE_IN_PATH.match(app.current_event.path)
        state = (
            limits.peek(coupon_table(), match.group(1))
            if match
            else RateState.at(0, DEFAULT_QUOTA, DEFAULT_WINDOW_MS, 0)
        )
    return state.headers()


app.use(middlewares=[admission])


# ---------------------------------------------------------------- errors, mapped in one place
def answer(problem: Problem, headers: dict[str, str] | None = None) -> Response[Any]:
    every = {**rate_headers(), **(headers or {})}
    return Response(problem.status, content_types.APPLICATION_JSON, json.dumps(problem.body), every)


@app.exception_handler(CouponmintError)
def on_domain_error(error: CouponmintError) -> Response[Any]:
    retry = {"X-Retry-After": str(error.retry_after)} if isinstance(error, TooManyRequests) else {}
    return answer(problem_for(error), retry)


@app.exception_handler(IdempotencyValidationError)
def on_reused_key(_: IdempotencyValidationError) -> Response[Any]:
    return answer(unprocessable(["Idempotency-Key: already used with a different request body"]))


@app.exception_handler(IdempotencyAlreadyInProgressError)
def on_key_in_progress(_: IdempotencyAlreadyInProgressError) -> Response[Any]:
    return answer(problem_for(Conflict("a request with this Idempotency-Key is still in progress; retry later")))


@app.exception_handler(RequestValidationError)
def on_invalid_request(error: RequestValidationError) -> Response[Any]:
    # Powertools validates the body before any middleware runs; size and authentication still answer first.
    try:
        admit_request()
    except CouponmintError as refused:
        return on_domain_error(refused)
    problem = validation_problem(list(error.errors()))
    if problem.status == 422 and app.current_event.http_method.upper() == "DELETE":
        # Every DELETE here is a bulk action in BigCommerce's spec, whose 422 carries the bulk meta.
        return answer(bulk_problem([entry["title"] for entry in problem.body["errors"]]))
    return answer(problem)


def once(produce: Callable[[], Response[Any]]) -> Response[Any]:
    """Run a POST's work once per Idempotency-Key: a retry gets the first answer back (and creates nothing)."""
    event = app.current_event
    key = event.headers.get("Idempotency-Key")
    if not key:
        return produce()

    def answer_of_produce() -> dict[str, Any]:
        response = produce()
        return {"status": response.status_code, "body": response.body, "headers": dict(response.headers)}

    request = {"path": event.path, "key": key, "body": event.json_body}
    try:
        answered = idempotency.remembering()(request=request, produce=answer_of_produce)
    except idempotency.NotRemembered as passing:
        answered = passing.answer
    return Response(answered["status"], None, answered["body"], answered["headers"])


def promotion_id_of(raw: str) -> int:
    promotion_id = integer_id(raw)
    if promotion_id is None:
        raise NotFound(f"promotion {raw} does not exist")
    return promotion_id


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, payload.model_dump_json(), headers)


# ---------------------------------------------------------------- the API's own description (no token needed)
OPEN_PATHS = {"/openapi.json", "/swagger"}
app.enable_swagger(path="/swagger", title="couponmint", version="1.0.0")


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[Any]:
    return Response(200, content_types.APPLICATION_JSON, openapi_json())


def openapi_json() -> str:
    return app.get_openapi_json_schema(
        title="couponmint",
        version="1.0.0",
        summary="BigCommerce-compatible bulk coupon codes",
        description="Paths are those of BigCommerce's promotions v3 API; every request needs X-Auth-Token.",
    )


# ---------------------------------------------------------------- the marketer console (static, no token)
# Pages and assets from couponmint.console; every API call the console makes carries the marketer's token.
OPEN_PATHS.update(console.PATHS)


@app.get(console.PAGE_PATH, include_in_schema=False, enable_validation=False)
@app.get(f"{console.PAGE_PATH}/<asset>", include_in_schema=False, enable_validation=False)
def console_asset(**_: str) -> Response[Any]:
    served = console.serve(app.current_event.path, app.current_event.headers.get("If-None-Match"))
    if served is None:
        raise NotFound(f"no route for {app.current_event.path}")
    return Response(served.status, served.content_type, served.body, served.headers)


# ---------------------------------------------------------------- end of the console


# ---------------------------------------------------------------- codegen
@app.post(
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
    return once(lambda: generate(store_hash, promotion_id_of(promotion_id), body))


def generate(store_hash: str, promotion_id: int, body: CodegenRequest) -> Response[Any]:
    finished = codegen.generate(
        coupon_table(), batch_queue(), store_hash, promotion_id, body, get_settings().api_wait_seconds
    )
    metrics.add_metric(name="BatchesRequested", unit=MetricUnit.Count, value=1)
    if finished.status not in codegen.FINISHED:
        location = f"/stores/{store_hash}/v3/promotions/{promotion_id}/codegen/batches/{finished.batch_id}"
        logger.info("batch still running, answering 202", batch_id=finished.batch_id)
        return json_response(202, batch_response(finished), {"Location": location})
    return json_response(201, CodegenResponse(data=codegen.batch_data(finished)))


@app.get(
    BATCH, summary="Get a codegen batch (couponmint extension)", responses=answers(200, BatchResponse, *READ_ERRORS)
)
@tracer.capture_method
def get_batch(store_hash: str, promotion_id: str, batch_id: str) -> Response[Any]:
    batch = codegen.find_batch(coupon_table(), store_hash, promotion_id_of(promotion_id), batch_id)
    return json_response(200, batch_response(batch))


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
        download_url=(
            export_store().download_url(batch.export_key, get_settings().presign_seconds)
            if done and batch.export_key
            else None
        ),
        error=batch.error,
    )
    return BatchResponse(data=view)


# ---------------------------------------------------------------- bulk jobs (couponmint extension)
@app.post(
    JOBS,
    summary="Start a bulk job of up to 1,000,000 codes (couponmint extension)",
    responses=answers(202, JobResponse, *WRITE_ERRORS),
)
def start_job(store_hash: str, promotion_id: str, body: Annotated[JobRequest, Body()]) -> Response[Any]:
    def start() -> Response[Any]:
        job, _ = jobs.start_job(coupon_table(), batch_queue(), store_hash, promotion_id_of(promotion_id), body)
        location = f"/stores/{store_hash}/v3/promotions/{job.promotion_id}/codegen/jobs/{job.job_id}"
        return json_response(202, JobResponse(data=job_view(job)), {"Location": location})

    return once(start)


@app.get(
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
    shown, meta = offset_page(coupon_table().jobs_of_promotion(store_hash, promotion_id_of(promotion_id)), page, limit)
    return json_response(200, JobCollection(data=[job_view(job) for job in shown], meta=meta))


@app.get(JOB, summary="Get a bulk job (couponmint extension)", responses=answers(200, JobResponse, *READ_ERRORS))
def get_job(store_hash: str, promotion_id: str, job_id: str) -> Response[Any]:
    job = jobs.find_job(coupon_table(), store_hash, promotion_id_of(promotion_id), job_id)
    return json_response(200, JobResponse(data=job_view(job)))


@app.delete(JOB, summary="Cancel a bulk job (couponmint extension)", responses=answers(200, JobResponse, *READ_ERRORS))
def cancel_job(store_hash: str, promotion_id: str, job_id: str) -> Response[Any]:
    job = jobs.cancel_job(coupon_table(), store_hash, promotion_id_of(promotion_id), job_id)
    return json_response(200, JobResponse(data=job_view(job)))


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
        download_url=export_store().download_url(job.export_key, get_settings().presign_seconds) if done else None,
        error=job.error,
    )


# ---------------------------------------------------------------- coupon codes
# Registered before PROMOTION: `/promotions/codes` must not be read as a promotion id.
@app.get(CODES_BY_TEXT, summary="Get A Coupon Code", responses=answers(200, CouponCodeCollection, *READ_ERRORS))
def get_code_by_text(store_hash: str, code: Annotated[str, Query(min_length=1)]) -> Response[Any]:
    found = codes.find_code(coupon_table(), store_hash, code)
    data = [CouponCode.of(found)] if found else []
    return json_response(200, CouponCodeCollection(data=data, meta={}))


@app.delete(
    CODES_BY_TEXT, summary="Delete A Coupon Code", responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422)
)
def delete_code_by_text(store_hash: str, code: Annotated[str, Query(min_length=1)]) -> Response[Any]:
    codes.delete_code_by_text(coupon_table(), store_hash, code)
    return no_content()


@app.get(CODES, summary="Get Coupon Codes", responses=answers(200, CouponCodeCollection, *READ_ERRORS))
def list_codes(
    store_hash: str,
    promotion_id: str,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    before: Annotated[str | None, Query()] = None,
    after: Annotated[str | None, Query()] = None,
    page: Annotated[int | None, Query(ge=1, deprecated=True)] = None,
    code: Annotated[str | None, Query()] = None,
) -> Response[Any]:
    request = PageRequest.parse(limit, before, after, page)
    table = coupon_table()
    with limits.concurrency_slot(table, store_hash, "list", uuid.uuid4().hex):
        listing = codes.list_codes(table, store_hash, promotion_id_of(promotion_id), request, code)
    return json_response(200, listing)


@app.post(CODES, summary="Create A Coupon Code", responses=answers(201, CouponCodeResponse, *WRITE_ERRORS, 409))
def create_code(store_hash: str, promotion_id: str, body: Annotated[CreateCodeRequest, Body()]) -> Response[Any]:
    def add() -> Response[Any]:
        record = codes.add_code(coupon_table(), store_hash, promotion_id_of(promotion_id), body)
        return json_response(201, CouponCodeResponse(data=CouponCode.of(record)))

    return once(add)


@app.delete(
    CODES, summary="Delete Multiple Coupon Codes", responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422)
)
def delete_codes(
    store_hash: str, promotion_id: str, id_in: Annotated[str | None, Query(alias="id:in")] = None
) -> Response[Any]:
    try:
        code_ids = parse_id_list(id_in)
    except InvalidRequest as error:
        return answer(bulk_problem(error.problems))
    codes.delete_codes_by_id(coupon_table(), store_hash, promotion_id_of(promotion_id), code_ids)
    return no_content()


@app.delete(
    CODE, summary="Delete A Coupon Code by id", responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422)
)
def delete_code(store_hash: str, promotion_id: str, code_id: str) -> Response[Any]:
    if (number := integer_id(code_id)) is not None:
        codes.delete_codes_by_id(coupon_table(), store_hash, promotion_id_of(promotion_id), [number])
    return no_content()


# ---------------------------------------------------------------- promotions
@app.get(PROMOTIONS, summary="Get All Promotions", responses=answers(200, PromotionCollection, *READ_ERRORS))
def list_promotions(
    store_hash: str,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    name: Annotated[str | None, Query()] = None,
    redemption_type: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    id_in: Annotated[str | None, Query(alias="id:in")] = None,
) -> Response[Any]:
    ids = parse_id_list(id_in) if id_in is not None else None
    listing = promotions.list_promotions(
        coupon_table(),
        store_hash,
        page=page,
        limit=limit,
        name=name,
        redemption_type=redemption_type,
        status=status,
        ids=ids,
    )
    return json_response(200, listing)


@app.post(PROMOTIONS, summary="Create Promotion", responses=answers(201, PromotionResponse, *WRITE_ERRORS))
def create_promotion(store_hash: str, body: Annotated[PromotionDraft, Body()]) -> Response[Any]:
    def create() -> Response[Any]:
        record = promotions.create_promotion(coupon_table(), store_hash, body)
        return json_response(201, PromotionResponse(data=saved_promotion(record)))

    return once(create)


@app.delete(
    PROMOTIONS,
    summary="Delete Multiple Promotions",
    responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422),
)
def delete_promotions(store_hash: str, id_in: Annotated[str | None, Query(alias="id:in")] = None) -> Response[Any]:
    try:
        ids = parse_id_list(id_in, maximum=promotions.MAX_DELETE)
    except InvalidRequest as error:
        return answer(bulk_problem(error.problems))
    refused = promotions.delete_promotions(coupon_table(), store_hash, ids)
    if refused:
        title = f"Promotions {', '.join(map(str, refused))} still have coupon codes and cannot be deleted."
        return answer(bulk_problem([title], total=len(ids), failed=len(refused)))
    return no_content()


@app.get(PROMOTION, summary="Get Promotion", responses=answers(200, PromotionResponse, *READ_ERRORS))
def get_promotion(store_hash: str, promotion_id: str) -> Response[Any]:
    record = promotions.get_promotion(coupon_table(), store_hash, promotion_id_of(promotion_id))
    return json_response(200, PromotionResponse(data=saved_promotion(record)))


@app.put(PROMOTION, summary="Update Promotion", responses=answers(200, PromotionResponse, *WRITE_ERRORS))
def update_promotion(store_hash: str, promotion_id: str, body: Annotated[PromotionPatch, Body()]) -> Response[Any]:
    record = promotions.update_promotion(coupon_table(), store_hash, promotion_id_of(promotion_id), body)
    return json_response(200, PromotionResponse(data=saved_promotion(record)))


@app.delete(PROMOTION, summary="Delete Promotion", responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422))
def delete_promotion(store_hash: str, promotion_id: str) -> Response[Any]:
    if (number := integer_id(promotion_id)) is not None:
        refused = promotions.delete_promotions(coupon_table(), store_hash, [number])
        if refused:
            return answer(bulk_problem([f"Promotion {promotion_id} still has coupon codes and cannot be deleted."]))
    return no_content()


def no_content() -> Response[Any]:
    return Response(204, None, "")


# ---------------------------------------------------------------- methods a path does not serve
def register_wrong_methods(path: str, allowed: list[str]) -> None:
    """Answer 405 with `Allow` for every other method on `path`."""

    def wrong_method(**_: str) -> Response[Any]:
        allow = ", ".join(allowed)
        return answer(method_not_allowed(f"This endpoint only accepts {allow}."), {"Allow": allow})

    others = [m for m in ALL_METHODS if m not in allowed]
    app.route(path, method=others, include_in_schema=False, enable_validation=False)(wrong_method)


for route_path, route_methods in [
    (CODES_BY_TEXT, ["GET", "DELETE"]),
    (CODES, ["GET", "POST", "DELETE"]),
    (CODE, ["DELETE"]),
    (CODEGEN, ["POST"]),
    (BATCH, ["GET"]),
    (JOBS, ["GET", "POST"]),
    (JOB, ["GET", "DELETE"]),
    (PROMOTIONS, ["GET", "POST", "DELETE"]),
    (PROMOTION, ["GET", "PUT", "DELETE"]),
]:
    register_wrong_methods(route_path, route_methods)


@app.not_found
def no_route(_: Exception) -> Response[Any]:
    return answer(problem_for(NotFound(f"no route for {app.current_event.path}")))


def as_json_request(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body as JSON text, whatever Content-Type or encoding the client sent.

    Every body this API takes is JSON, as on BigCommerce: `curl -d` alone says form-encoded, and Powertools
    would parse such a body as a form. A body API Gateway passed as base64 (binary) is decoded here; bytes
    that are not UTF-8 cannot be JSON, and their replacement characters make the body answer 400.
    """

    def declared_json(headers: dict[str, Any] | None, value: Any) -> dict[str, Any]:
        kept = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
        return {**kept, "Content-Type": value}

    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return {
        **event,
        "body": body,
        "isBase64Encoded": False,
        "headers": declared_json(event.get("headers"), "application/json"),
        "multiValueHeaders": declared_json(event.get("multiValueHeaders"), ["application/json"]),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.CONFIG.register_lambda_context(context)
    return app.resolve(as_json_request(event), context)
