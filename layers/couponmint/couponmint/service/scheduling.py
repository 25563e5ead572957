"""Schedules a store owns: a record in DynamoDB (what the API lists) and a schedule in EventBridge Scheduler
(what starts the jobs), kept in step.

The record is written before the Scheduler schedule and deleted after it, so a tick always finds the record
of a live schedule; a tick that finds none (a schedule deleted while its tick was in flight) starts nothing.
"""

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from couponmint.errors import InvalidRequest, NotFound
from couponmint.logic.pagination import offset_page
from couponmint.logic.schedule_expressions import ScheduleExpression, time_zone
from couponmint.models.schedules import ScheduleRecord, ScheduleRequest, ScheduleState
from couponmint.observability import logger
from couponmint.service.codegen import check_generation
from couponmint.service.ports import Now, PromotionStore, Scheduler, ScheduleStore
from couponmint.service.schedules import ScheduledGeneration

# EventBridge Scheduler puts the tick's time here in each tick's input; a tick's job id is derived from it.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_schedule(
    promotions: PromotionStore,
    schedules: ScheduleStore,
    scheduler: Scheduler,
    store_hash: str,
    promotion_id: int,
    request: ScheduleRequest,
    *,
    now: Now = _utc_now,
) -> ScheduleRecord:
    moment = now()
    _check(promotions, store_hash, promotion_id, request, moment)
    schedule = ScheduleRecord(
        store_hash=store_hash,
        promotion_id=promotion_id,
        schedule_id=uuid.uuid4().hex,
        settings=request,
        created=moment,
        updated=moment,
    )
    schedules.put(schedule)
    try:
        _put(scheduler, schedule, new=True)
    except Exception:
        schedules.delete(store_hash, promotion_id, schedule.schedule_id)
        raise
    logger.info("schedule created", schedule_id=schedule.schedule_id, expression=request.expression)
    return schedule


def change_schedule(
    promotions: PromotionStore,
    schedules: ScheduleStore,
    scheduler: Scheduler,
    store_hash: str,
    promotion_id: int,
    schedule_id: str,
    changes: Mapping[str, Any],
    *,
    now: Now = _utc_now,
) -> ScheduleRecord:
    """Replace the fields `changes` names; the schedule as changed is checked as a whole."""
    current = find_schedule(schedules, store_hash, promotion_id, schedule_id)
    try:
        request = ScheduleRequest.model_validate({**current.settings.model_dump(), **changes})
    except ValidationError as error:
        raise InvalidRequest(*_problems(error)) from None
    moment = now()
    _check(promotions, store_hash, promotion_id, request, moment)
    changed = current.model_copy(update={"settings": request, "updated": moment})
    _put(scheduler, changed, new=False)
    if not schedules.replace(changed):
        # Deleted while it was being changed: the Scheduler schedule just written goes too.
        scheduler.delete(schedule_id)
        raise NotFound(f"schedule {schedule_id} does not exist")
    return changed


def delete_schedule(
    schedules: ScheduleStore, scheduler: Scheduler, store_hash: str, promotion_id: int, schedule_id: str
) -> None:
    find_schedule(schedules, store_hash, promotion_id, schedule_id)
    scheduler.delete(schedule_id)
    schedules.delete(store_hash, promotion_id, schedule_id)


def delete_promotion_schedules(
    schedules: ScheduleStore, scheduler: Scheduler, store_hash: str, promotion_id: int
) -> int:
    """Delete every schedule of a promotion (which was just deleted); returns how many."""
    found = schedules.of_promotion(store_hash, promotion_id)
    for schedule in found:
        scheduler.delete(schedule.schedule_id)
        schedules.delete(store_hash, promotion_id, schedule.schedule_id)
    if found:
        logger.info("promotion's schedules deleted", promotion_id=promotion_id, schedules=len(found))
    return len(found)


def find_schedule(schedules: ScheduleStore, store_hash: str, promotion_id: int, schedule_id: str) -> ScheduleRecord:
    schedule = schedules.get(store_hash, promotion_id, schedule_id)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} does not exist")
    return schedule


def list_schedules(
    promotions: PromotionStore, schedules: ScheduleStore, store_hash: str, promotion_id: int, page: int, limit: int
) -> tuple[list[ScheduleRecord], dict[str, Any]]:
    if promotions.get(store_hash, promotion_id) is None:
        raise NotFound(f"promotion {promotion_id} does not exist")
    return offset_page(schedules.of_promotion(store_hash, promotion_id), page, limit)


def next_run(schedule: ScheduleRecord, moment: datetime) -> datetime | None:
    """When the schedule starts its next job after `moment`; None when disabled or when none is left."""
    settings = schedule.settings
    if settings.state is ScheduleState.DISABLED:
        return None
    expression = ScheduleExpression.parse(settings.expression)
    return expression.next_after(moment, time_zone(settings.timezone), start=schedule.updated)


def tick_input(schedule: ScheduleRecord) -> str:
    """What EventBridge Scheduler hands SchedulerFunction at each tick (it fills in the tick's time)."""
    return ScheduledGeneration(
        action="generate",
        schedule=schedule.schedule_id,
        store_hash=schedule.store_hash,
        promotion_id=schedule.promotion_id,
        scheduled_time=SCHEDULED_TIME,
        **schedule.settings.job_request.model_dump(),
    ).model_dump_json()


def restore_schedules(schedules: ScheduleStore, scheduler: Scheduler) -> int:
    """Write every recorded schedule to the Scheduler again (a local stack's Scheduler starts empty)."""
    every = schedules.every()
    for schedule in every:
        _put(scheduler, schedule, new=False)
    return len(every)


def _put(scheduler: Scheduler, schedule: ScheduleRecord, *, new: bool) -> None:
    settings = schedule.settings
    enabled = settings.state is ScheduleState.ENABLED
    scheduler.put(schedule.schedule_id, settings.expression, settings.timezone, enabled, tick_input(schedule), new=new)


def _check(
    promotions: PromotionStore, store_hash: str, promotion_id: int, request: ScheduleRequest, moment: datetime
) -> None:
    """The promotion takes generated codes and has room for a tick's job; an at() has not passed."""
    check_generation(promotions, store_hash, promotion_id, request.code_format, request.quantity)
    expression = ScheduleExpression.parse(request.expression)
    if expression.at is not None and expression.next_after(moment, time_zone(request.timezone)) is None:
        raise InvalidRequest(f"expression: {request.expression} has passed in {request.timezone}")


def _problems(error: ValidationError) -> list[str]:
    """One `field: problem` line per problem, as the API's 422 lists them."""
    return [
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg'].removeprefix('Value error, ')}"
        for problem in error.errors()
    ]
