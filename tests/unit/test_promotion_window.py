"""A promotion's window in microseconds, as its gates hold it (adapters/gates.py), says what promotion_refusal says."""

from datetime import UTC, datetime, timedelta

import pytest

from couponmint.logic.redemptions import micros, promotion_refusal, promotion_window

START = "2026-12-03T10:00:00+01:00"
END = "2026-12-04T10:00:00.000001+01:00"


def test_promotion_window_reads_offsets_and_leaves_unset_dates_out() -> None:
    # Given dates with an offset, When read as a window, Then they are the same moments in UTC microseconds
    assert promotion_window({"start_date": START, "end_date": END}) == (
        micros(datetime(2026, 12, 3, 9, tzinfo=UTC)),
        micros(datetime(2026, 12, 4, 9, 0, 0, 1, tzinfo=UTC)),
    )
    assert promotion_window({}) == (None, None)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 3, 8, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 12, 3, 9, tzinfo=UTC),
        datetime(2026, 12, 4, 9, tzinfo=UTC),
        datetime(2026, 12, 4, 9, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 12, 4, 9, tzinfo=UTC) + timedelta(days=1),
    ],
)
def test_promotion_window_open_exactly_when_the_promotion_refuses_nothing(now: datetime) -> None:
    # Given the window's comparisons as the gate's condition makes them (starts <= now < ends)
    start, end = promotion_window({"start_date": START, "end_date": END})
    assert start is not None and end is not None
    open_gate = start <= micros(now) < end
    # Then the gate is open exactly when promotion_refusal finds no reason
    assert open_gate == (promotion_refusal("ENABLED", {"start_date": START, "end_date": END}, now) is None)
