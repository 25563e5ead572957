"""When a failed webhook delivery is tried again: a growing wait, for more than 24 hours in all.

Attempt n (from 1) that fails waits `DELAYS[n - 1]` seconds (±10 %, so a receiver that came back is not hit by
every delivery at once) before attempt n + 1. After `MAX_ATTEMPTS` the delivery queue's redrive policy (whose
maxReceiveCount is this number) moves the delivery to its dead-letter queue, where it is kept for inspection.
"""

import random
from collections.abc import Callable

# 10 s, 30 s, 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 3 h, 4 h, then every 6 h: the last try ~29 h after the first.
DELAYS = (10, 30, 60, 300, 900, 1800, 3600, 7200, 10800, 14400, 21600, 21600, 21600)
MAX_ATTEMPTS = len(DELAYS) + 1
JITTER = 0.1
# SQS's longest visibility timeout.
MAX_DELAY = 12 * 3600


def delay_after(
    attempt: int, *, fixed: int | None = None, jitter: Callable[[float, float], float] = random.uniform
) -> int:
    """Seconds to wait after failed attempt `attempt` (1 for the first); `fixed` replaces the schedule (the local
    stack's short retries)."""
    if fixed is not None:
        return fixed
    base = DELAYS[min(max(attempt, 1), len(DELAYS)) - 1]
    return min(MAX_DELAY, round(base * jitter(1 - JITTER, 1 + JITTER)))


def span_seconds() -> int:
    """From the first attempt to the last, without jitter."""
    return sum(DELAYS)
