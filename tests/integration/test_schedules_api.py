"""Schedules through the real ApiFunction and SchedulerFunction, against DynamoDB Local and moto's Scheduler."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from couponmint.adapters.aws import scheduler_client
from couponmint.adapters.factory import repositories
from couponmint.config import get_settings
from couponmint_dev.local.lambdas import load_handler, local_context
from tests.integration.helpers import TEMPLATE, HttpAnswer, Store

Api = Callable[..., HttpAnswer]
WEEKLY = {"expression": "cron(0 9 ? * MON *)", "timezone": "Europe/Berlin", "quantity": 500, "prefix": "MON"}


def schedules_path(store: Store, promotion_id: int = 1) -> str:
    return f"/stores/{store.store_hash}/v3/promotions/{promotion_id}/codegen/schedules"


def create(call_api: Api, store: Store, body: dict[str, Any], promotion_id: int = 1) -> HttpAnswer:
    return call_api("POST", schedules_path(store, promotion_id), json.dumps(body), store.token)


def in_scheduler(schedule_id: str) -> dict[str, Any] | None:
    """The schedule as EventBridge Scheduler (moto's) holds it, or None."""
    group = get_settings().schedule_group
    names = {s["Name"] for s in scheduler_client().list_schedules(GroupName=group)["Schedules"]}
    return scheduler_client().get_schedule(Name=schedule_id, GroupName=group) if schedule_id in names else None


def test_schedules_create_answers_201_and_writes_the_scheduler_schedule(call_api: Api, store: Store) -> None:
    # When a store creates a weekly schedule
    answer = create(call_api, store, WEEKLY)
    # Then it is answered 201 with the schedule, its next run (Monday 09:00 Berlin) and a Location
    assert answer.status == 201, answer.body
    data = answer.body["data"]
    assert {k: data[k] for k in ("expression", "timezone", "quantity", "state", "prefix", "promotion_id")} == {
        **{k: WEEKLY[k] for k in ("expression", "timezone", "quantity", "prefix")},
        "state": "ENABLED",
        "promotion_id": 1,
    }
    assert data["last_job_id"] is None and data["next_run"] is not None
    next_run = datetime.fromisoformat(data["next_run"])
    assert next_run.weekday() == 0 and next_run.hour in (7, 8) and next_run > datetime.now(UTC)
    assert answer.headers["Location"] == f"{schedules_path(store)}/{data['id']}"
    # And EventBridge Scheduler holds it, targeting SchedulerFunction with the tick's input, retries and a DLQ
    held = in_scheduler(data["id"])
    assert held is not None
    settings = get_settings()
    assert (held["ScheduleExpression"], held["ScheduleExpressionTimezone"], held["State"]) == (
        "cron(0 9 ? * MON *)",
        "Europe/Berlin",
        "ENABLED",
    )
    target = held["Target"]
    assert (target["Arn"], target["RoleArn"]) == (settings.schedule_target_arn, settings.schedule_role_arn)
    assert target["DeadLetterConfig"] == {"Arn": settings.schedule_dead_letter_arn}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    tick = json.loads(target["Input"])
    assert tick["action"] == "generate" and tick["schedule"] == data["id"] and tick["quantity"] == 500
    assert tick["store_hash"] == store.store_hash and tick["scheduled_time"] == "<aws.scheduler.scheduled-time>"


def test_schedules_list_get_change_and_delete(call_api: Api, store: Store) -> None:
    # Given two schedules of promotion 1
    first = create(call_api, store, WEEKLY).body["data"]
    second = create(call_api, store, {"expression": "rate(1 day)", "quantity": 10}).body["data"]
    # When they are listed and read (a read-only token may)
    listing = call_api("GET", schedules_path(store), token=store.readonly_token)
    one = call_api("GET", f"{schedules_path(store)}/{first['id']}", token=store.readonly_token)
    # Then both are shown, oldest first
    assert listing.status == 200 and [s["id"] for s in listing.body["data"]] == [first["id"], second["id"]]
    assert listing.body["meta"]["pagination"]["total"] == 2
    assert one.status == 200 and one.body["data"] == {**first, "next_run": one.body["data"]["next_run"]}
    # When the first is disabled and given another quantity
    changed = call_api(
        "PUT", f"{schedules_path(store)}/{first['id']}", json.dumps({"state": "DISABLED", "quantity": 7}), store.token
    )
    # Then only those fields change, it has no next run, and the Scheduler schedule is disabled
    assert changed.status == 200, changed.body
    assert {k: changed.body["data"][k] for k in ("state", "quantity", "expression", "prefix", "next_run")} == {
        "state": "DISABLED",
        "quantity": 7,
        "expression": WEEKLY["expression"],
        "prefix": "MON",
        "next_run": None,
    }
    held = in_scheduler(first["id"])
    assert held is not None and held["State"] == "DISABLED" and json.loads(held["Target"]["Input"])["quantity"] == 7
    # When it is deleted
    deleted = call_api("DELETE", f"{schedules_path(store)}/{first['id']}", token=store.token)
    # Then it is gone from the API and from the Scheduler
    assert deleted.status == 204
    assert call_api("GET", f"{schedules_path(store)}/{first['id']}", token=store.token).status == 404
    assert in_scheduler(first["id"]) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expression": "cron(0 9 * * MON *)", "quantity": 5}, "expression"),
        ({"expression": "every monday", "quantity": 5}, "expression"),
        ({"expression": "rate(1 day)", "timezone": "Mars/Olympus", "quantity": 5}, "timezone"),
        ({"expression": "rate(1 day)", "quantity": 0}, "quantity"),
        ({"expression": "rate(1 day)", "quantity": 1_000_001}, "quantity"),
        ({"expression": "rate(1 day)", "quantity": 5, "code_length": 3}, "code_length"),
        ({"expression": "rate(1 day)", "quantity": 5, "state": "PAUSED"}, "state"),
        ({"expression": "at(2020-01-01T00:00:00)", "quantity": 5}, "expression"),
    ],
)
def test_schedules_refuse_a_bad_field_with_422_naming_it(
    call_api: Api, store: Store, body: dict[str, Any], field: str
) -> None:
    answer = create(call_api, store, body)
    assert answer.status == 422, answer.body
    assert any(error["title"].startswith(f"{field}:") for error in answer.body["errors"]), answer.body


