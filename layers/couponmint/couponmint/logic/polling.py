"""When to look whether a batch has finished: polls that start near the moment it is expected to.

A 250-code batch takes a few hundred milliseconds. Polling from the start costs a read every few
milliseconds that only says "not yet" (each one a read unit on AWS, and CPU on the table), while
waiting too long adds to the answer's latency. So each process remembers how long batches of a size
took, and the first poll comes a little before the fastest recent one would finish; the polls after it
come quickly, then less and less often.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

# The first poll comes at this share of the expected time (so a faster batch is seen late by little).
EARLY = 0.8
# The first poll never waits longer than this, whatever was seen before.
LONGEST_FIRST_WAIT = 2.0
# After the first poll: this interval, growing by GROWTH per poll up to LONGEST_INTERVAL.
FIRST_INTERVAL = 0.01
GROWTH = 1.2
LONGEST_INTERVAL = 0.1
# How fast a slower observation raises the expectation (a faster one replaces it at once).
SLOWER_WEIGHT = 0.2


def size_class(batch_size: int) -> int:
    """Batches whose sizes lie within a power of two are expected to take about as long."""
    return max(1, batch_size).bit_length()


@dataclass
class CompletionTimes:
    """How long batches of each size class took, as seen by this process (seconds)."""

    seconds: dict[int, float] = field(default_factory=dict)

    def expected(self, batch_size: int) -> float:
        """The time a batch of `batch_size` is expected to take; 0 when none like it was seen."""
        return self.seconds.get(size_class(batch_size), 0.0)

    def observe(self, batch_size: int, seconds: float) -> None:
        """A batch of `batch_size` was seen finished `seconds` after it was queued."""
        size = size_class(batch_size)
        known = self.seconds.get(size)
        if known is None or seconds < known:
            self.seconds[size] = seconds
        else:
            self.seconds[size] = known + SLOWER_WEIGHT * (seconds - known)

    def waits(self, batch_size: int) -> Iterator[float]:
        """The pauses before each poll: the first near the expected time, then short and growing ones."""
        yield min(EARLY * self.expected(batch_size), LONGEST_FIRST_WAIT)
        interval = FIRST_INTERVAL
        while True:
            yield interval
            interval = min(interval * GROWTH, LONGEST_INTERVAL)
