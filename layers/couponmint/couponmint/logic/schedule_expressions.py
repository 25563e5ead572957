"""EventBridge Scheduler's schedule expressions, `rate(...)`, `cron(...)` and `at(...)`, in a time zone.

`cron` is AWS's six fields (minutes, hours, day of month, month, day of week with 1 = Sunday, year), with `*`,
`?`, lists, ranges, steps, names, `L`, `W` and `#`; aws-croniter parses and steps it. What aws-croniter leaves
out is added here: the time zone (the fields are wall-clock time there; as Scheduler does, a wall time that a
daylight-saving change skips does not fire, and one it repeats fires once), `rate` and `at`.

`next_after` gives the first firing strictly after a moment: the API shows it as a schedule's `next_run`, and
the local stack fires schedules by it.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aws_croniter import AwsCroniter
from aws_croniter.exceptions import AwsCroniterExpressionError

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# cron steps tried past wall times that a daylight-saving change skips (a handful in practice).
_MAX_STEPS = 1000
UTC_ZONE = ZoneInfo("UTC")


class InvalidExpression(ValueError):
    """Not an expression (or time zone) EventBridge Scheduler takes; the message says why."""


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (Scheduler's ScheduleExpressionTimezone)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidExpression(f"{name!r} is not an IANA time zone name, such as Europe/Berlin or UTC") from None


@dataclass(frozen=True)
class ScheduleExpression:
    """A parsed expression; exactly one of `period`, `cron` and `at` is set."""

    text: str
    period: timedelta | None = None
    cron: AwsCroniter | None = field(default=None, compare=False, repr=False)
    # An at() expression's wall-clock time, read in the schedule's time zone.
    at: datetime | None = None

    @classmethod
    def parse(cls, expression: str) -> "ScheduleExpression":
        if match := _RATE.match(expression):
            value, unit = int(match.group(1)), match.group(2)
            if value < 1 or (value == 1) != (not unit.endswith("s")):
                raise InvalidExpression(f"{expression}: the value is at least 1, with a singular unit for 1 only")
            return cls(expression, period=timedelta(seconds=value * _UNIT_SECONDS[unit.rstrip("s")]))
        if match := _CRON.match(expression):
            try:
                return cls(expression, cron=AwsCroniter(match.group(1)))
            except (AwsCroniterExpressionError, ValueError) as error:
                raise InvalidExpression(f"{expression}: {error}") from None
        if match := _AT.match(expression):
            try:
                return cls(expression, at=datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
            except ValueError as error:
                raise InvalidExpression(f"{expression}: {error}") from None
        raise InvalidExpression(
            f"{expression!r} is not rate(N minutes|hours|days), cron(min hour day-of-month month day-of-week year)"
            " or at(yyyy-mm-ddThh:mm:ss)"
        )

    def next_after(
        self, moment: datetime, zone: ZoneInfo = UTC_ZONE, *, start: datetime | None = None
    ) -> datetime | None:
        """The first firing strictly after `moment` (UTC), or None when none is left.

        A rate fires every period from `start` (when the schedule was made; `moment` when not given).
        """
        if self.period is not None:
            anchor = start or moment
            return anchor + self.period * (max(timedelta(0), moment - anchor) // self.period + 1)
        if self.at is not None:
            fires = _wall_to_utc(self.at, zone)
            return fires if fires is not None and fires > moment else None
        assert self.cron is not None
        wall = moment.astimezone(zone).replace(tzinfo=None)
        for _ in range(_MAX_STEPS):
            (following,) = self.cron.get_next(wall.replace(tzinfo=UTC))
            if following is None:
                return None
            wall = following.replace(tzinfo=None)
            fires = _wall_to_utc(wall, zone)
            if fires is not None and fires > moment:
                return fires
        return None


def _wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC moment of wall-clock time `wall` in `zone`: the first of two when a change repeats it, None when
    a change skips it."""
    moment = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return moment if moment.astimezone(zone).replace(tzinfo=None) == wall else None