def test_schedules_change_refuses_a_bad_field_and_keeps_the_schedule(call_api: Api, store: Store) -> None:
    first = create(call_api, store, WEEKLY).body["data"]
    path = f"{schedules_path(store)}/{first['id']}"
    answer = call_api("PUT", path, json.dumps({"timezone": "Nowhere/Land"}), store.token)
    assert answer.status == 422 and answer.body["errors"][0]["title"].startswith("timezone:")
    assert call_api("GET", path, token=store.token).body["data"]["timezone"] == "Europe/Berlin"


def test_schedules_read_only_token_may_not_change(call_api: Api, store: Store) -> None:
    first = create(call_api, store, WEEKLY).body["data"]
    path = f"{schedules_path(store)}/{first['id']}"
    assert call_api("POST", schedules_path(store), json.dumps(WEEKLY), store.readonly_token).status == 403
    assert call_api("PUT", path, json.dumps({"quantity": 5}), store.readonly_token).status == 403
    assert call_api("DELETE", path, token=store.readonly_token).status == 403


def test_schedules_of_unknown_or_non_bulk_promotions_are_refused(call_api: Api, store: Store) -> None:
    assert create(call_api, store, WEEKLY, promotion_id=99).status == 404
    assert create(call_api, store, WEEKLY, promotion_id=2).status == 405
    assert call_api("GET", schedules_path(store, 99), token=store.token).status == 404


def test_schedules_go_when_their_promotion_is_deleted(call_api: Api, store: Store) -> None:
    # Given a promotion with two schedules
    promotion = call_api(
        "POST",
        f"/stores/{store.store_hash}/v3/promotions",
        json.dumps({"name": "Weekly", "redemption_type": "COUPON", "coupon_type": "BULK", "rules": [{"action": {}}]}),
        store.token,
    ).body["data"]
    made = [create(call_api, store, WEEKLY, promotion_id=promotion["id"]).body["data"]["id"] for _ in range(2)]
    assert all(in_scheduler(schedule_id) for schedule_id in made)
    # When the promotion is deleted
    deleted = call_api("DELETE", f"/stores/{store.store_hash}/v3/promotions/{promotion['id']}", token=store.token)
    # Then its schedules are gone, from DynamoDB and from EventBridge Scheduler
    assert deleted.status == 204
    assert repositories().schedules.of_promotion(store.store_hash, promotion["id"]) == []
    assert [in_scheduler(schedule_id) for schedule_id in made] == [None, None]


def test_schedules_tick_starts_one_job_and_points_the_schedule_at_it(call_api: Api, store: Store) -> None:
    # Given a schedule, and the input EventBridge Scheduler holds for it, for one tick
    schedule = create(call_api, store, {**WEEKLY, "quantity": 20}).body["data"]
    held = in_scheduler(schedule["id"])
    assert held is not None
    tick = json.loads(held["Target"]["Input"].replace("<aws.scheduler.scheduled-time>", "2026-12-07T08:00:00Z"))
    scheduler = load_handler(TEMPLATE, "SchedulerFunction")
    # When the tick is delivered twice
    first = scheduler(tick, local_context("SchedulerFunction"))
    again = scheduler(tick, local_context("SchedulerFunction"))
    # Then one job started, naming the schedule, and the schedule points at it
    assert first["job_id"] == again["job_id"] is not None
    jobs = call_api("GET", f"/stores/{store.store_hash}/v3/promotions/1/codegen/jobs", token=store.token).body
    assert [(j["id"], j["schedule_id"], j["quantity"]) for j in jobs["data"]] == [(first["job_id"], schedule["id"], 20)]
    shown = call_api("GET", f"{schedules_path(store)}/{schedule['id']}", token=store.token).body["data"]
    assert shown["last_job_id"] == first["job_id"]
    # And once the schedule is deleted, a tick still in flight starts nothing
    call_api("DELETE", f"{schedules_path(store)}/{schedule['id']}", token=store.token)
    late = {**tick, "scheduled_time": (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert scheduler(late, local_context("SchedulerFunction")) == {"job_id": None}
