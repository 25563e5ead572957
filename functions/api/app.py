"""ApiFunction: the resolver, the layer's routers, the handler."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from couponmint.api import (
    admission,
    codegen,
    codes,
    console,
    errors,
    hooks,
    jobs,
    promotions,
    redemptions,
    schedules,
)
from couponmint.api.methods import answer_other_methods
from couponmint.api.openapi import serve_description
from couponmint.api.resolver import CouponmintResolver
from couponmint.observability import logger, metrics, tracer

app = CouponmintResolver()
serve_description(app)
# Order matters where paths overlap: redemptions (`/promotions/codes/...`) and codes (`/promotions/codes`) before
# promotions (`/promotions/<id>`).
for router in (
    admission.router,
    errors.router,
    console.router,
    codegen.router,
    jobs.router,
    redemptions.router,
    schedules.router,
    codes.router,
    promotions.router,
    hooks.router,
):
    app.include_router(router)
answer_other_methods(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
