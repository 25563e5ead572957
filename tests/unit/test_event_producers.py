"""Domain events are published once the state change they report has happened, with ids that a republication
keeps (service/events.py says what "once" means)."""

from datetime import timedelta

import pytest

from couponmint.models.codegen import CodegenRequest
from couponmint.models.jobs import JobStatus
from couponmint.models.messages import AssembleJobMessage, GenerateBatchMessage, NewBatch
from couponmint.service import assembly, generation, jobs, schedules
from couponmint.service.schedules import GIVE_UP_AFTER
from tests.unit.event_fakes import FakeEvents
from tests.unit.fakes import FakeBatches, FakeExports, FakeJobs, FakePromotions, FakeQueue, job


def scopes(events: FakeEvents) -> list[str]:
    return [event.scope for event in events.published]


def test_assembled_job_is_published_completed_and_again_with_the_same_id_on_a_redelivery() -> None:
    # Given a job whose batches are all done (of 0 codes: its CSV is assembled from nothing)
    store, events = FakeJobs({"j": job(JobStatus.ASSEMBLING, batches_total=0, quantity=0)}), FakeEvents()
    exports, queue = FakeExports(), FakeQueue()
    # When its assembly starts and its one part runs, and that part's message is delivered again
    assembly.assemble_job(store, FakeBatches(), exports, queue, AssembleJobMessage(store_hash="s", job_id="j"))
    (part,) = queue.sent
    assert isinstance(part, AssembleJobMessage)
    assembly.assemble_job(store, FakeBatches(), exports, queue, part, events=events)
    assembly.assemble_job(store, FakeBatches(), exports, queue, part, events=events)
    # Then it is COMPLETED, and published each time with one id and the job as subject
    assert store.jobs["j"].status is JobStatus.COMPLETED
    assert scopes(events) == ["store/promotion/codegen/job/completed"] * 2
    first, again = events.published
    assert first.event_id == again.event_id and first.data.model_dump() == {"type": "job", "id": "j", "promotion_id": 1}


def test_a_job_whose_codes_could_not_all_be_made_is_published_failed() -> None:
    store, events = FakeJobs({"j": job(batches_released=4, batches_done=4, failed=250)}), FakeEvents()
    jobs.finish_job(store, FakeQueue(), store.jobs["j"], events=events)
    assert store.jobs["j"].status is JobStatus.FAILED
    assert scopes(events) == ["store/promotion/codegen/job/failed"]


def test_a_job_still_running_or_assembling_publishes_nothing() -> None:
    events = FakeEvents()
    for running in (job(batches_done=2), job(batches_released=4, batches_done=4)):
        store = FakeJobs({"j": running})
        jobs.finish_job(store, FakeQueue(), store.jobs["j"], events=events)
    assert events.published == []


def test_a_job_the_sweeper_gives_up_on_is_published_failed() -> None:
    store, events = FakeJobs({"j": job()}), FakeEvents()
    schedules.sweep(
        store, FakeBatches(), FakeQueue(), FakeQueue(), now=job().created + GIVE_UP_AFTER * 2, events=events
    )
    assert store.jobs["j"].status is JobStatus.FAILED
    assert scopes(events) == ["store/promotion/codegen/job/failed"]


class BrokenPromotions(FakePromotions):
    def reserve_ids(self, store_hash: str, counter: str, count: int) -> int:
        raise OSError("DynamoDB is unreachable")


def test_a_batch_failed_for_good_is_published_on_its_last_delivery_only() -> None:
    request = CodegenRequest(batch_size=5, code_length=8)
    new = NewBatch(
        batch_size=5,
        max_uses=1,
        max_uses_per_customer=1,
        code_format=request.code_format,
        created=job().created + timedelta(days=1000),
    )
    message = GenerateBatchMessage(store_hash="s", promotion_id=1, batch_id="g", new=new)
    events = FakeEvents()
    for receive_count in (1, 5):
        with pytest.raises(OSError):
            generation.run_batch_message(
                FakeBatches(),
                BrokenPromotions(),
                FakeJobs(),
                FakeExports(),
                FakeQueue(),
                message,
                receive_count=receive_count,
                max_receives=5,
                events=events,
            )
    assert scopes(events) == ["store/promotion/codegen/batch/failed"]
    assert events.published[0].data.model_dump() == {"type": "batch", "id": "g", "promotion_id": 1}
