"""Domain events through the AWS APIs: PutEvents on the deployment's bus, the template's rule (moto's
EventBridge delivers to SQS through it), and DeliveryFunction's real handler fanning out and delivering."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from couponmint.adapters.aws import sqs_client
from couponmint.adapters.factory import event_bus, repositories
from couponmint.config import get_settings
from couponmint.logic.signatures import verify
from couponmint.models.events import job_completed
from couponmint.models.hooks import HookRequest
from couponmint.service import hooks
from couponmint_dev.local.lambdas import load_handler, local_context
from couponmint_dev.local.poller import sqs_event
from tests.integration.helpers import TEMPLATE, Store
from tests.integration.redemption_steps import add_code, redeem, roll_back
from tests.unit.fakes import job


@pytest.fixture(scope="module")
def delivery(resources: Any) -> Any:
    return load_handler(TEMPLATE, "DeliveryFunction")


@pytest.fixture
def inbox() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A receiver on 127.0.0.1: its URL and what it got."""
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((dict(self.headers.items()), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/in", got
    server.shutdown()
    server.server_close()


def drain(max_messages: int = 10) -> list[dict[str, Any]]:
    """What the delivery queue holds now (received, then deleted)."""
    sqs, url = sqs_client(), get_settings().delivery_queue_url
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=1).get(
        "Messages", []
    ):
        found += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def handle(delivery: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    arn = f"arn:aws:sqs:us-east-1:123456789012:{get_settings().delivery_queue_url.rsplit('/', 1)[-1]}"  # type: ignore[union-attr]
    for message in messages:
        message.setdefault("Attributes", {})["ApproximateReceiveCount"] = "1"
    return dict(delivery(sqs_event(messages, arn), local_context("DeliveryFunction")))


def test_events_published_reach_the_hooks_once_signed(
    store: Store, delivery: Any, inbox: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, got = inbox
    drain()
    # Given a hook of the store on job completion
    request = HookRequest(scope="store/promotion/codegen/*", destination=url, headers={"X-Shop": "7"})
    hook = hooks.create_hook(
        repositories().hooks, store.store_hash, "c", request, allow_local_http=True, resolve=lambda h, p: []
    )
    event = job_completed(job(store_hash=store.store_hash, job_id="j1"), datetime.now(UTC))
    # When the event is published on the deployment's bus
    event_bus().publish(event)
    # Then the template's rule puts it, in EventBridge's envelope, on the delivery queue
    (published,) = drain()
    envelope = json.loads(published["Body"])
    assert (envelope["source"], envelope["detail-type"]) == ("couponmint", event.scope)
    assert envelope["detail"] == event.model_dump(mode="json")
    # When DeliveryFunction takes it, it queues one delivery for the hook
    assert handle(delivery, [published]) == {"batchItemFailures": []}
    (queued,) = drain()
    assert json.loads(queued["Body"])["hook_id"] == hook.hook_id
    # And that delivery, taken by DeliveryFunction, is POSTed signed with the hook's headers
    assert handle(delivery, [queued]) == {"batchItemFailures": []}
    ((headers, body),) = got
    assert headers["X-Shop"] == "7" and verify(hook.secret, body, headers["X-Couponmint-Signature"])
    assert json.loads(body)["data"] == {"type": "job", "id": "j1", "promotion_id": 1}
    # When the same event is published again (a redelivered message), no hook gets it twice
    event_bus().publish(event)
    assert handle(delivery, drain()) == {"batchItemFailures": []}
    assert drain() == []


def test_events_a_failed_delivery_is_reported_and_kept_on_the_queue(store: Store, delivery: Any) -> None:
    drain()
    # Given a hook whose destination refuses connections
    request = HookRequest(scope="store/promotion/*", destination="http://127.0.0.1:9/closed")
    hook = hooks.create_hook(
        repositories().hooks, store.store_hash, "c", request, allow_local_http=True, resolve=lambda h, p: []
    )
    event = job_completed(job(store_hash=store.store_hash, job_id="j2"), datetime.now(UTC))
    event_bus().publish(event)
    handle(delivery, drain())
    (queued,) = drain()
    assert json.loads(queued["Body"])["hook_id"] == hook.hook_id
    # When DeliveryFunction tries it, then it reports the failure (the queue keeps it for its backoff)
    answer = handle(delivery, [queued])
    assert answer == {"batchItemFailures": [{"itemIdentifier": queued["MessageId"]}]}


def test_events_a_redemption_and_its_rollback_reach_the_hook_once_each_however_often_sent(
    store: Store, call_api: Any, delivery: Any, inbox: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, got = inbox
    drain()
    # Given a hook on redemptions, and a code of the store
    request = HookRequest(scope="store/promotion/code/*", destination=url)
    hooks.create_hook(
        repositories().hooks, store.store_hash, "c", request, allow_local_http=True, resolve=lambda h, p: []
    )
    add_code(call_api, store, "HOOKED", max_uses=5)
    # When an order redeems it twice over HTTP (a checkout's retry), and the redemption is rolled back twice
    first = redeem(call_api, store, "HOOKED", "ann", "order-1")
    again = redeem(call_api, store, "HOOKED", "ann", "order-1")
    assert (first.status, again.status) == (201, 200)
    redemption_id = first.body["data"]["id"]
    assert [roll_back(call_api, store, redemption_id).status for _ in range(2)] == [204, 204]
    # Then the bus got every publication (a retry publishes its event again, with the same id)
    published = drain()
    scopes = sorted(json.loads(message["Body"])["detail-type"] for message in published)
    assert scopes == ["store/promotion/code/redeemed"] * 2 + ["store/promotion/code/redemption/rolled_back"] * 2
    # And DeliveryFunction fans each event id out once: the hook gets one callback of each, about the redemption
    assert handle(delivery, published) == {"batchItemFailures": []}
    assert handle(delivery, drain()) == {"batchItemFailures": []}
    callbacks = sorted((json.loads(body) for _, body in got), key=lambda callback: callback["scope"])
    assert [callback["scope"] for callback in callbacks] == [
        "store/promotion/code/redeemed",
        "store/promotion/code/redemption/rolled_back",
    ]
    assert {json.dumps(callback["data"], sort_keys=True) for callback in callbacks} == {
        json.dumps({"id": redemption_id, "promotion_id": 1, "type": "redemption"}, sort_keys=True)
    }
    assert drain() == []
