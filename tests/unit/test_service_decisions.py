"""The services' decisions against in-memory ports: the sweeper, finishing a job, waiting for a batch, giving up."""

from datetime import timedelta
from typing import Any

import pytest

from couponmint.errors import NotFound
from couponmint.models.codegen import CodegenRequest
from couponmint.models.jobs import JOB_WINDOW, JobStatus, job_batch_id
from couponmint.models.messages import AssembleJobMessage, GenerateBatchMessage, NewBatch, PlanJobMessage
from couponmint.models.records import BatchStatus
from couponmint.service import codegen, generation, jobs, schedules
from couponmint.service.schedules import ASSEMBLY_GIVE_UP_AFTER, ASSEMBLY_STALE_AFTER, GIVE_UP_AFTER, STALE_AFTER
from tests.unit.fakes import FakeBatches, FakeExports, FakeJobs, FakePromotions, FakeQueue, batch, job

LATER = job().created + STALE_AFTER + timedelta(seconds=1)


def kinds(queue: FakeQueue) -> list[str]:
    return [type(message).__name__ for message in queue.sent]


# ---------------------------------------------------------------- the sweeper
def test_sweep_moves_a_job_whose_batches_all_finished_to_assembly() -> None:
    # Given a running job whose 4 batches are done but whose finishing step was lost
    store = FakeJobs({"j": job(batches_released=4, batches_done=4, generated=1000)})
    queue = FakeQueue()
    # When the sweeper runs
    counts = schedules.sweep(store, FakeBatches(), queue, FakeQueue(), now=job().created + timedelta(seconds=5))
    # Then the job assembles, once
    assert counts["finished"] == 1
    assert store.jobs["j"].status is JobStatus.ASSEMBLING
    assert queue.sent == [AssembleJobMessage(store_hash="s", job_id="j")]


def test_sweep_leaves_a_recent_unfinished_job_alone() -> None:
    # Given a job planned a moment ago, with batches still running
    store = FakeJobs({"j": job(batches_released=4, batches_done=1)})
    queue = FakeQueue()
    # When the sweeper runs within the staleness limit
    counts = schedules.sweep(
        store, FakeBatches(), queue, FakeQueue(), now=job().created + STALE_AFTER - timedelta(seconds=1)
    )
    # Then nothing is sent
    assert queue.sent == [] and sum(counts.values()) == 0


def test_sweep_starts_a_stale_queued_job_again() -> None:
    # Given a job whose start message was lost
    store = FakeJobs({"j": job(status=JobStatus.QUEUED)})
    queue = FakeQueue()
    # When the sweeper runs after the staleness limit
    counts = schedules.sweep(store, FakeBatches(), queue, FakeQueue(), now=LATER)
    # Then its start is sent again
    assert counts["replanned"] == 1
    assert queue.sent == [PlanJobMessage(store_hash="s", job_id="j")]


def test_sweep_redrives_only_the_unfinished_batches_of_a_stale_job() -> None:
    # Given a job with all 4 batches released: 0 done, 1 claiming, 2 pending, 3 failed
    store = FakeJobs({"j": job(batches_released=4, batches_done=2)})
    statuses = [BatchStatus.DONE, BatchStatus.CLAIMING, BatchStatus.PENDING, BatchStatus.FAILED]
    batches = FakeBatches(
        {job_batch_id("j", i): batch(job_batch_id("j", i), s, job_id="j") for i, s in enumerate(statuses)}
    )
    queue = FakeQueue()
    # When the sweeper runs after the staleness limit
    counts = schedules.sweep(store, batches, queue, FakeQueue(), now=LATER)
    # Then the two unfinished batches are sent again, and only they
    assert counts["redriven"] == 2
    assert [m.batch_id for m in queue.sent if isinstance(m, GenerateBatchMessage)] == ["j-00001", "j-00002"]


