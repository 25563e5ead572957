"""Webhooks on the local stack: a receiver on 127.0.0.1 gets the events of its scope, signed, with its headers,
retried after failures; an inactive hook gets nothing."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
import requests

from couponmint.logic.signatures import verify
from tests.e2e.conftest import LocalStack, running_stack


@dataclass
class Received:
    at: datetime
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers `statuses` in turn, then 200."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"{len(self.received)} of {count} deliveries within {timeout} s"
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from _serving(Receiver())


@pytest.fixture
def flaky_receiver() -> Iterator[Receiver]:
    yield from _serving(Receiver(statuses=[500, 500]))


def _serving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.received.append(Received(datetime.now(UTC), dict(self.headers.items()), body))
            self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(scope="module")
def hooks_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A local stack whose failed deliveries are tried again after 1 s (instead of 10 s, 30 s, ...)."""
    with running_stack(tmp_path_factory.mktemp("hooks-stack"), "--delivery-retry-after", "1") as running:
        yield running


def api(stack: LocalStack, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = requests.request(method, stack.v3_url(path), json=body, headers={"X-Auth-Token": stack.token}, timeout=35)
    assert answer.status_code < 300, answer.text
    return answer.json()["data"]


def finished_job(stack: LocalStack, quantity: int) -> dict[str, Any]:
    job = api(stack, "POST", "promotions/1/codegen/jobs", {"quantity": quantity})
    deadline = time.monotonic() + 60
    while job["status"] != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.2)
        job = api(stack, "GET", f"promotions/1/codegen/jobs/{job['id']}")
    assert job["status"] == "COMPLETED"
    return dict(job)


def completed_at(stack: LocalStack, job_id: str) -> datetime:
    """When the job was marked COMPLETED, to the microsecond (the API shows whole seconds), from DynamoDB."""
    environment = requests.get(f"{stack.base_url}/_local/env", timeout=5).json()
    table = boto3.resource(
        "dynamodb",
        endpoint_url=environment["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    ).Table(environment["COUPONMINT_TABLE_NAME"])
    item = table.get_item(Key={"pk": f"STORE#{stack.store_hash}#JOB#{job_id}", "sk": "JOB"})["Item"]
    return datetime.fromisoformat(str(item["completed"]))


def test_e2e_hook_gets_job_completed_signed_with_its_headers_within_seconds(
    hooks_stack: LocalStack, receiver: Receiver, flaky_receiver: Receiver
) -> None:
    # Given an active hook on job completion, with a header of its own, and an inactive hook on everything
    hook = api(
        hooks_stack,
        "POST",
        "hooks",
        {"scope": "store/promotion/codegen/job/completed", "destination": receiver.url, "headers": {"X-Shop": "s7"}},
    )
    inactive = {"scope": "store/promotion/*", "destination": flaky_receiver.url, "is_active": False}
    api(hooks_stack, "POST", "hooks", inactive)
    # When a job finishes
    job = finished_job(hooks_stack, 250)
    # Then the receiver gets one callback within seconds, in the contract's shape
    (delivery,) = receiver.wait_for(1, 15)
    latency = (delivery.at - completed_at(hooks_stack, job["id"])).total_seconds()
    _record("job completed → callback (s)", latency)
    assert latency < 10
    body = json.loads(delivery.body)
    assert body["scope"] == "store/promotion/codegen/job/completed"
    assert (body["store_id"], body["producer"]) == (hooks_stack.store_hash, f"stores/{hooks_stack.store_hash}")
    assert body["data"] == {"type": "job", "id": job["id"], "promotion_id": 1}
    assert len(body["hash"]) == 40 and isinstance(body["created_at"], int)
    # And it carries the hook's own header and a signature that its secret verifies
    assert delivery.headers["X-Shop"] == "s7"
    assert verify(hook["secret"], delivery.body, delivery.headers["X-Couponmint-Signature"])
    # And the inactive hook got nothing
    time.sleep(2)
    assert flaky_receiver.received == [] and len(receiver.received) == 1


def test_e2e_hook_answering_500_twice_gets_the_event_on_the_third_try(
    hooks_stack: LocalStack, flaky_receiver: Receiver
) -> None:
    # Given a hook whose receiver answers 500 twice, then 200
    hook = api(hooks_stack, "POST", "hooks", {"scope": "store/promotion/codegen/*", "destination": flaky_receiver.url})
    # When a job finishes
    finished_job(hooks_stack, 10)
    # Then the third try delivers it: the same body, signed the same, each time
    tries = flaky_receiver.wait_for(3, 30)
    assert len({attempt.body for attempt in tries}) == 1
    assert json.loads(tries[0].body)["scope"] == "store/promotion/codegen/job/completed"
    assert all(verify(hook["secret"], t.body, t.headers["X-Couponmint-Signature"]) for t in tries)
    _record("500, 500, 200: seconds from first try to third", (tries[2].at - tries[0].at).total_seconds())
    # And, delivered, it is not sent again
    time.sleep(3)
    assert len(flaky_receiver.received) == 3
    api(hooks_stack, "DELETE", f"hooks/{hook['id']}")


def _record(what: str, value: float) -> None:
    """A measured figure, shown with `pytest -s`."""
    print(f"{what}: {value:.3f}")
