"""What every request goes through before its route: size, authentication, the store's request quota.

Every answer then carries the store's four X-Rate-Limit headers (BigCommerce's client reads them as a set).
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from couponmint.adapters.factory import repositories
from couponmint.api.paths import OPEN_PATHS, store_of
from couponmint.config import get_settings
from couponmint.errors import NotFound, PayloadTooLarge
from couponmint.logic.limits import DEFAULT_QUOTA, DEFAULT_WINDOW_MS, RateState
from couponmint.service import accounts, limits

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

router = Router()


def admit() -> None:
    """Size and authentication checks that come before anything else about the request, then its count."""
    event = router.current_event
    if event.path in OPEN_PATHS:
        return
    body = event.body or ""
    if len(body.encode("utf-8")) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"the request body is larger than {get_settings().max_body_bytes} bytes")
    store_hash = store_of(event.path)
    # A route's pattern ends in `$`, which also matches before a final newline: `/promotions/%0A` would be read
    # as `/promotions`. A path with a control character names nothing here.
    if store_hash is None or not event.path.isprintable():
        raise NotFound(f"no route for {event.path!r}")
    stores = repositories()
    accounts.authorize(
        stores.tokens,
        event.headers.get("X-Auth-Token"),
        store_hash,
        modifies=event.http_method.upper() not in READ_METHODS,
    )
    state = limits.count_request(stores.limits, store_hash)
    router.append_context(rate=state)
    limits.refuse_if_exceeded(state)


def admission(app: Any, next_middleware: NextMiddleware) -> Response[Any]:
    router.append_context(rate=None)
    admit()
    response = next_middleware(app)
    response.headers.update(rate_headers())
    return response


def rate_headers() -> dict[str, str]:
    """The four X-Rate-Limit headers every answer carries.

    A request admission counted shows its store's window. One refused before it was counted (no token, another
    store's token, too large) shows the default quota, untouched: it learns nothing of the store's figures,
    and costs no read.
    """
    state: RateState | None = router.context.get("rate")
    return (state or UNCOUNTED).headers()


UNCOUNTED = RateState.at(0, DEFAULT_QUOTA, DEFAULT_WINDOW_MS, 0)


router.use(middlewares=[admission])
