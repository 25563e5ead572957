"""Rate-limit arithmetic: fixed per-store request windows and the headers BigCommerce sends with them."""

import math
from dataclasses import dataclass

DEFAULT_QUOTA = 450
DEFAULT_WINDOW_MS = 30_000
MAX_CONCURRENT = 10
# Validation and redemption (a checkout's calls) have a quota of their own, counted in windows of their own.
REDEMPTION_LANE_NAME = "redemption"
DEFAULT_REDEMPTION_QUOTA = 6000
# A checkout's call may write while its count is being made (service/limits.py `clear_of_quota`) only while the
# store's window is more than this far from its quota: a tenth of the quota, and at least HEADROOM_MIN calls.
HEADROOM_SHARE = 0.1
HEADROOM_MIN = 100


@dataclass(frozen=True)
class RateState:
    """Where a store stands in its current request window."""

    quota: int
    used: int
    window_ms: int
    reset_ms: int

    @classmethod
    def at(cls, now_ms: int, quota: int, window_ms: int, used: int) -> "RateState":
        return cls(quota=quota, used=used, window_ms=window_ms, reset_ms=window_ms - now_ms % window_ms)

    @property
    def left(self) -> int:
        return max(0, self.quota - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.quota

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.reset_ms / 1000))

    def headers(self) -> dict[str, str]:
        """All four headers, always together: BigCommerce's Python client reads them as a set."""
        return {
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(self.reset_ms),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(self.left),
        }


def window_start(now_ms: int, window_ms: int) -> int:
    return now_ms - now_ms % window_ms


def headroom(quota: int) -> int:
    """How many calls below its quota a window must be for a call to act before its own count is known."""
    return max(HEADROOM_MIN, int(quota * HEADROOM_SHARE))


def clear_of_quota(quota: int, used: int) -> bool:
    """Whether a window with `used` calls counted is far enough from `quota` (see `headroom`)."""
    return quota - used > headroom(quota)
