"""Failures the queue and DynamoDB throw at the generator: a batch that keeps failing, throttling."""

import json
import time
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from couponmint.adapters.aws import dynamodb_resource, sqs_client
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.factory import repositories
from couponmint.config import get_settings
from couponmint.models.records import BatchStatus
from couponmint_dev.local.poller import SqsPoller
from tests.integration.helpers import TEMPLATE, HttpAnswer, Store


def test_failure_batch_that_keeps_failing_lands_in_the_dlq_marked_failed(
    store: Store, call_api: Any, generator_handler: Any, resources: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a generator whose export always fails, fed by the poller with quick redelivery
    def broken(self: Any, *args: Any) -> None:
        raise OSError("S3 is down")

    monkeypatch.setattr(ExportStore, "put_csv", broken)
    monkeypatch.setattr(get_settings(), "api_wait_seconds", 0.1)
    poller = SqsPoller.from_template(TEMPLATE, generator_handler, resources, retry_visibility_seconds=1)
    dlq_url = resources.queues["GenerateDeadLetterQueue"].url
    poller.start()
    try:
        # When a batch is asked for
        answer: HttpAnswer = call_api(
            "POST", f"/stores/{store.store_hash}/v3/promotions/1/codegen", '{"batch_size": 3}', store.token
        )
        assert answer.status == 202
        location = answer.headers["Location"]
        # Then after maxReceiveCount deliveries the message is in the dead-letter queue
        moved: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while not moved and time.monotonic() < deadline:
            moved = sqs_client().receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", [])
    finally:
        poller.stop()
    assert moved, "the failing message never reached the DLQ"
    batch_id = location.rsplit("/", 1)[1]
    assert json.loads(moved[0]["Body"])["batch_id"] == batch_id
    # And the batch says FAILED with the reason, through the API too
    batch = repositories().batches.get(store.store_hash, batch_id)
    assert batch is not None and batch.status is BatchStatus.FAILED and batch.error == "OSError: S3 is down"
    shown = call_api("GET", location, None, store.token)
    assert shown.body["data"]["status"] == "FAILED" and shown.body["data"]["error"] == "OSError: S3 is down"
    for message in moved:
        sqs_client().delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.parametrize("error_code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_failure_throttled_dynamodb_calls_are_retried_with_backoff(
    resources: Any, fresh_store: str, error_code: str
) -> None:
    # Given DynamoDB answering the first two writes with a throttling error
    client = dynamodb_resource().meta.client
    throttled: list[float] = []

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        if len(throttled) < 2 and request.headers.get("X-Amz-Target", b"").endswith(b"UpdateItem"):
            throttled.append(time.monotonic())
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{error_code}", "message": "slow down"})
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body.encode()))
        return None

    client.meta.events.register_first("before-send.dynamodb.UpdateItem", throttle)
    try:
        # When ids are reserved
        first = repositories().promotions.reserve_ids(fresh_store, "code", 5)
    finally:
        client.meta.events.unregister("before-send.dynamodb.UpdateItem", throttle)
    # Then the call succeeded after two throttled attempts, waiting between them
    assert first == 1
    assert len(throttled) == 2
    assert throttled[1] > throttled[0]


class _Raw:
    """The raw body botocore reads from an HTTP response."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data
