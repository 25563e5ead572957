"""The API's description: each operation's documented answers, and the served OpenAPI document."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from pydantic import BaseModel

from couponmint.models.errors import ERROR_MODELS, BulkErrorList

TITLE = "couponmint"
VERSION = "1.0.0"
READ_ERRORS = (401, 403, 404, 405, 429, 422)
WRITE_ERRORS = (400, 401, 403, 404, 405, 413, 429, 422)
BULK_422 = {"description": "Missing or malformed id:in", "content": {"application/json": {"model": BulkErrorList}}}


def answers(status: int, model: type[BaseModel] | None, *errors: int, **more: Any) -> dict[int, Any]:
    """The `responses` of an operation: its success and the errors it can answer, with their bodies."""
    documented: dict[int, Any] = {
        # An empty `content` keeps Powertools from describing a 204 with the route's return type.
        status: {"description": "Success", "content": {"application/json": {"model": model}} if model else {}}
    }
    for code in errors:
        description, error_model = ERROR_MODELS[code]
        documented[code] = {"description": description, "content": {"application/json": {"model": error_model}}}
    for name, spec in more.items():
        documented[int(name.removeprefix("status_"))] = spec
    return documented


def serve_description(app: APIGatewayRestResolver) -> None:
    """`GET /openapi.json` and Swagger UI at `/swagger`, both without a token."""
    app.enable_swagger(path="/swagger", title=TITLE, version=VERSION)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[Any]:
        return Response(200, content_types.APPLICATION_JSON, openapi_json(app))


def openapi_json(app: APIGatewayRestResolver) -> str:
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        summary="BigCommerce-compatible bulk coupon codes",
        description="Paths are those of BigCommerce's promotions v3 API; every request needs X-Auth-Token.",
    )
