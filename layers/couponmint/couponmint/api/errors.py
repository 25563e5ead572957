"""The one map from errors to HTTP answers, in BigCommerce's shapes (models/errors.py holds the bodies)."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from couponmint.api.admission import admit, rate_headers
from couponmint.errors import (
    BatchFailed,
    Conflict,
    CouponmintError,
    Forbidden,
    InvalidRequest,
    NotAllowed,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthenticated,
)
from couponmint.models.errors import (
    FORBIDDEN_TITLE,
    Problem,
    bulk_problem,
    detail_problem,
    method_not_allowed,
    unprocessable,
)

router = Router()


def problem_for(error: CouponmintError) -> Problem:
    """The one map from domain errors to HTTP answers."""
    match error:
        case Unauthenticated():
            return detail_problem(401, "Unauthorized", str(error))
        case Forbidden():
            return Problem(status=403, body={"status": 403, "title": FORBIDDEN_TITLE, "error": str(error)})
        case NotFound():
            return detail_problem(404, "Not Found", str(error))
        case NotAllowed():
            return method_not_allowed(str(error))
        case Conflict():
            return detail_problem(409, "Conflict", str(error))
        case PayloadTooLarge():
            return detail_problem(413, "Payload Too Large", str(error))
        case InvalidRequest():
            return unprocessable(error.problems)
        case TooManyRequests():
            return detail_problem(429, "Too Many Requests", str(error))
        case BatchFailed():
            return detail_problem(500, "Code generation failed", str(error))
    return detail_problem(400, "Bad Request", str(error))


# Errors about the body as a whole: it is not JSON, or not a JSON object.
_SHAPE_ERRORS = {"json_invalid", "json_type", "model_attributes_type", "model_type", "dict_type", "missing"}


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    """400 when the body is not a JSON object; otherwise 422 with one entry per field problem."""
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid" or (loc == ("body",) and error.get("type") in _SHAPE_ERRORS):
            return detail_problem(400, "Input is invalid", "The request body must be a JSON object.")
    return unprocessable([_field_title(error) for error in errors])


def _field_title(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    field = ".".join(loc[1:]) if loc[:1] in (["body"], ["query"], ["path"]) else ".".join(loc)
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    # A validator's message may name its field already ("pattern: has 1 #").
    return f"{field}: {message}" if field and not message.startswith(f"{field}:") else message


def answer(problem: Problem, headers: dict[str, str] | None = None) -> Response[Any]:
    """An error answer, with the store's rate headers."""
    every = {**rate_headers(), **(headers or {})}
    return Response(problem.status, content_types.APPLICATION_JSON, json.dumps(problem.body), every)


@router.exception_handler(CouponmintError)
def on_domain_error(error: CouponmintError) -> Response[Any]:
    retry = {"X-Retry-After": str(error.retry_after)} if isinstance(error, TooManyRequests) else {}
    return answer(problem_for(error), retry)


@router.exception_handler(IdempotencyValidationError)
def on_reused_key(_: IdempotencyValidationError) -> Response[Any]:
    return answer(unprocessable(["Idempotency-Key: already used with a different request body"]))


@router.exception_handler(IdempotencyAlreadyInProgressError)
def on_key_in_progress(_: IdempotencyAlreadyInProgressError) -> Response[Any]:
    return answer(problem_for(Conflict("a request with this Idempotency-Key is still in progress; retry later")))


@router.exception_handler(RequestValidationError)
def on_invalid_request(error: RequestValidationError) -> Response[Any]:
    # Powertools validates the body before any middleware runs; size and authentication still answer first.
    try:
        admit()
    except CouponmintError as refused:
        return on_domain_error(refused)
    problem = validation_problem(list(error.errors()))
    if problem.status == 422 and router.current_event.http_method.upper() == "DELETE":
        # Every DELETE here is a bulk action in BigCommerce's spec, whose 422 carries the bulk meta.
        return answer(bulk_problem([entry["title"] for entry in problem.body["errors"]]))
    return answer(problem)


def no_route() -> Response[Any]:
    return answer(problem_for(NotFound(f"no route for {router.current_event.path}")))
