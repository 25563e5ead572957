"""SchedulerFunction through its real handler: the sweeper (scheduled generation: test_schedules_api.py)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from couponmint.adapters.aws import dynamodb_resource
from couponmint.adapters.factory import job_queue, repositories
from couponmint.config import get_settings
from couponmint.models.jobs import JobRequest, JobStatus
from couponmint.models.messages import PlanJobMessage
from couponmint.service import jobs
from couponmint.service.schedules import sweep
from couponmint_dev.local.lambdas import load_handler, local_context
from couponmint_dev.local.schedules import scheduled_event, schedules_in
from couponmint_dev.local.template import load_template
from tests.integration.helpers import TEMPLATE, Store


@pytest.fixture(scope="module")
def scheduler(resources: Any) -> Any:
    return load_handler(TEMPLATE, "SchedulerFunction")


def test_scheduler_local_schedules_follow_the_template() -> None:
    found = {s.event_id: s for s in schedules_in(load_template(TEMPLATE))}
    # The template's only schedule is the sweeper, every 5 minutes (stores make theirs through the API)
    assert set(found) == {"Sweep"}
    assert found["Sweep"].when.period == timedelta(minutes=5)
    assert scheduled_event(found["Sweep"]) == {"action": "sweep"}


def test_scheduler_sweep_finishes_jobs_and_nudges_stale_ones(store: Store, scheduler: Any) -> None:
    stores, queue = repositories(), job_queue()
    # Given a job whose batches all finished but whose finishing step was lost
    done, _ = jobs.start_job(stores.promotions, stores.jobs, queue, store.store_hash, 1, JobRequest(quantity=10))
    stores.jobs.move(store.store_hash, done.job_id, JobStatus.RUNNING, {JobStatus.QUEUED})
    dynamodb_resource().Table(get_settings().table_name).update_item(
        Key={"pk": f"STORE#{store.store_hash}#JOB#{done.job_id}", "sk": "JOB"},
        UpdateExpression="SET batches_done = :one, generated = :ten",
        ExpressionAttributeValues={":one": 1, ":ten": 10},
    )
    # And a job whose planning message was lost long ago
    stale, _ = jobs.start_job(stores.promotions, stores.jobs, queue, store.store_hash, 1, JobRequest(quantity=500))
    # When the sweeper runs (as if ten minutes later)
    counts = sweep(stores.jobs, stores.batches, queue, queue, now=datetime.now(UTC) + timedelta(minutes=10))
    # Then the first moves on to assembling, and the second is planned again
    assert stores.jobs.get(store.store_hash, done.job_id).status is JobStatus.ASSEMBLING  # type: ignore[union-attr]
    assert counts["finished"] >= 1 and counts["replanned"] >= 1
    assert stores.jobs.get(store.store_hash, stale.job_id).status is JobStatus.QUEUED  # type: ignore[union-attr]
    # And the handler runs the same sweep from the schedule's input
    assert set(scheduler({"action": "sweep"}, local_context("SchedulerFunction"))) == {
        "finished",
        "replanned",
        "reassembled",
        "redriven",
        "failed",
    }
    for job in (done, stale):
        stores.jobs.move(store.store_hash, job.job_id, JobStatus.CANCELLED, set(JobStatus))


def test_scheduler_sweep_redrives_lost_batches_and_gives_up_on_old_jobs(store: Store) -> None:
    stores, queue = repositories(), job_queue()
    # Given a running job whose three batches were planned but whose messages were lost
    lost, _ = jobs.start_job(stores.promotions, stores.jobs, queue, store.store_hash, 1, JobRequest(quantity=600))
    jobs.plan_job(
        stores.jobs, stores.batches, _NoQueue(), PlanJobMessage(store_hash=store.store_hash, job_id=lost.job_id)
    )  # type: ignore[arg-type]
    # When the sweeper runs ten minutes later
    sent: list[Any] = []
    counts = sweep(
        stores.jobs, stores.batches, _Recording(sent), _Recording([]), now=datetime.now(UTC) + timedelta(minutes=10)
    )  # type: ignore[arg-type]
    # Then the three unfinished batches are sent again
    assert counts["redriven"] >= 3
    assert {m.batch_id for m in sent if getattr(m, "job_id", None) is None and hasattr(m, "batch_id")} >= {
        f"{lost.job_id}-0000{i}" for i in range(3)
    }
    # When it runs two days later, the job that could not finish is FAILED with the reason
    sweep(stores.jobs, stores.batches, _Recording([]), _Recording([]), now=datetime.now(UTC) + timedelta(days=2))  # type: ignore[arg-type]
    failed = stores.jobs.get(store.store_hash, lost.job_id)
    assert failed is not None and failed.status is JobStatus.FAILED and "without progress" in (failed.error or "")


class _NoQueue:
    def send(self, message: Any) -> str:
        return "lost"

    def send_many(self, messages: list[Any]) -> None:
        """Lost on the way: the sweeper has to send them again."""


class _Recording:
    def __init__(self, sent: list[Any]) -> None:
        self.sent = sent

    def send(self, message: Any) -> str:
        self.sent.append(message)
        return "recorded"

    def send_many(self, messages: list[Any]) -> None:
        self.sent.extend(messages)
