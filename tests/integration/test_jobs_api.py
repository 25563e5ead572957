"""Bulk jobs through the real handlers: start, progress, CSV export, cancel, failure."""

import csv
import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from couponmint.adapters.exports import ExportStore
from couponmint.adapters.factory import repositories
from couponmint_dev.local.lambdas import load_handler
from couponmint_dev.local.poller import SqsPoller
from tests.integration.helpers import TEMPLATE, HttpAnswer, Store

Caller = Callable[..., HttpAnswer]


def jobs_path(store: Store, suffix: str = "") -> str:
    return f"/stores/{store.store_hash}/v3/promotions/1/codegen/jobs{suffix}"


def wait_for(call_api: Caller, store: Store, location: str, statuses: set[str], seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = call_api("GET", location, None, store.readonly_token).body["data"]
        if job["status"] in statuses:
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job still {job['status']} after {seconds} s: {job}")


def test_jobs_make_every_code_once_and_export_one_csv(generator_running: None, store: Store, call_api: Caller) -> None:
    # When a job of 1,234 codes with a format is started
    body = {"quantity": 1234, "prefix": "JOB", "delimiter": "-", "code_length": 10, "max_uses": 3}
    started = call_api("POST", jobs_path(store), json.dumps(body), store.token)
    # Then it is accepted at once, with its Location
    assert started.status == 202
    location = started.headers["Location"]
    assert started.body["data"]["status"] == "QUEUED" and started.body["data"]["quantity"] == 1234
    # And it completes with exact counters and a download URL
    job = wait_for(call_api, store, location, {"COMPLETED", "FAILED"})
    assert (job["status"], job["generated"], job["failed"]) == ("COMPLETED", 1234, 0)
    # And its CSV holds every code exactly once, in the format, each stored in DynamoDB
    text = requests.get(job["download_url"], timeout=30).text
    rows = list(csv.DictReader(io.StringIO(text)))
    codes = [row["code"] for row in rows]
    assert len(codes) == 1234 == len(set(codes))
    assert all(code.startswith("JOB-") and len(code) == 14 for code in codes)
    assert {row["max_uses"] for row in rows} == {"3"}
    stores = repositories()
    assert all(stores.codes.get(store.store_hash, code) for code in codes)
    assert stores.promotions.store_code_count(store.store_hash) == 1234
    # And the promotion lists the job
    listing = call_api("GET", jobs_path(store), None, store.token)
    assert [j["id"] for j in listing.body["data"]] == [job["id"]]


@pytest.mark.parametrize(("quantity", "status"), [(0, 422), (1, 202), (1_000_000, 202), (1_000_001, 422), (5.0, 422)])
def test_jobs_quantity_edges(store: Store, call_api: Caller, quantity: Any, status: int) -> None:
    started = time.monotonic()
    answer = call_api("POST", jobs_path(store), json.dumps({"quantity": quantity}), store.token)
    assert answer.status == status
    # A million codes are accepted in well under a second: the fan-out happens off the request path
    assert time.monotonic() - started < 1.0
    if status == 202:
        # Cancelled at once: its queued planning then starts no batch for the tests that follow.
        assert call_api("DELETE", answer.headers["Location"], None, store.token).status == 200


def test_jobs_capacity_guard_covers_the_whole_quantity(store: Store, call_api: Caller) -> None:
    body = {"quantity": 1_000_000, "code_length": 6, "exclude_characters": list("ABCDEFGHIJKLMNOPQRSTUV")}
    answer = call_api("POST", jobs_path(store), json.dumps(body), store.token)
    assert answer.status == 422 and "too few possible codes" in answer.body["errors"][0]["title"]


def test_jobs_cancel_starts_no_new_batch(
    store: Store, call_api: Caller, generator_handler: Any, resources: Any
) -> None:
    # Given a job of 5,000 codes, cancelled before the generator got to it
    started = call_api("POST", jobs_path(store), json.dumps({"quantity": 5000}), store.token)
    location = started.headers["Location"]
    cancelled = call_api("DELETE", location, None, store.token)
    assert cancelled.status == 200 and cancelled.body["data"]["status"] == "CANCELLED"
    # When the generator runs
    poller = SqsPoller.from_template(TEMPLATE, generator_handler, resources)
    poller.start()
    try:
        time.sleep(3)
    finally:
        poller.stop()
    # Then no code was made, and the job stays cancelled; cancelling again is harmless
    job = call_api("GET", location, None, store.token).body["data"]
    assert (job["status"], job["generated"]) == ("CANCELLED", 0)
    assert repositories().promotions.store_code_count(store.store_hash) == 0
    assert call_api("DELETE", location, None, store.token).status == 200


def test_jobs_whose_batches_keep_failing_end_failed(
    store: Store, call_api: Caller, resources: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, *args: Any) -> None:
        raise OSError("S3 is down")

    monkeypatch.setattr(ExportStore, "put_csv", broken)
    started = call_api("POST", jobs_path(store), json.dumps({"quantity": 300}), store.token)
    job_lane = load_handler(TEMPLATE, "JobFunction")
    poller = SqsPoller.from_template(
        TEMPLATE, job_lane, resources, function_id="JobFunction", retry_visibility_seconds=1
    )
    poller.start()
    try:
        job = wait_for(call_api, store, started.headers["Location"], {"FAILED", "COMPLETED"})
    finally:
        poller.stop()
    assert (job["status"], job["generated"], job["failed"]) == ("FAILED", 0, 300)
    assert job["error"] == "300 of 300 codes could not be made"


def test_jobs_of_another_promotion_or_unknown_are_not_found(store: Store, call_api: Caller) -> None:
    assert call_api("GET", jobs_path(store, "/nope"), None, store.token).status == 404
    assert call_api("DELETE", jobs_path(store, "/nope"), None, store.token).status == 404


@pytest.mark.parametrize("promotion", ["99", "abc"])
def test_jobs_list_of_an_unknown_promotion_is_not_found(store: Store, call_api: Caller, promotion: str) -> None:
    # Given a promotion id the store does not have
    path = f"/stores/{store.store_hash}/v3/promotions/{promotion}/codegen/jobs"
    # When its jobs are listed
    answer = call_api("GET", path, None, store.token)
    # Then the answer is 404, as for every other route of an unknown promotion
    assert answer.status == 404 and answer.body["title"] == "Not Found"
    assert call_api("GET", jobs_path(store), None, store.token).body == {
        "data": [],
        "meta": {
            "pagination": {
                "total": 0,
                "count": 0,
                "per_page": 50,
                "current_page": 1,
                "total_pages": 1,
                "links": {"current": "?page=1&limit=50"},
            }
        },
    }


def test_jobs_assembly_rebuilds_a_batch_csv_that_went_missing(
    generator_running: None, store: Store, call_api: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a finished batch's CSV that disappears from S3 before assembly (expired, lost with a local restart)
    real_put = ExportStore.put_csv
    lost: list[str] = []

    def put_then_lose(self: ExportStore, key: str, body: bytes) -> None:
        if key.endswith("-00001.csv"):
            lost.append(key)  # as if written and gone before the assembly
            return
        real_put(self, key, body)

    monkeypatch.setattr(ExportStore, "put_csv", put_then_lose)
    # When a job of 1,000 codes (4 batches) runs
    started = call_api("POST", jobs_path(store), json.dumps({"quantity": 1000}), store.token)
    job = wait_for(call_api, store, started.headers["Location"], {"COMPLETED", "FAILED"})
    # Then it still completes, its CSV holding every code of the promotion exactly once
    assert lost and job["status"] == "COMPLETED"
    codes = [row["code"] for row in csv.DictReader(io.StringIO(requests.get(job["download_url"], timeout=30).text))]
    listed = repositories().codes.newest(store.store_hash, 1, limit=2000)
    assert len(codes) == 1000 == len(set(codes))
    assert set(codes) == {code.code for code in listed}
