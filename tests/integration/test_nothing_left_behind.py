"""Failures leave nothing behind: a failed batch gives back what it claimed, a promotion cannot be deleted over
codes being claimed, a deleted promotion is never brought back, and a redriven message of a finished batch
writes nothing."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from couponmint.adapters.aws import dynamodb_resource
from couponmint.adapters.batches import BatchRepository
from couponmint.adapters.dynamo import Table
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.factory import repositories
from couponmint.adapters.keys import promotion_key
from couponmint.adapters.promotions import PromotionRepository
from couponmint.config import get_settings
from couponmint.models.records import BatchStatus
from couponmint_dev.local.lambdas import local_context
from tests.integration.helpers import HttpAnswer, Store, pending_batch, sqs_event


def deliver(generator_handler: Any, body: str, receive_count: int = 1) -> list[str]:
    answer = generator_handler(sqs_event(body, receive_count=receive_count), local_context("GeneratorFunction"))
    return [failure["itemIdentifier"] for failure in answer["batchItemFailures"]]


def fail_after_claiming(store: Store, generator_handler: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A 250-code batch whose export keeps failing after it claimed codes, given up on its last delivery."""

    def broken(self: Any, *args: Any) -> None:
        raise OSError("S3 is down")

    monkeypatch.setattr(ExportStore, "put_csv", broken)
    body = pending_batch(store, batch_size=250)
    assert deliver(generator_handler, body) == ["message-0"]
    claimed = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert claimed is not None and claimed.status is BatchStatus.CLAIMING
    assert sum(repositories().codes.get(store.store_hash, code) is not None for code in claimed.codes) >= 98
    assert deliver(generator_handler, body, receive_count=get_settings().max_receive_count) == ["message-0"]
    monkeypatch.undo()
    return body


def test_a_batch_that_fails_after_claiming_leaves_no_code_listed_or_held(
    store: Store, generator_handler: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batch that claimed codes, then failed for good
    body = fail_after_claiming(store, generator_handler, monkeypatch)
    # Then it is FAILED and none of its codes exists any more: not held store-wide, not listed, not counted
    batch = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.FAILED and batch.error == "OSError: S3 is down"
    assert all(repositories().codes.get(store.store_hash, code) is None for code in batch.codes)
    listed: HttpAnswer = call_api("GET", f"/stores/{store.store_hash}/v3/promotions/1/codes", None, store.token)
    assert listed.status == 200 and listed.body["data"] == []
    assert repositories().promotions.store_code_count(store.store_hash) == 0
    # And the promotion, holding nothing, can be deleted
    assert call_api("DELETE", f"/stores/{store.store_hash}/v3/promotions/1", None, store.token).status == 204


def test_a_promotion_cannot_be_deleted_while_a_batch_claims_its_codes(
    store: Store, generator_handler: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batch stopped right after its first claims (nothing counted yet)
    real = BatchRepository.start_claiming

    def crash(self: Any, *args: Any) -> Any:
        real(self, *args)
        raise RuntimeError("crash after the first claims")

    monkeypatch.setattr(BatchRepository, "start_claiming", crash)
    body = pending_batch(store, batch_size=250)
    assert deliver(generator_handler, body) == ["message-0"]
    monkeypatch.undo()
    # When the promotion is deleted meanwhile
    refused = call_api("DELETE", f"/stores/{store.store_hash}/v3/promotions/1", None, store.token)
    # Then it is refused, and the batch, delivered again, finishes with every code counted in the promotion
    assert refused.status == 422
    assert deliver(generator_handler, body, receive_count=2) == []
    batch = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.DONE
    shown = call_api("GET", f"/stores/{store.store_hash}/v3/promotions/1/codes?limit=1", None, store.token)
    assert shown.body["meta"]["pagination"]["total"] == 250
    assert call_api("DELETE", f"/stores/{store.store_hash}/v3/promotions/1", None, store.token).status == 422


def test_a_batch_for_a_promotion_deleted_before_it_started_writes_no_code_and_no_promotion(
    store: Store, generator_handler: Any, call_api: Any
) -> None:
    # Given a second BULK promotion with a queued batch, deleted before the generator starts the batch
    created = call_api(
        "POST",
        f"/stores/{store.store_hash}/v3/promotions",
        json.dumps({"name": "Gone", "redemption_type": "COUPON", "coupon_type": "BULK", "rules": [{"action": {}}]}),
        store.token,
    )
    promotion_id = created.body["data"]["id"]
    body = pending_batch(store, batch_size=10, promotion_id=promotion_id)
    assert (
        call_api("DELETE", f"/stores/{store.store_hash}/v3/promotions/{promotion_id}", None, store.token).status == 204
    )
    # When the generator gets the message
    assert deliver(generator_handler, body) == []
    # Then the batch is FAILED at once, no code was written, and the promotion stays deleted (no item at all)
    batch = repositories().batches.get(store.store_hash, json.loads(body)["batch_id"])
    assert batch is not None and batch.status is BatchStatus.FAILED and batch.error == "the promotion was deleted"
    assert all(repositories().codes.get(store.store_hash, code) is None for code in batch.codes)
    raw = (
        dynamodb_resource().Table(get_settings().table_name).get_item(Key=promotion_key(store.store_hash, promotion_id))
    )
    assert "Item" not in raw


def test_a_message_redriven_onto_a_failed_batch_writes_nothing(
    store: Store, generator_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a codegen batch that failed for good, and its message redriven from the dead-letter queue much later
    body = fail_after_claiming(store, generator_handler, monkeypatch)
    message = json.loads(body)
    message["new"]["created"] = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()

    def no_writes(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a failed batch's redriven message wrote")

    for owner, write in ((PromotionRepository, "reserve_ids"), (Table, "transact"), (BatchRepository, "put_once")):
        monkeypatch.setattr(owner, write, no_writes)
    # When it is delivered as a first delivery
    failures = deliver(generator_handler, json.dumps(message))
    # Then it is done with (nothing failed, nothing written), and the batch is still FAILED
    assert failures == []
    batch = repositories().batches.get(store.store_hash, message["batch_id"])
    assert batch is not None and batch.status is BatchStatus.FAILED
