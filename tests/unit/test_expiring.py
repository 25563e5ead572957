"""The per-process memory of values that may go stale (store limits, known tokens)."""

from couponmint.logic.expiring import ExpiringCache


def test_expiring_cache_keeps_a_value_for_its_time_only() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(seconds=10)
    cache.put("a", 1, now=100.0)
    assert cache.get("a", now=109.9) == 1
    assert cache.get("a", now=110.0) is None
    assert cache.get("b", now=100.0) is None


def test_expiring_cache_forgets_a_key_and_empties_itself_when_full() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(seconds=10, size=2)
    cache.put("a", 1, now=0.0)
    cache.forget("a")
    assert cache.get("a", now=0.0) is None
    cache.put("a", 1, now=0.0)
    cache.put("b", 2, now=0.0)
    cache.put("c", 3, now=0.0)
    assert [cache.get(key, now=0.0) for key in "abc"] == [None, None, 3]
