"""A checkout call may act while it is counted only far from the store's quota, as last seen in this window."""

import itertools

import pytest

from couponmint.logic.limits import clear_of_quota, headroom
from couponmint.service import limits

WINDOW_MS = 30_000
NOW_MS = 10 * WINDOW_MS + 5


class CountingLimits:
    """A LimitStore whose window counts are whatever the test says the store-wide count is."""

    def __init__(self, quota: int) -> None:
        self.quota = quota
        self.counts: list[int] = []

    def store_limits(self, store_hash: str) -> dict[str, int]:
        return {"redemption_quota": self.quota, "redemption_window_ms": WINDOW_MS}

    def count_request(self, store_hash: str, window_start_ms: int, expires_at: int, lane: str = "") -> int:
        return self.counts.pop(0)


_stores = itertools.count()


def _store() -> str:
    """A store hash of its own per test: what a process saw is kept per store."""
    return f"lookahead-{next(_stores)}"


def _counted(store: CountingLimits, store_hash: str, used: int, now_ms: int = NOW_MS) -> None:
    store.counts.append(used)
    limits.count_request(store, store_hash, lambda: now_ms, lane="redemption")  # type: ignore[arg-type]


def _let_through(store: CountingLimits, store_hash: str, now_ms: int = NOW_MS) -> bool:
    return limits.clear_of_quota_as_seen(store, store_hash, lambda: now_ms, lane="redemption")  # type: ignore[arg-type]


def test_headroom_is_a_tenth_of_the_quota_and_at_least_100_calls() -> None:
    assert headroom(6000) == 600
    assert headroom(500) == 100
    assert clear_of_quota(6000, 5399) and not clear_of_quota(6000, 5400)
    # A quota of 100 or less is never clear: every call waits for its count
    assert not any(clear_of_quota(100, used) for used in range(0, 101))


def test_nothing_seen_in_this_window_means_waiting() -> None:
    store, store_hash = CountingLimits(6000), _store()
    assert not _let_through(store, store_hash)
    # A count seen in the window before does not speak for this one
    _counted(store, store_hash, 1, now_ms=NOW_MS - WINDOW_MS)
    assert not _let_through(store, store_hash)


def test_far_from_the_quota_calls_go_on_until_the_headroom_counting_those_let_through() -> None:
    # Given a count of 5,000 of 6,000 seen just now (headroom 600)
    store, store_hash = CountingLimits(6000), _store()
    _counted(store, store_hash, 5000)
    # Then 400 more calls go on before their counts are known (up to 5,400 as this process knows it), and the next
    # one waits
    assert [_let_through(store, store_hash) for _ in range(401)] == [True] * 400 + [False]


def test_a_count_seen_lower_than_the_calls_let_through_does_not_lower_them() -> None:
    store, store_hash = CountingLimits(6000), _store()
    _counted(store, store_hash, 5300)
    assert [_let_through(store, store_hash) for _ in range(100)] == [True] * 100  # 5,400 as this process knows it
    # A count made before them comes back: what the process knows stays the higher figure
    _counted(store, store_hash, 5301)
    assert not _let_through(store, store_hash)
    # Other processes' calls show in the next count seen
    _counted(store, store_hash, 5500)
    assert not _let_through(store, store_hash)


def test_a_count_seen_more_than_a_second_ago_means_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    store, store_hash = CountingLimits(6000), _store()
    _counted(store, store_hash, 1)
    assert _let_through(store, store_hash)
    monkeypatch.setattr(limits, "SEEN_FOR_SECONDS", 0.0)
    assert not _let_through(store, store_hash)


def test_a_small_quota_always_waits() -> None:
    store, store_hash = CountingLimits(2), _store()
    _counted(store, store_hash, 1)
    assert not _let_through(store, store_hash)
