"""What every request goes through before its route: size, authentication, the store's request quota.

Every answer then carries the store's four X-Rate-Limit headers (BigCommerce's client reads them as a set).
"""

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from couponmint.adapters.factory import repositories
from couponmint.api.paths import OPEN_PATHS, READING_POSTS, REDEMPTION_LANE, store_of
from couponmint.config import get_settings
from couponmint.errors import NotFound, PayloadTooLarge
from couponmint.logic.limits import DEFAULT_QUOTA, DEFAULT_WINDOW_MS, REDEMPTION_LANE_NAME, RateState
from couponmint.service import accounts, limits

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Counts of checkout calls made while their routes read (one per request; a few run at once on the local stack).
_COUNTING = ThreadPoolExecutor(max_workers=8, thread_name_prefix="quota")

router = Router()


def admit(*, deferred: bool = False) -> None:
    """Size and authentication checks that come before anything else about the request, then its count.

    `deferred`: a checkout's call (validate, redeem, roll back) is counted while its route reads the code: the
    route calls `admitted()` after its reads and before deciding or writing anything, which waits for the count
    and refuses past the quota. Nothing is written, and no answer but 429 given, before the quota allows it;
    except far from the quota, where the call goes on while it is counted (service/limits.py, "acting before the
    count is known"). Its answer waits for its count either way, for the headers.
    """
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
        modifies=modifies(event.http_method, event.path),
    )
    lane = REDEMPTION_LANE_NAME if REDEMPTION_LANE.match(event.path) else ""
    if deferred and lane:
        counting = _COUNTING.submit(limits.count_request, stores.limits, store_hash, lane=lane)
        router.append_context(rate=counting, lane=(store_hash, lane))
        return
    state = limits.count_request(stores.limits, store_hash, lane=lane)
    router.append_context(rate=state)
    limits.refuse_if_exceeded(state)


def admitted() -> None:
    """Wait for a deferred count (none: nothing to wait for) and refuse the request past its quota (429); or,
    while the store's window was last seen far from its quota, let the request go on as it is counted."""
    rate = router.context.get("rate")
    if isinstance(rate, Future) and not rate.done():
        store_hash, lane = router.context["lane"]
        if limits.clear_of_quota_as_seen(repositories().limits, store_hash, lane=lane):
            router.append_context(let_through=True)
            return
    state = _rate_state()
    if state is not None:
        limits.refuse_if_exceeded(state)


def _rate_state() -> RateState | None:
    """The request's rate state, once its count (deferred or not) is known."""
    rate = router.context.get("rate")
    if isinstance(rate, Future):
        rate = rate.result()
        router.append_context(rate=rate)
    return rate


def modifies(method: str, path: str) -> bool:
    """Whether a request needs the modify scope: every method but GET, HEAD and OPTIONS, except validate (a POST
    that changes nothing, so a read-only token may check a code)."""
    return method.upper() not in READ_METHODS and not READING_POSTS.match(path)


def admission(app: Any, next_middleware: NextMiddleware) -> Response[Any]:
    router.append_context(rate=None, let_through=False)
    admit(deferred=True)
    response = next_middleware(app)
    # A route that counted while it read has asked already; one that did not is held to its quota here. A route
    # let through before its count was known has acted: its answer stands, with its count in the headers.
    if not router.context.get("let_through"):
        admitted()
    response.headers.update(rate_headers())
    return response


def rate_headers() -> dict[str, str]:
    """The four X-Rate-Limit headers every answer carries.

    A request admission counted shows its store's window. One refused before it was counted (no token, another
    store's token, too large) shows the default quota, untouched: it learns nothing of the store's figures,
    and costs no read.
    """
    try:
        state = _rate_state()
    except Exception:  # the count itself failed: the answer (a 500) shows no store figures
        state = None
    return (state or UNCOUNTED).headers()


UNCOUNTED = RateState.at(0, DEFAULT_QUOTA, DEFAULT_WINDOW_MS, 0)


router.use(middlewares=[admission])
