"""Fire the schedules that moto's EventBridge Scheduler holds, as EventBridge Scheduler would (moto never does).

The API creates, changes and deletes schedules in moto's Scheduler exactly as in AWS; this runner reads them
(every second: ListSchedules, then GetSchedule for each new or changed one) and invokes each schedule's target
function at its times: `rate` from the schedule's last change, `cron` in its time zone, `at` once; DISABLED
ones never. The event is the target's Input with `<aws.scheduler.scheduled-time>` and
`<aws.scheduler.execution-id>` filled in. A failed invocation is tried again up to the schedule's
MaximumRetryAttempts (a second apart, where AWS backs off for up to MaximumEventAgeInSeconds), then its input
goes to the schedule's dead-letter queue.

At start, the schedules recorded in DynamoDB are written to moto's Scheduler again (it starts empty; DynamoDB
Local may have kept them in `--data-dir`).
"""

import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from couponmint.adapters.factory import event_scheduler, repositories
from couponmint.logic.schedule_expressions import InvalidExpression, ScheduleExpression, time_zone
from couponmint.service.scheduling import restore_schedules
from couponmint_dev.local.lambdas import HandlerPool, load_handler
from couponmint_dev.local.resources import LocalResources
from couponmint_dev.local.services import LocalAws

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
# Invocations at once (ticks of different schedules that fall together).
WORKERS = 4


@dataclass
class Tracked:
    """One schedule as last read, and when it fires next (None: never again, or disabled)."""

    definition: dict[str, Any]
    modified: datetime
    expression: ScheduleExpression | None
    fires: datetime | None


def first_firing(definition: dict[str, Any], now: datetime) -> tuple[ScheduleExpression | None, datetime | None]:
    """The parsed expression of a schedule as GetSchedule returns it, and its first firing after `now`."""
    try:
        expression = ScheduleExpression.parse(definition["ScheduleExpression"])
        zone = time_zone(definition.get("ScheduleExpressionTimezone") or "UTC")
    except InvalidExpression as error:
        logger.warning("local scheduler skips %s: %s", definition["Name"], error)
        return None, None
    if definition.get("State") == "DISABLED":
        return expression, None
    return expression, expression.next_after(now, zone, start=_utc(definition["LastModificationDate"]))


def tick_event(definition: dict[str, Any], fires: datetime) -> dict[str, Any]:
    """What the target receives: its Input, with Scheduler's context attributes filled in."""
    text = str(definition["Target"].get("Input") or "{}")
    text = text.replace("<aws.scheduler.scheduled-time>", fires.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return dict(json.loads(text.replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))))


class StoreScheduleRunner:
    """Polls the schedule groups of moto's Scheduler and invokes the targets at their times."""

    def __init__(self, scheduler: Any, sqs: Any, groups: list[str], functions: dict[str, str]) -> None:
        """`functions` maps each local function's ARN to its logical id (loaded when a schedule first runs it)."""
        self._scheduler, self._sqs = scheduler, sqs
        self._groups = groups
        self._functions = functions
        self._pools: dict[str, HandlerPool] = {}
        self._pools_lock = threading.Lock()
        self._tracked: dict[tuple[str, str], Tracked] = {}
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="store-schedule")
        self._thread = threading.Thread(target=self._run, name="store-schedules", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.refresh(datetime.now(UTC))
                self.fire_due(datetime.now(UTC))
            except Exception:  # moto answering badly must not end the loop
                logger.exception("local scheduler: reading the schedules failed")
            soonest = min((t.fires for t in self._tracked.values() if t.fires), default=None)
            wait = POLL_SECONDS if soonest is None else (soonest - datetime.now(UTC)).total_seconds()
            self._stopping.wait(min(POLL_SECONDS, max(0.0, wait)))

    def refresh(self, now: datetime) -> None:
        """Read the groups' schedules: track new and changed ones, forget deleted ones."""
        seen: set[tuple[str, str]] = set()
        for group in self._groups:
            for summary in self._list(group):
                key = (group, summary["Name"])
                seen.add(key)
                modified = _utc(summary["LastModificationDate"])
                known = self._tracked.get(key)
                if known is None or known.modified != modified:
                    definition = self._scheduler.get_schedule(Name=summary["Name"], GroupName=group)
                    expression, fires = first_firing(definition, now)
                    self._tracked[key] = Tracked(definition, modified, expression, fires)
        for key in set(self._tracked) - seen:
            del self._tracked[key]

    def fire_due(self, now: datetime) -> None:
        for tracked in self._tracked.values():
            if tracked.fires is None or tracked.fires > now or tracked.expression is None:
                continue
            fires = tracked.fires
            self._pool.submit(self._invoke, tracked.definition, fires)
            zone = time_zone(tracked.definition.get("ScheduleExpressionTimezone") or "UTC")
            tracked.fires = tracked.expression.next_after(fires, zone, start=tracked.modified)

    def _list(self, group: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {"GroupName": group}
        while True:
            page = self._scheduler.list_schedules(**request)
            found += page.get("Schedules", [])
            if not page.get("NextToken"):
                return found
            request["NextToken"] = page["NextToken"]

    def _invoke(self, definition: dict[str, Any], fires: datetime) -> None:
        target = definition["Target"]
        pool = self._pool_for(target["Arn"])
        if pool is None:
            logger.warning("local scheduler: %s targets %s, no local function", definition["Name"], target["Arn"])
            return
        event = tick_event(definition, fires)
        attempts = 1 + int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 0))
        for attempt in range(1, attempts + 1):
            try:
                with pool.acquire() as function:
                    function(event, function.context())
                logger.info("local scheduler ran %s for %s", definition["Name"], fires.isoformat())
                return
            except Exception:
                logger.exception("local scheduler: %s failed (attempt %s of %s)", definition["Name"], attempt, attempts)
                if self._stopping.wait(1.0):
                    return
        self._dead_letter(definition, event)

    def _pool_for(self, arn: str) -> HandlerPool | None:
        with self._pools_lock:
            if arn not in self._pools and arn in self._functions:
                self._pools[arn] = HandlerPool(load_handler(None, self._functions[arn]), max_size=WORKERS)
            return self._pools.get(arn)

    def _dead_letter(self, definition: dict[str, Any], event: dict[str, Any]) -> None:
        arn = (definition["Target"].get("DeadLetterConfig") or {}).get("Arn")
        if arn:
            url = self._sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
            self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def start_store_schedules(aws: LocalAws, resources: LocalResources) -> StoreScheduleRunner:
    """Give moto's Scheduler the schedules DynamoDB records, then fire every schedule of the template's groups."""
    restored = restore_schedules(repositories().schedules, event_scheduler())
    if restored:
        logger.info("local scheduler: %s schedules restored from DynamoDB", restored)
    functions = {resources.get_att(function_id, "Arn"): function_id for function_id in resources.function_ids()}
    runner = StoreScheduleRunner(
        aws.client("scheduler"), aws.client("sqs"), list(resources.schedule_groups().values()), functions
    )
    runner.start()
    return runner
