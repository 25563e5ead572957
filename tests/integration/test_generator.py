"""GeneratorFunction through its real handler: SQS events in, codes and exports out, exactly once."""

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from couponmint.adapters.aws import s3_client
from couponmint.adapters.batches import BatchRepository
from couponmint.adapters.dynamo import Table
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.factory import repositories
from couponmint.adapters.promotions import PromotionRepository
from couponmint.config import get_settings
from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord
from couponmint.service import generation
from couponmint_dev.local.lambdas import local_context
from tests.integration.helpers import Store, pending_batch, sqs_event


def export_codes(batch: BatchRecord) -> list[str]:
    assert batch.export_key is not None
    body = s3_client().get_object(Bucket=get_settings().export_bucket, Key=batch.export_key)["Body"].read().decode()
    return [row["code"] for row in csv.DictReader(io.StringIO(body))]


def codes_of_promotion(store: Store) -> list[CodeRecord]:
    return repositories().codes.newest(store.store_hash, 1, limit=1000)


def test_generator_completes_a_batch_and_reports_no_failures(store: Store, generator_handler: Any) -> None:
    # Given a pending batch of 5
    body = pending_batch(store)
    # When the generator gets its message
    answer = generator_handler(sqs_event(body), local_context("GeneratorFunction"))
    # Then no failure is reported and the batch is DONE with 5 stored codes
    assert answer == {"batchItemFailures": []}
    batch = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.DONE
    assert sorted(batch.codes) == sorted(c.code for c in codes_of_promotion(store))


def test_generator_redelivery_finishes_with_the_same_codes_and_no_orphans(store: Store, generator_handler: Any) -> None:
    # Given a batch already completed once
    body = pending_batch(store, batch_size=250)
    generator_handler(sqs_event(body), local_context("GeneratorFunction"))
    first = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    # When SQS delivers the same message twice more
    generator_handler(sqs_event(body, body, receive_count=2), local_context("GeneratorFunction"))
    # Then the batch keeps its codes, the promotion holds exactly those 250, and the count did not grow
    again = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert first is not None and again is not None
    assert again.codes == first.codes
    assert sorted(c.code for c in codes_of_promotion(store)) == sorted(first.codes)
    assert repositories().promotions.store_code_count(store.store_hash) == 250


CRASH_POINTS = {
    "start_claiming": (BatchRepository, "start_claiming"),
    # Each transaction: crashing after the first one stops between two claim chunks.
    "transact": (Table, "transact"),
    "claim": (BatchRepository, "claim"),
    "put_csv": (ExportStore, "put_csv"),
    "complete": (BatchRepository, "complete"),
}


@pytest.mark.parametrize("crash_after", list(CRASH_POINTS))
def test_generator_crash_at_any_step_then_redelivery_leaves_exactly_one_set(
    store: Store, generator_handler: Any, monkeypatch: pytest.MonkeyPatch, crash_after: str
) -> None:
    # Given a generator that crashes right after a step (the step's writes did happen); 250 codes take three
    # transactions: the record with 99 claims, 54 claims, the last 97 claims with DONE
    body = pending_batch(store, batch_size=250)
    owner, method = CRASH_POINTS[crash_after]
    real = getattr(owner, method)

    def crash(self: Any, *args: Any, **kwargs: Any) -> Any:
        real(self, *args, **kwargs)
        raise RuntimeError(f"crash after {crash_after}")

    monkeypatch.setattr(owner, method, crash)
    answer = generator_handler(sqs_event(body), local_context("GeneratorFunction"))
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["message-0"]
    # When the message is redelivered to a healthy generator
    monkeypatch.setattr(owner, method, real)
    answer = generator_handler(sqs_event(body, receive_count=2), local_context("GeneratorFunction"))
    # Then the batch is DONE and the promotion holds exactly its 250 codes
    assert answer == {"batchItemFailures": []}
    batch = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.DONE and len(batch.codes) == 250
    assert sorted(c.code for c in codes_of_promotion(store)) == sorted(batch.codes)
    assert repositories().promotions.store_code_count(store.store_hash) == 250


