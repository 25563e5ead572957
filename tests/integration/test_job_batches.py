"""A job's batch claims each code on its own (claims.py): exactly once whatever crashes and redeliveries do,
and a code another batch holds is replaced."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from couponmint.adapters.batches import BatchRepository
from couponmint.adapters.claims import JobClaims
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.factory import repositories
from couponmint.models.jobs import JobRequest, JobStatus
from couponmint.models.messages import GenerateBatchMessage, PlanJobMessage
from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord
from couponmint.service import generation, jobs
from couponmint_dev.local.lambdas import local_context
from tests.integration.helpers import Store, sqs_event


class Sent:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    def send(self, message: Any) -> str:
        self.messages.append(message)
        return "kept"

    def send_many(self, messages: Any) -> None:
        self.messages.extend(messages)


def job_batch_body(store: Store, quantity: int = 250) -> str:
    """The message of a job's first batch, as the job lane would receive it (the queue is not involved)."""
    stores, sent = repositories(), Sent()
    job, _ = jobs.start_job(stores.promotions, stores.jobs, sent, store.store_hash, 1, JobRequest(quantity=quantity))
    jobs.plan_job(stores.jobs, stores.batches, sent, PlanJobMessage(store_hash=store.store_hash, job_id=job.job_id))
    first = next(m for m in sent.messages if isinstance(m, GenerateBatchMessage))
    return first.model_dump_json()


def promotion_codes(store: Store) -> list[str]:
    return sorted(code.code for code in repositories().codes.newest(store.store_hash, 1, limit=1000))


CRASH_POINTS = {
    "start_claiming": (BatchRepository, "start_claiming"),
    # Each call of 25 inserts: crashing after the first one stops part way through the claims.
    "insert": (JobClaims, "_insert"),
    "put_csv": (ExportStore, "put_csv"),
    "complete": (BatchRepository, "complete"),
}


@pytest.mark.parametrize("crash_after", list(CRASH_POINTS))
def test_job_batch_crash_at_any_step_then_redelivery_leaves_exactly_one_set(
    store: Store, job_handler: Any, monkeypatch: pytest.MonkeyPatch, crash_after: str
) -> None:
    # Given a job lane that crashes right after a step of a 250-code batch (the step's writes did happen)
    body = job_batch_body(store)
    owner, method = CRASH_POINTS[crash_after]
    real = getattr(owner, method)

    def crash(self: Any, *args: Any, **kwargs: Any) -> Any:
        real(self, *args, **kwargs)
        raise RuntimeError(f"crash after {crash_after}")

    monkeypatch.setattr(owner, method, crash)
    answer = job_handler(sqs_event(body), local_context("JobFunction"))
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["message-0"]
    # When the message is redelivered to a healthy job lane
    monkeypatch.setattr(owner, method, real)
    answer = job_handler(sqs_event(body, receive_count=2), local_context("JobFunction"))
    # Then the batch is DONE, counted once in its job, and the promotion holds exactly its 250 codes
    assert answer == {"batchItemFailures": []}
    batch = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.DONE and len(set(batch.codes)) == 250
    assert promotion_codes(store) == sorted(batch.codes)
    assert repositories().promotions.store_code_count(store.store_hash) == 250
    job = repositories().jobs.get(store.store_hash, batch.job_id or "")
    assert job is not None and (job.generated, job.batches_done, job.status) == (250, 1, JobStatus.ASSEMBLING)


def test_job_batch_replaces_a_code_another_batch_holds(
    store: Store, job_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a code already in the store, held by another batch, that the kernel draws first for this batch
    held = CodeRecord(
        store_hash=store.store_hash,
        promotion_id=1,
        id=999_999,
        code="heldbyanother123",
        max_uses=1,
        max_uses_per_customer=1,
        created=datetime.now(UTC),
        batch_id="someone-else",
    )
    assert repositories().batches.claim(BatchRecord.model_construct(batch_id="someone-else"), [held]) == set()
    real_make_codes = generation.make_formatted_codes
    drawn: list[int] = []

    def first_draw_collides(*args: Any, **kwargs: Any) -> list[str]:
        codes = real_make_codes(*args, **kwargs)
        if not drawn:
            codes[7] = "HELDBYANOTHER123"
        drawn.append(len(codes))
        return codes

    monkeypatch.setattr(generation, "make_formatted_codes", first_draw_collides)
    body = job_batch_body(store)
    # When the job lane makes the batch
    answer = job_handler(sqs_event(body), local_context("JobFunction"))
    # Then the taken code was replaced, the other batch keeps it, and the batch holds 250 codes of its own
    assert answer == {"batchItemFailures": []}
    batch = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.DONE and "HELDBYANOTHER123" not in batch.codes
    assert drawn == [250, 1]
    kept = repositories().codes.get(store.store_hash, "HELDBYANOTHER123")
    assert kept is not None and kept.batch_id == "someone-else"
    assert all(repositories().codes.get(store.store_hash, code).batch_id == batch.batch_id for code in batch.codes)  # type: ignore[union-attr]
