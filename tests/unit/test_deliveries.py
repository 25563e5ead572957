"""Fanning events out to hooks and delivering them, against in-memory ports."""

import json

import pytest

from couponmint.logic import backoff
from couponmint.logic.signatures import verify
from couponmint.models.events import DeliveryMessage, job_completed
from couponmint.models.jobs import JobStatus
from couponmint.service import deliveries
from couponmint.service.deliveries import DeliveryFailed
from tests.unit.event_fakes import FakeHooks, FakeSender, hook
from tests.unit.fakes import FakeQueue, job

EVENT = job_completed(job(JobStatus.COMPLETED), job().created)


def public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


def deliver(hooks: FakeHooks, sender: FakeSender, hook_id: int = 1) -> bool:
    message = DeliveryMessage(event=EVENT, hook_id=hook_id)
    return deliveries.deliver(hooks, sender, message, allow_local_http=False, resolve=public)


def test_fan_out_queues_one_delivery_per_active_matching_hook() -> None:
    # Given hooks: one exact, one wildcard, one inactive, one of another scope, one of another store
    hooks = FakeHooks(
        {
            1: hook(1),
            2: hook(2, scope="store/promotion/*"),
            3: hook(3, is_active=False),
            4: hook(4, scope="store/promotion/code/redeemed"),
            5: hook(5, store_hash="other"),
        }
    )
    queue = FakeQueue()
    # When a job's completion is fanned out
    count = deliveries.fan_out(hooks, queue, EVENT)
    # Then the two matching active hooks of the store get a delivery each
    assert count == 2
    assert [(m.hook_id, m.event) for m in queue.sent] == [(1, EVENT), (2, EVENT)]  # type: ignore[attr-defined]


def test_fan_out_of_an_event_published_again_queues_nothing() -> None:
    hooks, queue = FakeHooks({1: hook(1)}), FakeQueue()
    deliveries.fan_out(hooks, queue, EVENT)
    # The same happening published again (a redelivered message) has the same id
    assert deliveries.fan_out(hooks, queue, job_completed(job(JobStatus.COMPLETED), job().created)) == 0
    assert len(queue.sent) == 1


def test_deliver_posts_the_callback_signed_with_the_hooks_headers() -> None:
    hooks, sender = FakeHooks({1: hook(1)}), FakeSender()
    assert deliver(hooks, sender) is True
    ((destination, headers, body),) = sender.sent
    assert (destination.host, destination.address) == ("hooks.example", "93.184.215.14")
    assert headers["X-Shop"] == "s" and headers["Content-Type"] == "application/json"
    assert verify("k" * 64, body, headers["X-Couponmint-Signature"])
    callback = json.loads(body)
    assert callback["scope"] == "store/promotion/codegen/job/completed" and callback["producer"] == "stores/s"
    assert callback["data"] == {"type": "job", "id": "j", "promotion_id": 1}


def test_deliver_drops_what_has_no_active_hook_or_a_destination_now_unsafe() -> None:
    sender = FakeSender()
    assert deliver(FakeHooks(), sender) is False
    assert deliver(FakeHooks({1: hook(1, is_active=False)}), sender) is False

    # A destination that now resolves to a private address (DNS rebinding) is not called
    def rebound(host: str, port: int) -> list[str]:
        return ["10.0.0.7"]

    message = DeliveryMessage(event=EVENT, hook_id=1)
    delivered = deliveries.deliver(FakeHooks({1: hook(1)}), sender, message, allow_local_http=False, resolve=rebound)
    assert delivered is False and sender.sent == []


@pytest.mark.parametrize("answer", [500, 404, 301, TimeoutError("timed out"), ConnectionRefusedError()])
def test_deliver_fails_on_a_non_2xx_answer_or_none(answer: int | OSError) -> None:
    with pytest.raises(DeliveryFailed):
        deliver(FakeHooks({1: hook(1)}), FakeSender([answer]))


def test_a_failed_delivery_waits_its_backoff_and_the_last_one_is_left_to_the_dead_letter_queue() -> None:
    waits: list[int] = []

    def failing() -> bool:
        raise DeliveryFailed("the destination answered 500")

    # A failed attempt asks the queue to hold the message for its backoff, then is reported failed
    with pytest.raises(DeliveryFailed):
        deliveries.deliver_or_retry_later(failing, waits.append, attempt=1)
    assert 9 <= waits[0] <= 11
    # With the local setting the wait is fixed
    with pytest.raises(DeliveryFailed):
        deliveries.deliver_or_retry_later(failing, waits.append, attempt=5, fixed_delay=1)
    assert waits[1] == 1
    # The last attempt sets no wait: the queue's redrive policy dead-letters it
    with pytest.raises(DeliveryFailed):
        deliveries.deliver_or_retry_later(failing, waits.append, attempt=backoff.MAX_ATTEMPTS)
    assert len(waits) == 2