def test_sweep_releases_again_what_a_lost_release_left_out() -> None:
    # Given a stalled job of 100 batches: 30 released, all 30 finished, the next release lost
    big = job(quantity=25_000, batches_total=100, batches_released=30, batches_done=30)
    store = FakeJobs({"j": big})
    done = {job_batch_id("j", i): batch(job_batch_id("j", i), BatchStatus.DONE, job_id="j") for i in range(30)}
    queue = FakeQueue()
    # When the sweeper runs after the staleness limit
    counts = schedules.sweep(store, FakeBatches(done), queue, FakeQueue(), now=LATER)
    # Then a full window of the next batches is released, recorded and sent
    assert counts["redriven"] == JOB_WINDOW
    assert [m.batch_id for m in queue.sent] == [job_batch_id("j", i) for i in range(30, 30 + JOB_WINDOW)]
    assert store.jobs["j"].batches_released == 30 + JOB_WINDOW


def test_sweep_leaves_a_long_running_job_alone_while_it_progresses() -> None:
    # Given a job started two hours ago whose last batch finished a minute ago
    started = job(batches_released=4, batches_done=2)
    progressing = started.model_copy(update={"progressed": started.created + timedelta(hours=2)})
    store = FakeJobs({"j": progressing})
    queue = FakeQueue()
    # When the sweeper runs
    counts = schedules.sweep(
        store, FakeBatches(), queue, FakeQueue(), now=started.created + timedelta(hours=2, minutes=1)
    )
    # Then none of its batches is sent again
    assert queue.sent == [] and sum(counts.values()) == 0


def test_sweep_assembles_a_stale_assembling_job_again_then_gives_up() -> None:
    # Given a job assembling since its creation
    store = FakeJobs({"j": job(status=JobStatus.ASSEMBLING, batches_released=4, batches_done=4)})
    queue = FakeQueue()
    # When the sweeper runs within the assembly's own limit, nothing happens; past it, assembly is sent again
    assert sum(schedules.sweep(store, FakeBatches(), queue, FakeQueue(), now=LATER).values()) == 0
    counts = schedules.sweep(
        store, FakeBatches(), queue, FakeQueue(), now=job().created + ASSEMBLY_STALE_AFTER + timedelta(seconds=1)
    )
    assert counts["reassembled"] == 1 and kinds(queue) == ["AssembleJobMessage"]
    # And past its give-up limit the job is FAILED
    counts = schedules.sweep(
        store, FakeBatches(), queue, FakeQueue(), now=job().created + ASSEMBLY_GIVE_UP_AFTER + timedelta(seconds=1)
    )
    assert counts["failed"] == 1 and store.jobs["j"].status is JobStatus.FAILED


def test_sweep_gives_up_on_a_job_that_cannot_finish() -> None:
    # Given a job still running long after its start
    store = FakeJobs({"j": job(batches_released=4, batches_done=1)})
    # When the sweeper runs past the give-up limit
    counts = schedules.sweep(
        store, FakeBatches(), FakeQueue(), FakeQueue(), now=job().created + GIVE_UP_AFTER + timedelta(1)
    )
    # Then the job is FAILED with the reason
    assert counts["failed"] == 1
    assert store.jobs["j"].status is JobStatus.FAILED
    assert store.jobs["j"].error == "running without progress for 48.0 h"


# ---------------------------------------------------------------- finishing a job
@pytest.mark.parametrize(
    ("done", "failed", "status", "sent"),
    [
        (3, 0, JobStatus.RUNNING, []),
        (4, 0, JobStatus.ASSEMBLING, ["AssembleJobMessage"]),
        (4, 250, JobStatus.FAILED, []),
    ],
    ids=["batches-left", "all-done", "some-failed"],
)
def test_finish_job_assembles_fails_or_waits(done: int, failed: int, status: JobStatus, sent: list[str]) -> None:
    # Given a running job with `done` of its 4 batches finished, `failed` codes not made
    store = FakeJobs({"j": job(batches_released=4, batches_done=done, failed=failed)})
    queue = FakeQueue()
    # When its finishing step runs
    jobs.finish_job(store, queue, store.jobs["j"])
    # Then it waits, assembles, or fails with the count of codes not made
    assert store.jobs["j"].status is status and kinds(queue) == sent
    if status is JobStatus.FAILED:
        assert store.jobs["j"].error == "250 of 1000 codes could not be made"


