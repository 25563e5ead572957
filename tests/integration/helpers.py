"""Helpers the integration tests share: answers, stores, SQS events built from events/*.json."""

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from couponmint.adapters.aws import sqs_client
from couponmint.adapters.factory import repositories
from couponmint.config import get_settings
from couponmint.models.codegen import CodegenRequest
from couponmint.models.messages import GenerateBatchMessage
from couponmint.models.promotions import PromotionDraft
from couponmint.models.records import CouponType, RedemptionType, Scope
from couponmint.service import accounts, codegen, promotions
from couponmint_dev.local.lambdas import local_context

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
RECORD_TEMPLATE = json.loads((EVENTS / "generator_sqs_batch.json").read_text())["Records"][0]


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Store:
    """A fresh store with a modify token, a read-only token and promotions 1 (BULK), 2 (SINGLE), 3 (AUTOMATIC)."""

    store_hash: str
    token: str
    readonly_token: str


def make_store(store_hash: str) -> Store:
    """A store with a modify token, a read-only token, and promotions 1 (BULK), 2 (SINGLE), 3 (AUTOMATIC)."""
    stores = repositories()
    token = accounts.create_token(stores.tokens, store_hash, [Scope.MODIFY])
    readonly = accounts.create_token(stores.tokens, store_hash, [Scope.READ_ONLY])
    for promotion_id, draft in (
        (1, PromotionDraft.named("Bulk", RedemptionType.COUPON, CouponType.BULK)),
        (2, PromotionDraft.named("Single", RedemptionType.COUPON, CouponType.SINGLE)),
        (3, PromotionDraft.named("Automatic", RedemptionType.AUTOMATIC)),
    ):
        promotions.create_promotion(stores.promotions, store_hash, draft, promotion_id=promotion_id)
    return Store(store_hash, token, readonly)


def fresh_other_store(store: Store) -> Store:
    """Another store beside `store`, set up the same way (same promotion ids)."""
    return make_store(f"{store.store_hash}-other")


def pending_batch(store: Store, batch_size: int = 5, promotion_id: int = 1, **fields: Any) -> str:
    """The message body the API sends for a codegen request (the queue is not involved)."""
    request = CodegenRequest.model_validate({"batch_size": batch_size, **fields})
    sent: list[GenerateBatchMessage] = []

    class NoQueue:
        def send(self, message: GenerateBatchMessage) -> str:
            sent.append(message)
            return "not-sent"

    codegen.queue_batch(NoQueue(), store.store_hash, promotion_id, request)  # type: ignore[arg-type]
    return sent[0].model_dump_json()


def sqs_event(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    """The recorded SQS event, with one record per body."""
    records = []
    for index, body in enumerate(bodies):
        record = copy.deepcopy(RECORD_TEMPLATE)
        record["messageId"] = f"message-{index}"
        record["body"] = body
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}


def deliver_queued(generator_handler: Any) -> list[dict[str, Any]]:
    """Receive what the queue holds and hand it to the generator, deleting what succeeded."""
    sqs, url = sqs_client(), get_settings().queue_url
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    if not received:
        return []
    event = sqs_event(*(m["Body"] for m in received))
    for record, message in zip(event["Records"], received, strict=True):
        record["messageId"] = message["MessageId"]
    answer = generator_handler(event, local_context("GeneratorFunction"))
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    for message in received:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return list(answer["batchItemFailures"])