@pytest.mark.parametrize(
    ("batch_size", "position"),
    [(120, 0), (250, 110), (120, 110)],
    ids=["in-the-recording-transaction", "in-a-middle-transaction", "in-the-completing-transaction"],
)
def test_generator_replaces_a_code_another_batch_holds_case_insensitively(
    store: Store, generator_handler: Any, monkeypatch: pytest.MonkeyPatch, batch_size: int, position: int
) -> None:
    # Given a code already in the store, in lower case, owned by another batch
    stores = repositories()
    held = CodeRecord(
        store_hash=store.store_hash,
        promotion_id=1,
        id=999_999,
        code="taken0000000000a",
        max_uses=1,
        max_uses_per_customer=1,
        created=datetime.now(UTC),
        batch_id="someone-else",
    )
    other = stores.batches.get(store.store_hash, "missing")  # None: claim needs only the batch id
    assert other is None
    owner = BatchRecord.model_construct(batch_id="someone-else")
    assert stores.batches.claim(owner, [held]) == set()
    # And a kernel whose first draw is that code in upper case
    real_make_codes = generation.make_formatted_codes
    draws: list[int] = []

    def first_draw_collides(layout: Any, count: int, *args: Any, **kwargs: Any) -> list[str]:
        made = real_make_codes(layout, count, *args, **kwargs)
        draws.append(count)
        return [*made[:position], "TAKEN0000000000A", *made[position + 1 :]] if len(draws) == 1 else made

    monkeypatch.setattr(generation, "make_formatted_codes", first_draw_collides)
    # When a batch is generated (the first transaction records the batch and claims 99 codes, the last one
    # claims up to 97 and marks the batch DONE, any between claims the rest)
    body = pending_batch(store, batch_size=batch_size)
    answer = generator_handler(sqs_event(body), local_context("GeneratorFunction"))
    # Then the colliding code was replaced, the other batch keeps its code, and batch_size new codes are stored
    assert answer == {"batchItemFailures": []}
    batch = stores.batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.DONE
    assert "TAKEN0000000000A" not in batch.codes and len(set(batch.codes)) == batch_size
    kept = stores.codes.get(store.store_hash, "TAKEN0000000000A")
    assert kept is not None and kept.batch_id == "someone-else" and kept.code == "taken0000000000a"
    assert all(stores.codes.get(store.store_hash, code) for code in batch.codes)
    assert draws == [batch_size, 1]
    # And the export (written beside the claims) holds the final codes, not the replaced one
    assert sorted(export_codes(batch)) == sorted(batch.codes)


def test_generator_marks_the_batch_failed_on_its_last_delivery(
    store: Store, generator_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a generator whose export always fails
    body = pending_batch(store)

    def broken(self: Any, *args: Any) -> None:
        raise OSError("S3 is unreachable")

    monkeypatch.setattr(ExportStore, "put_csv", broken)
    batch_id = json.loads(body)["batch_id"]
    # When it fails before the last delivery, the batch is not yet FAILED
    generator_handler(sqs_event(body, receive_count=4), local_context("GeneratorFunction"))
    assert repositories().batches.get(store.store_hash, batch_id).status is BatchStatus.CLAIMING  # type: ignore[union-attr]
    # When it fails on the last delivery (maxReceiveCount)
    answer = generator_handler(
        sqs_event(body, receive_count=get_settings().max_receive_count), local_context("GeneratorFunction")
    )
    # Then the failure is reported and the batch is FAILED with the reason
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["message-0"]
    batch = repositories().batches.get(store.store_hash, batch_id)
    assert batch is not None and batch.status is BatchStatus.FAILED
    assert batch.error == "OSError: S3 is unreachable"


def test_generator_records_a_batch_that_fails_before_it_started_as_failed(
    store: Store, generator_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a codegen request's batch whose generator fails before its first transaction (nothing recorded)
    body = pending_batch(store)
    batch_id = json.loads(body)["batch_id"]

    def broken(self: Any, *args: Any) -> int:
        raise OSError("DynamoDB is unreachable")

    monkeypatch.setattr(PromotionRepository, "reserve_ids", broken)
    generator_handler(sqs_event(body), local_context("GeneratorFunction"))
    assert repositories().batches.get(store.store_hash, batch_id) is None
    # When it fails on its last delivery too
    answer = generator_handler(
        sqs_event(body, receive_count=get_settings().max_receive_count), local_context("GeneratorFunction")
    )
    # Then the batch is recorded FAILED with the reason (so the 202 answer's batch reads FAILED), no codes made
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["message-0"]
    batch = repositories().batches.get(store.store_hash, batch_id)
    assert batch is not None and batch.status is BatchStatus.FAILED and batch.codes == []
    assert batch.error == "OSError: DynamoDB is unreachable"
    assert codes_of_promotion(store) == []


def test_generator_redelivery_of_a_finished_batch_reads_it_and_writes_nothing(
    store: Store, generator_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batch completed on its first delivery
    body = pending_batch(store, batch_size=10)
    generator_handler(sqs_event(body), local_context("GeneratorFunction"))
    # When SQS delivers it again, with the table refusing every write

    def no_writes(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a finished batch was written again")

    for owner, write in ((PromotionRepository, "reserve_ids"), (Table, "transact"), (BatchRepository, "record_codes")):
        monkeypatch.setattr(owner, write, no_writes)
    answer = generator_handler(sqs_event(body, receive_count=2), local_context("GeneratorFunction"))
    # Then it is reported done, as it was
    assert answer == {"batchItemFailures": []}
    batch = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.DONE and len(batch.codes) == 10


@pytest.mark.parametrize(
    "body",
    ["not json", '{"store_hash": "demo"}', '{"store_hash": "demo", "promotion_id": 1, "batch_id": "nope"}'],
)
def test_generator_reports_malformed_or_orphan_messages_as_failures(generator_handler: Any, body: str) -> None:
    answer = generator_handler(sqs_event(body), local_context("GeneratorFunction"))
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["message-0"]


def test_generator_reports_only_the_failed_record_of_a_batch(store: Store, generator_handler: Any) -> None:
    good = pending_batch(store, batch_size=2)
    answer = generator_handler(sqs_event(good, "not json"), local_context("GeneratorFunction"))
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["message-1"]
    batch = repositories().batches.get(store.store_hash, json.loads(good)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.DONE