def test_list_jobs_of_an_unknown_promotion_is_not_found() -> None:
    with pytest.raises(NotFound):
        jobs.list_jobs(FakePromotions(), FakeJobs({"j": job()}), "s", 1, page=1, limit=50)


# ---------------------------------------------------------------- waiting for a batch
class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_for_batch_returns_the_finished_record() -> None:
    # Given a batch the generator finishes after the first poll
    pending = batch("w")
    store = FakeBatches()
    clock = Clock()
    polls: list[float] = []

    def poll(store_hash: str, batch_id: str) -> Any:
        polls.append(clock.now)
        if len(polls) == 2:
            store.batches["w"] = pending.model_copy(update={"status": BatchStatus.DONE})
        return store.batches.get(batch_id)

    store.get = poll  # type: ignore[method-assign]
    # When the API waits for it with a 10 s budget
    found = codegen.wait_for_batch(store, pending, 10, clock=clock, sleep=clock.sleep)
    # Then it returns the DONE record at the second poll, well within the budget
    assert found.status is BatchStatus.DONE and len(polls) == 2 and clock.now < 1


def test_wait_for_batch_records_a_batch_not_started_within_the_budget() -> None:
    # Given a batch the generator never starts
    pending = batch("late")
    store = FakeBatches()
    clock = Clock()
    # When the budget of 2 s runs out
    found = codegen.wait_for_batch(store, pending, 2, clock=clock, sleep=clock.sleep)
    # Then the batch is recorded PENDING (so the 202's Location can be read) and returned as such
    assert found.status is BatchStatus.PENDING and store.batches["late"] == pending
    assert 2 <= clock.now < 2.2


# ---------------------------------------------------------------- giving up on the last delivery
def message(batch_id: str = "g") -> GenerateBatchMessage:
    request = CodegenRequest(batch_size=5, code_length=8)
    new = NewBatch(
        batch_size=5, max_uses=1, max_uses_per_customer=1, code_format=request.code_format, created=job().created
    )
    return GenerateBatchMessage(store_hash="s", promotion_id=1, batch_id=batch_id, new=new)


class BrokenPromotions(FakePromotions):
    def reserve_ids(self, store_hash: str, counter: str, count: int) -> int:
        raise OSError("DynamoDB is unreachable")


@pytest.mark.parametrize(("receive_count", "gives_up"), [(1, False), (4, False), (5, True)])
def test_run_batch_message_gives_up_only_on_the_last_delivery(receive_count: int, gives_up: bool) -> None:
    # Given a generator that cannot reserve code ids
    batches = FakeBatches()
    # When a delivery of a codegen request's message fails
    with pytest.raises(OSError, match="unreachable"):
        generation.run_batch_message(
            batches,
            BrokenPromotions(),
            FakeJobs(),
            FakeExports(),
            FakeQueue(),
            message(),
            receive_count=receive_count,
            max_receives=5,
        )
    # Then only the last delivery records the batch FAILED with the reason (the error still goes to the queue)
    if gives_up:
        assert batches.failed == [("g", "OSError: DynamoDB is unreachable")]
        assert batches.batches["g"].status is BatchStatus.FAILED
    else:
        assert batches.failed == [] and batches.batches == {}


def test_run_batch_message_completes_a_batch_through_the_ports() -> None:
    # Given healthy ports
    batches, exports = FakeBatches(), FakeExports()
    # When a codegen request's message is handled
    outcome = generation.run_batch_message(
        batches, FakePromotions(), FakeJobs(), exports, FakeQueue(), message(), receive_count=1, max_receives=5
    )
    done = outcome.batch
    assert outcome.finished_now
    # Then the batch is DONE with 5 distinct 8-character codes, and its CSV holds them
    assert done.status is BatchStatus.DONE and len(set(done.codes)) == 5
    assert all(len(code) == 8 for code in done.codes)
    assert exports.objects[done.export_key or ""].decode().count("\n") == 6


