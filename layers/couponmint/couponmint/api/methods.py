"""What a path does not serve: 405 with `Allow` for every other method, and 404 for unknown paths.

The allowed methods come from the routes the resolver holds, so a new route needs nothing here.
"""

from collections import defaultdict
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from couponmint.api.errors import answer, no_route
from couponmint.models.errors import method_not_allowed

ALL_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE", "POST", "PUT", "PATCH", "DELETE")
# The handlers registered here, told apart from the API's own routes.
_REFUSALS: set[Any] = set()


def served_routes(app: APIGatewayRestResolver) -> dict[str, list[str]]:
    """Each path the API serves under /stores (as registered) → its methods, in registration order."""
    served: dict[str, list[str]] = defaultdict(list)
    for route in app._static_routes + app._dynamic_routes:
        if route.func in _REFUSALS or not route.path.startswith("/stores/"):
            continue
        if route.method not in served[route.path]:
            served[route.path].append(route.method)
    return dict(served)


def answer_other_methods(app: APIGatewayRestResolver) -> None:
    """Register, after every real route, a 405 for each method a path does not serve, and the 404."""
    for path, allowed in served_routes(app).items():
        allow = ", ".join(allowed)

        def wrong_method(allow: str = allow, **_: str) -> Response[Any]:
            return answer(method_not_allowed(f"This endpoint only accepts {allow}."), {"Allow": allow})

        _REFUSALS.add(wrong_method)
        others = [method for method in ALL_METHODS if method not in allowed]
        app.route(path, method=others, include_in_schema=False, enable_validation=False)(wrong_method)

    @app.not_found
    def unknown_path(_: Exception) -> Response[Any]:
        return no_route()
