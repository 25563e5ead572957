"""EventBridge rate() and cron() expressions, as the local stack runs them."""

from datetime import UTC, datetime, timedelta

import pytest

from couponmint.logic.schedule_expressions import Schedule, UnsupportedExpression

NOON = datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(5 minutes)", NOON + timedelta(minutes=5)),
        ("rate(1 day)", NOON + timedelta(days=1)),
        ("cron(0 6 * * ? *)", datetime(2026, 11, 26, 6, 0, tzinfo=UTC)),
        ("cron(*/15 * * * ? *)", datetime(2026, 11, 25, 12, 15, tzinfo=UTC)),
        ("cron(0 9 ? * MON-FRI *)", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("cron(0 9 ? * 1 *)", datetime(2026, 11, 29, 9, 0, tzinfo=UTC)),  # 1 = Sunday
        ("cron(30 0 1 JAN,JUL ? *)", datetime(2027, 1, 1, 0, 30, tzinfo=UTC)),
    ],
)
def test_schedule_next_firing(expression: str, expected: datetime) -> None:
    assert Schedule.parse(expression).next_after(NOON) == expected


@pytest.mark.parametrize("expression", ["cron(0 6 L * ? *)", "cron(0 6 * *)", "every day", "rate(5 weeks)"])
def test_schedule_refuses_what_it_cannot_run(expression: str) -> None:
    with pytest.raises(UnsupportedExpression):
        Schedule.parse(expression)
