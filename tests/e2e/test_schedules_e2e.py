"""Schedules made through the API fire on the local stack as EventBridge Scheduler would fire them."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import requests

from tests.e2e.conftest import LocalStack

# A rate(1 minute) schedule made at t fires first at t + 60 s; this much later, a DISABLED one has had its chance.
RATE_WINDOW_SECONDS = 70


def api(stack: LocalStack, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.request(method, stack.v3_url(path), json=body, headers={"X-Auth-Token": stack.token}, timeout=35)


def new_bulk_promotion(stack: LocalStack) -> int:
    body = {"name": f"Scheduled {time.time()}", "redemption_type": "COUPON", "coupon_type": "BULK"}
    answer = api(stack, "POST", "promotions", {**body, "rules": [{"action": {"cart_value": {"discount": {}}}}]})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["data"]["id"])


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def test_e2e_schedule_at_starts_one_job_and_a_disabled_rate_none(stack: LocalStack) -> None:
    promotion = new_bulk_promotion(stack)
    schedules = f"promotions/{promotion}/codegen/schedules"
    # Given a rate(1 minute) schedule, disabled as soon as it was made
    rate = api(stack, "POST", schedules, {"expression": "rate(1 minute)", "quantity": 5}).json()["data"]
    rate_made = time.monotonic()
    assert api(stack, "PUT", f"{schedules}/{rate['id']}", {"state": "DISABLED"}).status_code == 200
    # And an at() schedule 10 s from now, in Berlin time
    berlin_in_ten = (
        (datetime.now(UTC) + timedelta(seconds=10)).astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M:%S")
    )
    body = {"expression": f"at({berlin_in_ten})", "timezone": "Europe/Berlin", "quantity": 300, "prefix": "AT"}
    at = api(stack, "POST", schedules, body).json()["data"]
    assert at["next_run"] is not None
    # When its time comes, then it starts a job, which completes
    job_id = wait_for(
        lambda: api(stack, "GET", f"{schedules}/{at['id']}").json()["data"]["last_job_id"], 40, "the at() tick"
    )
    job = wait_for(
        lambda: (
            (j := api(stack, "GET", f"promotions/{promotion}/codegen/jobs/{job_id}").json()["data"])["status"]
            == "COMPLETED"
            and j
        ),
        60,
        "the scheduled job's completion",
    )
    assert (job["quantity"], job["generated"], job["schedule_id"]) == (300, 300, at["id"])
    # And once the disabled rate has had its minute, the promotion has that one job and no other
    time.sleep(max(0.0, RATE_WINDOW_SECONDS - (time.monotonic() - rate_made)))
    jobs = api(stack, "GET", f"promotions/{promotion}/codegen/jobs").json()["data"]
    assert [(j["id"], j["schedule_id"]) for j in jobs] == [(job_id, at["id"])]
    assert api(stack, "GET", f"{schedules}/{rate['id']}").json()["data"]["last_job_id"] is None
    assert api(stack, "GET", f"{schedules}/{at['id']}").json()["data"]["next_run"] is None


def test_e2e_schedule_refuses_bad_expressions_and_time_zones(stack: LocalStack) -> None:
    schedules = "promotions/1/codegen/schedules"
    for body, field in (
        ({"expression": "cron(0 9 * *)", "quantity": 5}, "expression"),
        ({"expression": "rate(2 fortnights)", "quantity": 5}, "expression"),
        ({"expression": "rate(1 day)", "timezone": "Europe/Atlantis", "quantity": 5}, "timezone"),
    ):
        answer = api(stack, "POST", schedules, body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["title"].startswith(f"{field}:")


def test_e2e_schedule_goes_with_its_promotion(stack: LocalStack) -> None:
    # Given a promotion with a schedule, which the local stack's Scheduler holds
    promotion = new_bulk_promotion(stack)
    made = api(stack, "POST", f"promotions/{promotion}/codegen/schedules", {"expression": "rate(1 day)", "quantity": 5})
    schedule_id = made.json()["data"]["id"]
    scheduler, group = _local_scheduler(stack)
    assert scheduler.get_schedule(Name=schedule_id, GroupName=group)["State"] == "ENABLED"
    # When the promotion is deleted
    assert api(stack, "DELETE", f"promotions/{promotion}").status_code == 204
    # Then the schedule is gone, from the API and from the Scheduler
    assert api(stack, "GET", f"promotions/{promotion}/codegen/schedules/{schedule_id}").status_code == 404
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    assert schedule_id not in names


def _local_scheduler(stack: LocalStack) -> tuple[Any, str]:
    """A boto3 client of the stack's (moto's) Scheduler, and the stores' schedule group."""
    environment = requests.get(f"{stack.base_url}/_local/env", timeout=5).json()
    client = boto3.client(
        "scheduler",
        endpoint_url=environment["AWS_ENDPOINT_URL_SCHEDULER"],
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return client, environment["COUPONMINT_SCHEDULE_GROUP"]
