"""Per-store limits: a request quota per time window, and at most 10 concurrent codegen or list requests."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from couponmint.errors import TooManyRequests
from couponmint.logic.expiring import ExpiringCache
from couponmint.logic.limits import (
    DEFAULT_QUOTA,
    DEFAULT_REDEMPTION_QUOTA,
    DEFAULT_WINDOW_MS,
    MAX_CONCURRENT,
    RateState,
    window_start,
)
from couponmint.observability import logger
from couponmint.service.ports import LimitStore


def _now_ms() -> int:
    return int(time.time() * 1000)


# A store's quota settings rarely change and every request needs them: each process keeps them this long
# (a new quota takes effect within that time) instead of reading them on every request.
LIMITS_CACHE_SECONDS = 60.0
_store_limits: ExpiringCache[str, dict[str, int]] = ExpiringCache(LIMITS_CACHE_SECONDS)


def _quota(limits: LimitStore, store_hash: str, lane: str) -> tuple[int, int]:
    """The store's (request quota, window ms) of a lane: the management API's (""), or redemption's."""
    now = time.monotonic()
    own = _store_limits.get(store_hash, now)
    if own is None:
        own = limits.store_limits(store_hash)
        _store_limits.put(store_hash, own, now)
    if lane:
        return own.get(f"{lane}_quota", DEFAULT_REDEMPTION_QUOTA), own.get(f"{lane}_window_ms", DEFAULT_WINDOW_MS)
    return own.get("request_quota", DEFAULT_QUOTA), own.get("window_ms", DEFAULT_WINDOW_MS)


def count_request(
    limits: LimitStore, store_hash: str, now_ms: Callable[[], int] = _now_ms, *, lane: str = ""
) -> RateState:
    """Count this request in the store's window of its lane; the state says whether the quota is exceeded."""
    quota, window_ms = _quota(limits, store_hash, lane)
    now = now_ms()
    start = window_start(now, window_ms)
    used = limits.count_request(store_hash, start, expires_at=(start + 2 * window_ms) // 1000, lane=lane)
    return RateState.at(now, quota, window_ms, used)


def refuse_if_exceeded(state: RateState) -> None:
    if state.exceeded:
        raise TooManyRequests(
            f"the store made more than {state.quota} requests in {state.window_ms} ms", state.retry_after_seconds
        )


@contextmanager
def concurrency_slot(
    limits: LimitStore, store_hash: str, kind: str, holder: str, now_ms: Callable[[], int] = _now_ms
) -> Iterator[None]:
    """Hold one of the store's MAX_CONCURRENT slots of `kind` while the block runs; 429 when none is free."""
    if not limits.take_lease(store_hash, kind, holder, now_ms(), MAX_CONCURRENT):
        raise TooManyRequests(f"the store already has {MAX_CONCURRENT} {kind} requests in flight", 1)
    logger.info("concurrency slot taken", store_hash=store_hash, kind=kind, holder=holder)
    try:
        yield
    finally:
        # Logged while the slot is still held, so the log's intervals lie inside the real ones.
        logger.info("concurrency slot given back", store_hash=store_hash, kind=kind, holder=holder)
        limits.give_back_lease(store_hash, kind, holder)
