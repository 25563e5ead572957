"""Per-store limits: a request quota per time window, and at most 10 concurrent codegen or list requests."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from couponmint.errors import TooManyRequests
from couponmint.logic.expiring import ExpiringCache
from couponmint.logic.limits import (
    DEFAULT_QUOTA,
    DEFAULT_REDEMPTION_QUOTA,
    DEFAULT_WINDOW_MS,
    MAX_CONCURRENT,
    RateState,
    clear_of_quota,
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
    _seen_windows.saw(store_hash, lane, start, used)
    return RateState.at(now, quota, window_ms, used)


# ---------------------------------------------------------------- acting before the count is known
# A checkout's call (validate, redeem, roll back) is counted exactly, one atomic ADD each, and its answer carries
# its own count. Waiting for that count before writing puts a DynamoDB round trip in front of every redemption;
# far from the quota it decides nothing. So each process remembers the last count it saw of each store's window,
# and a call may write while its count is being made when that count was seen in the current window, at most
# SEEN_FOR_SECONDS ago, more than a headroom below the quota (logic/limits.py: a tenth of the quota, at least 100
# calls), the calls this process let through since included. Near the quota, or with nothing recent seen, every
# call waits for its count, so the 429 comes at exactly the quota'th call; a call past the quota can only be
# served when more calls than the headroom reached the store from other processes within that second.
SEEN_FOR_SECONDS = 1.0


@dataclass
class _Seen:
    window_start_ms: int
    used: int
    at: float  # time.monotonic() when it was seen


class _SeenWindows:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], _Seen] = {}

    def saw(self, store_hash: str, lane: str, window_start_ms: int, used: int) -> None:
        with self._lock:
            seen = self._seen.get((store_hash, lane))
            if seen is not None and seen.window_start_ms == window_start_ms:
                seen.used, seen.at = max(seen.used, used), time.monotonic()
            elif seen is None or seen.window_start_ms < window_start_ms:
                self._seen[(store_hash, lane)] = _Seen(window_start_ms, used, time.monotonic())

    def let_through(self, store_hash: str, lane: str, window_start_ms: int, quota: int) -> bool:
        """True (and one more call counted as let through) when the window seen allows a call not to wait."""
        with self._lock:
            seen = self._seen.get((store_hash, lane))
            if seen is None or seen.window_start_ms != window_start_ms:
                return False
            if time.monotonic() - seen.at > SEEN_FOR_SECONDS or not clear_of_quota(quota, seen.used):
                return False
            seen.used += 1
            return True


_seen_windows = _SeenWindows()


def clear_of_quota_as_seen(
    limits: LimitStore, store_hash: str, now_ms: Callable[[], int] = _now_ms, *, lane: str = ""
) -> bool:
    """Whether a call of the store's lane, whose count is being made, may act before it is known (see above)."""
    quota, window_ms = _quota(limits, store_hash, lane)
    return _seen_windows.let_through(store_hash, lane, window_start(now_ms(), window_ms), quota)


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
