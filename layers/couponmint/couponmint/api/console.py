"""The marketer console's pages and assets (couponmint.console), served without a token.

Every API call the console makes carries the marketer's token, so it can do nothing that token cannot.
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from couponmint import console
from couponmint.errors import NotFound

router = Router()


@router.get(console.PAGE_PATH, include_in_schema=False, enable_validation=False)
@router.get(f"{console.PAGE_PATH}/<asset>", include_in_schema=False, enable_validation=False)
def console_asset(**_: str) -> Response[Any]:
    event = router.current_event
    served = console.serve(event.path, event.headers.get("If-None-Match"))
    if served is None:
        raise NotFound(f"no route for {event.path}")
    return Response(served.status, served.content_type, served.body, served.headers)
