"""Error bodies in the shapes of BigCommerce's spec (api/errors.py maps errors to them)."""

from typing import Any

from pydantic import BaseModel

STATUS_CODES_DOC = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
FORBIDDEN_TITLE = "You don't have a required scope to access the endpoint"


class Problem(BaseModel):
    """An HTTP error answer: status and JSON body."""

    status: int
    body: dict[str, Any]


def detail_problem(status: int, title: str, detail: str) -> Problem:
    """The 400-style body: status, title, type, detail."""
    return Problem(status=status, body={"status": status, "title": title, "type": STATUS_CODES_DOC, "detail": detail})


def unprocessable(problems: list[str]) -> Problem:
    """The 422 body: one entry per problem."""
    return Problem(status=422, body={"errors": [{"status": 422, "title": p} for p in problems]})


def method_not_allowed(message: str) -> Problem:
    return Problem(status=405, body={"status": 405, "title": "Method Not Allowed", "error": message})


def bulk_problem(problems: list[str], *, total: int = 0, failed: int = 0) -> Problem:
    """The 422 of BigCommerce's bulk actions: errors plus a meta of totals."""
    return Problem(
        status=422,
        body={
            "errors": [{"status": 422, "title": p, "type": STATUS_CODES_DOC} for p in problems],
            "meta": {"total": total, "success": total - failed, "failed": failed},
        },
    )


# ---------------------------------------------------------------- the error bodies, as models for the OpenAPI document
class DetailError(BaseModel):
    """400, 401, 404, 409, 413 and 500 answers."""

    status: int
    title: str
    type: str
    detail: str


class ScopeError(BaseModel):
    """403 and 405 answers."""

    status: int
    title: str
    error: str


class ErrorEntry(BaseModel):
    status: int
    title: str
    type: str | None = None


class ErrorList(BaseModel):
    """422 answers: one entry per problem."""

    errors: list[ErrorEntry]


class BulkMeta(BaseModel):
    total: int
    success: int
    failed: int


class BulkErrorList(BaseModel):
    """422 answers of bulk deletes."""

    errors: list[ErrorEntry]
    meta: BulkMeta


ERROR_MODELS: dict[int, tuple[str, type[BaseModel]]] = {
    400: ("The body is not a JSON object", DetailError),
    401: ("Missing or unknown X-Auth-Token", DetailError),
    403: ("The token lacks the scope or the store", ScopeError),
    404: ("No such resource in this store", DetailError),
    405: ("Not allowed for this resource", ScopeError),
    409: ("Conflicts with existing data", DetailError),
    413: ("The body is larger than 1 MiB", DetailError),
    422: ("A field or parameter is invalid", ErrorList),
    429: ("Over the store's request quota or concurrent requests; see X-Retry-After", DetailError),
    500: ("The batch failed", DetailError),
}
