"""Many stores on one deployment: another store's codegen and small job do not wait behind a large job.

The figures this test prints are the ones in the README ("Lanes") and the closing note of the lanes issue.
"""

import statistics
import time
from dataclasses import dataclass
from typing import Any

import boto3
import requests

from couponmint.adapters.repositories import Repositories
from couponmint.models.promotions import PromotionDraft
from couponmint.models.records import CouponType, RedemptionType, Scope
from couponmint.service import accounts, promotions
from tests.e2e.conftest import LocalStack

LARGE_JOB = 60_000
SMALL_JOB = 2_500
REQUESTS = 10


@dataclass(frozen=True)
class Client:
    stack: LocalStack
    store_hash: str
    token: str

    def url(self, path: str) -> str:
        return self.stack.v3_url(path, self.store_hash)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(self.url(path), json=body, headers={"X-Auth-Token": self.token}, timeout=35)

    def job(self, location: str) -> dict[str, Any]:
        answer = requests.get(f"{self.stack.base_url}{location}", headers={"X-Auth-Token": self.token}, timeout=35)
        return dict(answer.json()["data"])


def second_store(stack: LocalStack, store_hash: str) -> Client:
    """A store beside the demo store, made in the stack's table the way an operator's CLI would."""
    environment = requests.get(f"{stack.base_url}/_local/env", timeout=5).json()
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=environment["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )
    stores = Repositories.over(resource.Table(environment["COUPONMINT_TABLE_NAME"]))
    token = accounts.create_token(stores.tokens, store_hash, [Scope.MODIFY])
    draft = PromotionDraft.named("Other store's codes", RedemptionType.COUPON, CouponType.BULK)
    promotions.create_promotion(stores.promotions, store_hash, draft, promotion_id=1)
    return Client(stack, store_hash, token)


def codegen_seconds(client: Client, count: int) -> list[float]:
    """`count` codegen requests of 250 codes, one after another; each must be answered 201 with its codes."""
    seconds = []
    for _ in range(count):
        started = time.monotonic()
        answer = client.post("promotions/1/codegen", {"batch_size": 250})
        seconds.append(time.monotonic() - started)
        assert answer.status_code == 201, answer.text
        assert len(answer.json()["data"]["codes"]) == 250
    return seconds


def run_job(client: Client, quantity: int, timeout: float = 600) -> tuple[str, float]:
    """Start a job and wait for it; its Location and how long it took."""
    started = time.monotonic()
    answer = client.post("promotions/1/codegen/jobs", {"quantity": quantity})
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    while time.monotonic() - started < timeout:
        job = client.job(location)
        if job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            assert (job["status"], job["generated"]) == ("COMPLETED", quantity), job
            return location, time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"job {location} did not finish within {timeout} s")


def test_e2e_another_store_does_not_wait_behind_a_large_job(own_stack: LocalStack) -> None:
    demo = Client(own_stack, own_stack.store_hash, own_stack.token)
    other = second_store(own_stack, "lanes-b")
    # Given the other store's figures on an idle stack (after one warm-up request)
    codegen_seconds(other, 1)
    idle = statistics.median(codegen_seconds(other, REQUESTS))
    _, idle_job = run_job(other, SMALL_JOB)
    # When the demo store starts a 60,000-code job, and the other store works while it runs
    started = demo.post("promotions/1/codegen/jobs", {"quantity": LARGE_JOB})
    assert started.status_code == 202
    large = started.headers["Location"]
    while demo.job(large)["generated"] < 2_500:
        time.sleep(0.2)
    busy = codegen_seconds(other, REQUESTS)
    _, busy_job = run_job(other, SMALL_JOB)
    # Then the large job was still running throughout
    during = demo.job(large)
    busy_p50 = statistics.median(busy)
    print(
        f"\nlanes: other store's codegen p50 idle {idle * 1000:.0f} ms, during the job {busy_p50 * 1000:.0f} ms"
        f" (max {max(busy) * 1000:.0f} ms); its {SMALL_JOB}-code job idle {idle_job:.1f} s, during {busy_job:.1f} s;"
        f" large job at {during['generated']} of {LARGE_JOB} codes when the other store was done"
    )
    assert during["status"] == "RUNNING" and during["generated"] < LARGE_JOB
    # And every codegen request of the other store was a 201 within 3x its idle p50, its job within 3x its time
    assert busy_p50 <= 3 * idle
    assert busy_job <= 3 * idle_job
    # And the large job still completes with every code
    while (job := demo.job(large))["status"] not in ("COMPLETED", "FAILED"):
        time.sleep(1)
    assert (job["status"], job["generated"]) == ("COMPLETED", LARGE_JOB)
