"""Far from the store's redemption quota a redemption is written while it is counted; near it, only after.

Through the real ApiFunction: the window's count (one UpdateItem) is held until the test lets it finish, and the
code's stored count shows whether the redemption was written meanwhile. Either way the answer waits for its count:
its X-Rate-Limit headers are its own.
"""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from couponmint.adapters.factory import repositories
from couponmint.adapters.limits import LimitRepository
from tests.integration.helpers import HttpAnswer, Store
from tests.integration.redemption_steps import Caller, add_code, redeem, validate

WAIT_SECONDS = 10


class HeldCounts:
    """Once `armed`, every window count waits for `release` (and says it started)."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.started = threading.Event()
        self.release = threading.Event()


@pytest.fixture
def held_counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldCounts]:
    held = HeldCounts()
    count = LimitRepository.count_request

    def count_when_released(self: LimitRepository, *args: Any, **kwargs: Any) -> int:
        if held.armed.is_set():
            held.started.set()
            assert held.release.wait(WAIT_SECONDS), "the test never released the count"
        return count(self, *args, **kwargs)

    monkeypatch.setattr(LimitRepository, "count_request", count_when_released)
    yield held
    held.release.set()


def _stored_uses(store: Store, code: str) -> int:
    state = repositories().redemptions.read_code(store.store_hash, [code], None)
    assert state is not None
    return state.code.current_uses


def _uses_become(store: Store, code: str, uses: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _stored_uses(store, code) == uses:
            return True
        time.sleep(0.02)
    return False


def _store_with_quota(call_api: Caller, store: Store, quota: int, code: str) -> None:
    """The store's redemption quota set, a code of 5 uses, and one validation counted (this process has seen the
    window: 1 call)."""
    repositories().limits.set_store_limits(store.store_hash, redemption_quota=quota, redemption_window_ms=60_000)
    add_code(call_api, store, code, max_uses=5)
    assert validate(call_api, store, code)["valid"] is True


def _redeem_in_background(pool: ThreadPoolExecutor, call_api: Caller, store: Store, code: str) -> Future[HttpAnswer]:
    return pool.submit(redeem, call_api, store, code, "ann", "order-1")


def test_far_from_the_quota_the_redemption_is_written_while_counted_and_answers_its_own_count(
    store: Store, call_api: Caller, held_counts: HeldCounts
) -> None:
    # Given a store of 1,000 redemption calls a minute, 1 used (headroom 100)
    _store_with_quota(call_api, store, 1000, "AHEAD")
    held_counts.armed.set()
    with ThreadPoolExecutor(1) as pool:
        # When a redemption is sent and its count is held
        answer = _redeem_in_background(pool, call_api, store, "AHEAD")
        assert held_counts.started.wait(WAIT_SECONDS)
        # Then the redemption is written meanwhile, and its answer waits for its count
        assert _uses_become(store, "AHEAD", 1, WAIT_SECONDS)
        assert not answer.done()
        held_counts.release.set()
        done = answer.result(WAIT_SECONDS)
    # And it answers 201 with its own place in the window: the second call of 1,000
    assert done.status == 201, done.body
    assert (done.headers["X-Rate-Limit-Requests-Quota"], done.headers["X-Rate-Limit-Requests-Left"]) == ("1000", "998")


def test_near_the_quota_nothing_is_written_before_the_count_is_known(
    store: Store, call_api: Caller, held_counts: HeldCounts
) -> None:
    # Given a store of 101 redemption calls a minute, 1 used: 100 left is not more than the headroom of 100
    _store_with_quota(call_api, store, 101, "NEAR")
    held_counts.armed.set()
    with ThreadPoolExecutor(1) as pool:
        # When a redemption is sent and its count is held
        answer = _redeem_in_background(pool, call_api, store, "NEAR")
        assert held_counts.started.wait(WAIT_SECONDS)
        # Then nothing is written while it is held
        assert not _uses_become(store, "NEAR", 1, 0.5)
        assert not answer.done()
        held_counts.release.set()
        done = answer.result(WAIT_SECONDS)
    # And once counted, the redemption is made
    assert done.status == 201, done.body
    assert _stored_uses(store, "NEAR") == 1
    assert done.headers["X-Rate-Limit-Requests-Left"] == "99"