# ---------------------------------------------------------------- releasing a job's batches a window at a time
def test_plan_job_releases_one_window_once() -> None:
    # Given a queued job of 100 batches
    store = FakeJobs({"j": job(status=JobStatus.QUEUED, quantity=25_000, batches_total=100)})
    batches, queue = FakeBatches(), FakeQueue()
    # When its start message is delivered twice
    for _ in range(2):
        jobs.plan_job(store, batches, queue, PlanJobMessage(store_hash="s", job_id="j"))
    # Then it runs with exactly one window of batches recorded and sent
    assert store.jobs["j"].status is JobStatus.RUNNING
    assert [m.batch_id for m in queue.sent] == [job_batch_id("j", i) for i in range(JOB_WINDOW)]
    assert sorted(batches.batches) == [job_batch_id("j", i) for i in range(JOB_WINDOW)]


def test_plan_job_keeps_the_lanes_window_for_the_jobs_life() -> None:
    # Given a queued job of 100 batches, and a job lane whose window is 40 (JobConcurrency)
    store = FakeJobs({"j": job(status=JobStatus.QUEUED, quantity=25_000, batches_total=100)})
    batches, queue = FakeBatches(), FakeQueue()
    # When it starts, and its first batch finishes
    jobs.plan_job(store, batches, queue, PlanJobMessage(store_hash="s", job_id="j"), window=40)
    store.jobs["j"] = store.jobs["j"].model_copy(update={"batches_done": 1})
    jobs.after_batch(store, batches, queue, batch("j-00000", BatchStatus.DONE, job_id="j"))
    # Then 40 batches are released at once, the job records its window, and the next release keeps 40 in flight
    assert store.jobs["j"].window == 40
    assert [m.batch_id for m in queue.sent] == [job_batch_id("j", i) for i in range(41)]


def test_after_batch_releases_the_next_batch_until_none_is_left() -> None:
    # Given a running job of 4 batches, all released, 3 finished
    store = FakeJobs({"j": job(batches_released=4, batches_done=3)})
    queue = FakeQueue()
    # When its last batch finishes
    store.jobs["j"] = store.jobs["j"].model_copy(update={"batches_done": 4})
    jobs.after_batch(store, FakeBatches(), queue, batch("j-00003", BatchStatus.DONE, job_id="j"))
    # Then nothing more is released and the job assembles
    assert kinds(queue) == ["AssembleJobMessage"] and store.jobs["j"].batches_released == 4


def test_after_batch_of_a_large_job_keeps_its_window_full() -> None:
    # Given a running job of 100 batches with one window released, the first just finished
    store = FakeJobs({"j": job(quantity=25_000, batches_total=100, batches_released=JOB_WINDOW, batches_done=1)})
    queue = FakeQueue()
    # When it finishes
    jobs.after_batch(store, FakeBatches(), queue, batch("j-00000", BatchStatus.DONE, job_id="j"))
    # Then exactly the next batch is released
    assert [m.batch_id for m in queue.sent] == [job_batch_id("j", JOB_WINDOW)]


def test_after_batch_of_a_cancelled_job_releases_nothing() -> None:
    store = FakeJobs({"j": job(status=JobStatus.CANCELLED, quantity=25_000, batches_total=100, batches_released=20)})
    queue = FakeQueue()
    jobs.after_batch(store, FakeBatches(), queue, batch("j-00000", BatchStatus.DONE, job_id="j"))
    assert queue.sent == []


def test_sweep_redrives_a_stale_codegen_batch_and_resume_redrives_at_once() -> None:
    # Given a codegen request's batch answered 202 long ago whose message was lost, and a fresh one
    old = batch("old", created=job().created)
    fresh = batch("fresh", created=LATER - timedelta(seconds=10))
    batches = FakeBatches({"old": old, "fresh": fresh})
    codegen_lane = FakeQueue()
    # When the sweeper runs, only the stale one is sent again, with the request's description
    counts = schedules.sweep(FakeJobs(), batches, FakeQueue(), codegen_lane, now=LATER)
    assert counts["redriven"] == 1
    sent = codegen_lane.sent[0]
    assert isinstance(sent, GenerateBatchMessage) and sent.batch_id == "old" and sent.new is not None
    assert sent.new.batch_size == 5 and sent.new.created == old.created
    # And a resuming sweep (a local stack just started) sends both at once
    codegen_lane.sent.clear()
    assert schedules.sweep(FakeJobs(), batches, FakeQueue(), codegen_lane, now=LATER, resume=True)["redriven"] == 2
