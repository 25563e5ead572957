"""EventBridge schedule expressions, `rate(...)` and `cron(...)`, for running schedules where EventBridge does
not (the local stack).

cron follows AWS's six fields: minutes, hours, day of month, month, day of week, year; with `*`, `?`, lists,
ranges, `/` steps, month names (JAN-DEC) and day names (SUN-SAT, or 1-7 with 1 = Sunday), all in UTC. The
`L`, `W` and `#` forms are refused with a clear error.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, start=1)}
_DAYS = {name: i for i, name in enumerate(_DAY_NAMES, start=1)}
# (lowest, highest, names) of each field
_FIELDS = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (1, 7, _DAYS), (1970, 2199, {})]


class UnsupportedExpression(ValueError):
    """An expression this evaluator cannot run."""


def _values(field: str, lowest: int, highest: int, names: dict[str, int]) -> set[int]:
    if field in ("*", "?"):
        return set(range(lowest, highest + 1))
    if any(mark in field for mark in ("L", "W", "#")) and not any(n in field for n in names):
        raise UnsupportedExpression(f"cron field {field!r}: L, W and # are not supported locally")
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            start, end = lowest, highest
        elif "-" in base:
            first, last = base.split("-")
            start, end = names.get(first) or int(first), names.get(last) or int(last)
        else:
            start = names.get(base) or int(base)
            end = highest if step_text else start
        values.update(range(start, end + 1, step))
    return values


@dataclass(frozen=True)
class Schedule:
    """When an expression fires: `next_after(moment)` gives the first firing strictly after `moment`."""

    period: timedelta | None = None
    fields: tuple[frozenset[int], ...] = ()

    @classmethod
    def parse(cls, expression: str) -> "Schedule":
        if match := _RATE.match(expression):
            return cls(period=timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]))
        if match := _CRON.match(expression):
            parts = match.group(1).split()
            if len(parts) != 6:
                raise UnsupportedExpression(f"{expression}: cron takes six fields")
            return cls(fields=tuple(frozenset(_values(p, *spec)) for p, spec in zip(parts, _FIELDS, strict=True)))
        raise UnsupportedExpression(f"{expression}: not a rate() or cron() expression")

    def next_after(self, moment: datetime) -> datetime:
        if self.period is not None:
            return moment + self.period
        minutes, hours, days, months, weekdays, years = self.fields
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):
            weekday = candidate.isoweekday() % 7 + 1  # AWS: 1 = Sunday
            if (
                candidate.minute in minutes
                and candidate.hour in hours
                and candidate.day in days
                and candidate.month in months
                and weekday in weekdays
                and candidate.year in years
            ):
                return candidate
            candidate += timedelta(minutes=1)
        raise UnsupportedExpression("the cron expression does not fire within a year")
