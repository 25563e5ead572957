"""Run the template's schedules locally (EventBridge rules never fire against local services).

The hook `start_schedules` is where the stack runs them: every `Type: Schedule` / `Type: ScheduleV2` event
of the template's functions that the template does not disable, at the times its `rate(...)` or `cron(...)`
expression gives (`couponmint.logic.schedule_expressions`, in UTC), with the ScheduleV2's Input (or EventBridge's
"Scheduled Event" payload for a rule) as the event.
"""

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from couponmint.logic.schedule_expressions import InvalidExpression, ScheduleExpression
from couponmint_dev.local.lambdas import load_handler
from couponmint_dev.local.services import ACCOUNT_ID, REGION
from couponmint_dev.local.template import function_properties, parameter_value, project_root

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalSchedule:
    function_id: str
    event_id: str
    when: ScheduleExpression
    # A ScheduleV2's Input, which EventBridge Scheduler passes to the target as the event itself.
    input_text: str | None = None


def schedules_in(template: dict[str, Any]) -> list[LocalSchedule]:
    found: list[LocalSchedule] = []
    for function_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event_id, event in (function_properties(template, function_id).get("Events") or {}).items():
            if event["Type"] not in ("Schedule", "ScheduleV2"):
                continue
            properties = event["Properties"]
            if parameter_value(template, properties.get("State", "ENABLED")) == "DISABLED":
                logger.info("local stack skips %s.%s: the template disables it", function_id, event_id)
                continue
            expression = str(properties.get("Schedule") or properties.get("ScheduleExpression"))
            try:
                when = ScheduleExpression.parse(expression)
            except InvalidExpression as error:
                logger.warning("local stack skips %s.%s: %s", function_id, event_id, error)
                continue
            found.append(LocalSchedule(function_id, event_id, when, properties.get("Input")))
    return found


def scheduled_event(schedule: LocalSchedule, now: datetime | None = None) -> dict[str, Any]:
    """What the target receives: a ScheduleV2's Input (with Scheduler's context attributes filled in), or
    EventBridge's "Scheduled Event" payload for a rule."""
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if schedule.input_text is not None:
        text = schedule.input_text.replace("<aws.scheduler.scheduled-time>", moment).replace(
            "<aws.scheduler.execution-id>", str(uuid.uuid4())
        )
        return dict(json.loads(text))
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment,
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{schedule.function_id}-{schedule.event_id}"],
        "detail": {},
    }


class ScheduleRunner:
    """One thread per schedule; `stop()` ends them (an invocation in flight finishes first)."""

    def __init__(self, schedules: list[LocalSchedule]) -> None:
        self.schedules = schedules
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for schedule in self.schedules:
            thread = threading.Thread(
                target=self._run, args=(schedule,), name=f"schedule-{schedule.event_id}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _run(self, schedule: LocalSchedule) -> None:
        function = load_handler(project_root() / "template.yaml", schedule.function_id)
        while (fires := schedule.when.next_after(datetime.now(UTC))) and not self._stopping.wait(_seconds_until(fires)):
            try:
                function(scheduled_event(schedule), function.context())
            except Exception:  # a failed run is logged; the next period runs again, like EventBridge
                logger.exception("scheduled run failed: %s.%s", schedule.function_id, schedule.event_id)

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)


def _seconds_until(moment: datetime) -> float:
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def start_schedules(template: dict[str, Any]) -> ScheduleRunner:
    """The stack's hook for scheduled EventBridge rules: start running every schedule of `template`."""
    runner = ScheduleRunner(schedules_in(template))
    runner.start()
    if runner.schedules:
        logger.info("local schedules: %s", [f"{s.function_id}.{s.event_id}" for s in runner.schedules])
    return runner
