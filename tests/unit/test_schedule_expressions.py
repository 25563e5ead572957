"""EventBridge Scheduler's rate(), cron() and at() expressions, in a time zone: when each fires next."""

from datetime import UTC, datetime, timedelta

import pytest

from couponmint.logic.schedule_expressions import InvalidExpression, ScheduleExpression, time_zone

NOON = datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)  # a Wednesday
BERLIN = time_zone("Europe/Berlin")
NEW_YORK = time_zone("America/New_York")


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
        ("cron(0 6 L * ? *)", datetime(2026, 11, 30, 6, 0, tzinfo=UTC)),  # last day of the month
        ("cron(0 6 15W * ? *)", datetime(2026, 12, 15, 6, 0, tzinfo=UTC)),  # weekday nearest the 15th
        ("cron(0 6 ? * FRI#3 *)", datetime(2026, 12, 18, 6, 0, tzinfo=UTC)),  # third Friday
        ("cron(0 6 ? * 6L *)", datetime(2026, 11, 27, 6, 0, tzinfo=UTC)),  # last Friday
        ("cron(0 10 ? * 2 2027)", datetime(2027, 1, 4, 10, 0, tzinfo=UTC)),  # a year
        ("at(2026-11-25T12:30:00)", datetime(2026, 11, 25, 12, 30, tzinfo=UTC)),
    ],
)
def test_schedule_expression_next_firing_in_utc(expression: str, expected: datetime) -> None:
    assert ScheduleExpression.parse(expression).next_after(NOON) == expected


def test_schedule_expression_cron_reads_its_fields_in_the_time_zone() -> None:
    # Given "Mondays at 09:00" in Berlin, in winter (UTC+1) and in summer (UTC+2)
    monday_nine = ScheduleExpression.parse("cron(0 9 ? * MON *)")
    # Then it fires at 08:00 and 07:00 UTC
    assert monday_nine.next_after(NOON, BERLIN) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert monday_nine.next_after(datetime(2026, 6, 1, tzinfo=UTC), BERLIN) == datetime(2026, 6, 1, 7, tzinfo=UTC)


def test_schedule_expression_cron_skips_a_wall_time_that_daylight_saving_skips() -> None:
    # Given 02:30 every day in New York, the night clocks go from 02:00 to 03:00 (8 March 2026)
    half_past_two = ScheduleExpression.parse("cron(30 2 * * ? *)")
    # When the next firing after the evening before is asked
    fires = half_past_two.next_after(datetime(2026, 3, 8, 0, 0, tzinfo=UTC), NEW_YORK)
    # Then the skipped night does not fire: the next is 02:30 EDT the day after
    assert fires == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)


def test_schedule_expression_cron_fires_once_in_a_repeated_hour() -> None:
    # Given 01:30 every day in New York, the night clocks go from 02:00 back to 01:00 (1 November 2026)
    half_past_one = ScheduleExpression.parse("cron(30 1 * * ? *)")
    first = half_past_one.next_after(datetime(2026, 11, 1, 4, 0, tzinfo=UTC), NEW_YORK)
    # Then it fires at the first 01:30 (EDT), and not at the second (EST): next is the day after
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert first is not None
    assert half_past_one.next_after(first, NEW_YORK) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_schedule_expression_rate_counts_from_its_start() -> None:
    # Given a rate made at 12:00:00
    every_ten = ScheduleExpression.parse("rate(10 minutes)")
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    # Then it fires at 12:10, 12:20, ... whenever it is asked
    later = datetime(2026, 11, 25, 12, 25, tzinfo=UTC)
    assert every_ten.next_after(later, start=start) == start + timedelta(minutes=30)
    assert every_ten.next_after(start, start=start) == start + timedelta(minutes=10)


def test_schedule_expression_at_reads_its_time_in_the_time_zone_and_fires_once() -> None:
    at = ScheduleExpression.parse("at(2026-11-25T13:30:00)")
    fires = at.next_after(NOON, BERLIN)
    assert fires == datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
    assert fires is not None
    assert at.next_after(fires, BERLIN) is None


def test_schedule_expression_cron_with_only_past_years_never_fires() -> None:
    assert ScheduleExpression.parse("cron(0 10 * * ? 2025)").next_after(NOON) is None


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 6 * *)",  # five fields
        "cron(0 6 * * * *)",  # neither day field is ?
        "cron(61 6 * * ? *)",
        "cron(0 6 ? * FRI#6 *)",
        "every day",
        "rate(5 weeks)",
        "rate(0 minutes)",
        "rate(1 minutes)",
        "rate(5 minute)",
        "at(2026-02-30T10:00:00)",
        "at(2026-11-25 10:00)",
    ],
)
def test_schedule_expression_refuses_what_scheduler_refuses(expression: str) -> None:
    with pytest.raises(InvalidExpression):
        ScheduleExpression.parse(expression)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "Europe/"])
def test_schedule_expression_time_zone_refuses_unknown_names(name: str) -> None:
    with pytest.raises(InvalidExpression):
        time_zone(name)
