"""Schedules a store owns, against in-memory ports: record and Scheduler kept in step, next runs, ticks."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from couponmint.errors import InvalidRequest, NotFound
from couponmint.models.promotions import PromotionDraft
from couponmint.models.records import CouponType, RedemptionType
from couponmint.models.schedules import ScheduleRequest
from couponmint.service import promotions, scheduling
from couponmint.service.schedules import ScheduledGeneration, run_scheduled_generation
from tests.unit.event_fakes import FakeScheduler, FakeSchedules
from tests.unit.fakes import FakeJobs, FakePromotions, FakeQueue

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


def bulk_promotions() -> FakePromotions:
    store = FakePromotions()
    draft = PromotionDraft.named("Bulk", RedemptionType.COUPON, CouponType.BULK)
    promotions.create_promotion(store, "s", draft, promotion_id=1)
    return store


def create(schedules: FakeSchedules, scheduler: FakeScheduler, **fields: object) -> scheduling.ScheduleRecord:
    request = ScheduleRequest.model_validate({"expression": "rate(1 hour)", "quantity": 100, **fields})
    return scheduling.create_schedule(bulk_promotions(), schedules, scheduler, "s", 1, request, now=lambda: NOW)


def test_scheduling_create_records_it_and_gives_the_scheduler_the_tick_input() -> None:
    schedules, scheduler = FakeSchedules(), FakeScheduler()
    made = create(schedules, scheduler, expression="cron(0 9 ? * MON *)", timezone="Europe/Berlin", prefix="MON")
    expression, zone, enabled, payload = scheduler.held[made.schedule_id]
    assert (expression, zone, enabled) == ("cron(0 9 ? * MON *)", "Europe/Berlin", True)
    tick = ScheduledGeneration.model_validate_json(payload)
    assert (tick.schedule, tick.store_hash, tick.promotion_id, tick.quantity, tick.prefix) == (
        made.schedule_id,
        "s",
        1,
        100,
        "MON",
    )
    assert json.loads(payload)["scheduled_time"] == "<aws.scheduler.scheduled-time>"
    assert schedules.schedules == {made.schedule_id: made}


def test_scheduling_create_keeps_no_record_when_the_scheduler_refuses() -> None:
    schedules = FakeSchedules()
    with pytest.raises(RuntimeError):
        create(schedules, FakeScheduler(fail=True))
    assert schedules.schedules == {}


def test_scheduling_next_run_follows_state_zone_and_start() -> None:
    schedules, scheduler = FakeSchedules(), FakeScheduler()
    hourly = create(schedules, scheduler)
    weekly = create(schedules, scheduler, expression="cron(0 9 ? * MON *)", timezone="Europe/Berlin")
    assert scheduling.next_run(hourly, NOW + timedelta(minutes=90)) == NOW + timedelta(hours=2)
    assert scheduling.next_run(weekly, NOW) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    settings = ScheduleRequest.model_validate({**hourly.settings.model_dump(), "state": "DISABLED"})
    assert scheduling.next_run(hourly.model_copy(update={"settings": settings}), NOW) is None


def test_scheduling_change_merges_the_fields_given_and_checks_the_whole() -> None:
    schedules, scheduler = FakeSchedules(), FakeScheduler()
    made = create(schedules, scheduler, prefix="A")
    changed = scheduling.change_schedule(
        bulk_promotions(), schedules, scheduler, "s", 1, made.schedule_id, {"state": "DISABLED"}, now=lambda: NOW
    )
    assert (changed.settings.state, changed.settings.prefix, changed.settings.quantity) == ("DISABLED", "A", 100)
    assert scheduler.held[made.schedule_id][2] is False
    with pytest.raises(InvalidRequest, match=r"^quantity: "):
        scheduling.change_schedule(
            bulk_promotions(), schedules, scheduler, "s", 1, made.schedule_id, {"quantity": 0}, now=lambda: NOW
        )


def test_scheduling_refuses_an_at_that_has_passed() -> None:
    with pytest.raises(InvalidRequest, match="has passed"):
        create(FakeSchedules(), FakeScheduler(), expression="at(2026-11-25T12:30:00)", timezone="Europe/Berlin")
    assert create(FakeSchedules(), FakeScheduler(), expression="at(2026-11-25T12:30:00)").settings.expression


def test_scheduling_delete_and_promotion_deletion_clear_both_sides() -> None:
    schedules, scheduler = FakeSchedules(), FakeScheduler()
    first, second = create(schedules, scheduler), create(schedules, scheduler)
    scheduling.delete_schedule(schedules, scheduler, "s", 1, first.schedule_id)
    assert list(scheduler.held) == [second.schedule_id] and list(schedules.schedules) == [second.schedule_id]
    with pytest.raises(NotFound):
        scheduling.delete_schedule(schedules, scheduler, "s", 1, first.schedule_id)
    # Deleting the promotion deletes what is left
    store = bulk_promotions()
    deleter = lambda promotion_id: scheduling.delete_promotion_schedules(schedules, scheduler, "s", promotion_id)  # noqa: E731
    assert promotions.delete_promotions(store, "s", [1], on_deleted=deleter) == []
    assert scheduler.held == {} and schedules.schedules == {}


def test_scheduled_tick_starts_one_job_per_tick_and_none_for_a_deleted_schedule() -> None:
    schedules, scheduler, jobs, store = FakeSchedules(), FakeScheduler(), FakeJobs(), bulk_promotions()
    made = create(schedules, scheduler)
    payload = scheduler.held[made.schedule_id][3].replace("<aws.scheduler.scheduled-time>", "2026-11-25T13:00:00Z")
    tick = ScheduledGeneration.model_validate_json(payload)
    first = run_scheduled_generation(store, jobs, schedules, FakeQueue(), tick)
    again = run_scheduled_generation(store, jobs, schedules, FakeQueue(), tick)
    assert first is not None and again is not None and first.job_id == again.job_id
    assert list(jobs.jobs) == [first.job_id] and first.schedule_id == made.schedule_id
    assert schedules.schedules[made.schedule_id].last_job_id == first.job_id
    scheduling.delete_schedule(schedules, scheduler, "s", 1, made.schedule_id)
    assert run_scheduled_generation(store, jobs, schedules, FakeQueue(), tick) is None
