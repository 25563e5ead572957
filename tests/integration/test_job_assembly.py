"""A job's CSV assembled in several parts through the real JobFunction handler, against moto's S3.

Jobs in tests are small (a part is at most a few batches), and S3 refuses parts under 5 MiB but the last; moto's
server enforces that too, reading S3_UPLOAD_PART_MIN_SIZE when it starts. So these tests give S3 a moto server of
their own started with that minimum lowered (the session's server keeps S3's), and set parts of 2 batches
(COUPONMINT_ASSEMBLY_BATCHES_PER_PART): everything else, the handlers, DynamoDB and SQS, is the session's.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from couponmint.adapters.aws import reset_clients, s3_client, sqs_client
from couponmint.adapters.factory import repositories
from couponmint.config import get_settings
from couponmint.models.jobs import JobStatus
from couponmint.models.messages import AssembleJobMessage
from couponmint_dev.local.lambdas import load_handler, local_context
from couponmint_dev.local.poller import start_pollers
from couponmint_dev.local.resources import LocalResources
from couponmint_dev.local.services import start_moto_server
from tests.integration.helpers import TEMPLATE, HttpAnswer, Store, sqs_event
from tests.integration.test_jobs_api import jobs_path, wait_for

Caller = Callable[..., HttpAnswer]
# 5 batches of 250 codes, 2 a part: 3 parts.
QUANTITY = 1250


@pytest.fixture
def small_parts(resources: LocalResources) -> Iterator[str]:
    """S3 on a moto server whose minimum part size is 1 KB, with the export bucket; parts of 2 batches."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("S3_UPLOAD_PART_MIN_SIZE", "1024")
        server = start_moto_server()
        try:
            environment.setenv("AWS_ENDPOINT_URL_S3", server.endpoint)
            environment.setenv("COUPONMINT_ASSEMBLY_BATCHES_PER_PART", "2")
            reset_clients()
            get_settings.cache_clear()
            bucket = resources.buckets["ExportBucket"]
            s3_client().create_bucket(Bucket=bucket)
            yield bucket
        finally:
            server.stop()
    reset_clients()
    get_settings.cache_clear()


def run_job(resources: LocalResources, store: Store, call_api: Caller) -> dict[str, Any]:
    """A job of QUANTITY codes run to its end by both lanes' pollers, which then stop."""
    pollers = start_pollers(resources, wait_seconds=1)
    try:
        started = call_api("POST", jobs_path(store), json.dumps({"quantity": QUANTITY}), store.token)
        return wait_for(call_api, store, started.headers["Location"], {"COMPLETED", "FAILED"})
    finally:
        for poller in pollers:
            poller.stop()


def csv_codes(job: dict[str, Any]) -> list[str]:
    text = requests.get(job["download_url"], timeout=30).text
    return [row["code"] for row in csv.DictReader(io.StringIO(text))]


def take_assembly_messages(job_id: str, count: int) -> list[AssembleJobMessage]:
    """Receive the job's `count` assembly messages from the job queue (deleted); others go back at once."""
    sqs, url = sqs_client(), get_settings().job_queue_url
    taken: list[AssembleJobMessage] = []
    for _ in range(20):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            body = json.loads(message["Body"])
            if body.get("kind") == "assemble_job" and body["job_id"] == job_id:
                taken.append(AssembleJobMessage.model_validate(body))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            else:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        if len(taken) >= count:
            break
    assert len(taken) == count, f"{len(taken)} of {count} assembly messages"
    return taken


def test_job_assembly_in_parts_makes_one_csv_of_every_code_once(
    small_parts: str, resources: LocalResources, store: Store, call_api: Caller
) -> None:
    # When a job of 5 batches runs, its CSV assembled 2 batches a part
    job = run_job(resources, store, call_api)
    # Then it completes from 3 parts of one upload, none left open
    assert (job["status"], job["generated"]) == ("COMPLETED", QUANTITY)
    recorded = repositories().jobs.get(store.store_hash, job["id"])
    assert recorded is not None and sorted(recorded.assembly_parts or {}) == [1, 2, 3]
    assert s3_client().list_multipart_uploads(Bucket=small_parts).get("Uploads", []) == []
    # And its CSV holds every code of the promotion exactly once, in the batches' order
    codes = csv_codes(job)
    listed = repositories().codes.newest(store.store_hash, 1, limit=2000)
    assert len(codes) == QUANTITY == len(set(codes)) and set(codes) == {code.code for code in listed}
    batches = [repositories().batches.get(store.store_hash, f"{job['id']}-{i:05d}") for i in range(5)]
    assert codes == [code for batch in batches if batch is not None for code in batch.codes]


def test_job_assembly_of_a_lost_csv_with_every_message_delivered_twice(
    small_parts: str, resources: LocalResources, store: Store, call_api: Caller
) -> None:
    # Given a completed job whose CSV is then lost
    job = run_job(resources, store, call_api)
    codes = csv_codes(job)
    key = f"exports/{store.store_hash}/1/jobs/{job['id']}.csv"
    s3_client().delete_object(Bucket=small_parts, Key=key)
    # When a client reads it (no job lane running)
    location = jobs_path(store, f"/{job['id']}")
    shown = call_api("GET", location, None, store.token).body["data"]
    # Then it is assembled again: its start is queued, its former upload forgotten
    assert shown["status"] == "ASSEMBLING"
    recorded = repositories().jobs.get(store.store_hash, job["id"])
    assert recorded is not None and (recorded.assembly_upload_id, recorded.assembly_parts) == (None, None)
    # When the job lane gets the start twice
    job_lane = load_handler(TEMPLATE, "JobFunction")

    def deliver(message: AssembleJobMessage) -> None:
        answer = job_lane(sqs_event(message.model_dump_json()), local_context("JobFunction"))
        assert answer["batchItemFailures"] == []

    (start,) = take_assembly_messages(job["id"], 1)
    assert start.part is None
    deliver(start)
    deliver(start)
    # Then one upload is open, and each of the 3 parts is sent twice with it
    parts = take_assembly_messages(job["id"], 6)
    reopened = repositories().jobs.get(store.store_hash, job["id"])
    assert reopened is not None and reopened.assembly_upload_id is not None
    assert sorted(m.part or 0 for m in parts) == [1, 1, 2, 2, 3, 3]
    assert {m.upload_id for m in parts} == {reopened.assembly_upload_id}
    assert len(s3_client().list_multipart_uploads(Bucket=small_parts).get("Uploads", [])) == 1
    # When every part is delivered twice, the last ones first
    for message in sorted(parts, key=lambda m: -(m.part or 0)):
        deliver(message)
    # Then the job is COMPLETED again with the same CSV, and no upload is left open
    again = call_api("GET", location, None, store.token).body["data"]
    assert again["status"] == JobStatus.COMPLETED.value
    assert csv_codes(again) == codes
    assert s3_client().list_multipart_uploads(Bucket=small_parts).get("Uploads", []) == []
