"""When the API looks whether a batch finished: near the time batches of its size took before."""

from itertools import islice, pairwise

import pytest

from couponmint.logic.polling import (
    EARLY,
    FIRST_INTERVAL,
    LONGEST_FIRST_WAIT,
    LONGEST_INTERVAL,
    CompletionTimes,
    size_class,
)


def first_waits(times: CompletionTimes, batch_size: int, count: int) -> list[float]:
    return list(islice(times.waits(batch_size), count))


def test_polling_starts_at_once_for_a_size_never_seen() -> None:
    assert first_waits(CompletionTimes(), 250, 3) == pytest.approx([0.0, FIRST_INTERVAL, FIRST_INTERVAL * 1.2])


def test_polling_first_waits_most_of_the_time_seen_then_polls_quickly_and_less_and_less_often() -> None:
    times = CompletionTimes()
    times.observe(250, 0.2)
    waits = first_waits(times, 250, 40)
    assert waits[0] == pytest.approx(EARLY * 0.2)
    assert waits[1] == pytest.approx(FIRST_INTERVAL)
    assert all(later >= earlier for earlier, later in pairwise(waits[1:]))
    assert max(waits[1:]) == pytest.approx(LONGEST_INTERVAL)


def test_polling_a_faster_batch_replaces_the_expectation_and_a_slower_one_raises_it_slowly() -> None:
    times = CompletionTimes()
    times.observe(250, 0.3)
    times.observe(250, 0.1)
    assert times.expected(250) == pytest.approx(0.1)
    times.observe(250, 1.1)
    assert times.expected(250) == pytest.approx(0.1 + 0.2 * (1.1 - 0.1))


def test_polling_sizes_within_a_power_of_two_share_what_was_seen_and_others_do_not() -> None:
    times = CompletionTimes()
    times.observe(200, 0.2)
    assert times.expected(250) == pytest.approx(0.2)
    assert times.expected(100) == 0.0
    assert [size_class(n) for n in (0, 1, 2, 3, 4, 128, 255, 256)] == [1, 1, 2, 2, 3, 8, 8, 9]


def test_polling_first_wait_is_capped_after_a_backlog() -> None:
    times = CompletionTimes()
    times.observe(250, 20.0)
    assert first_waits(times, 250, 1) == [LONGEST_FIRST_WAIT]
