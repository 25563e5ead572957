"""The IAM check can fail: a function whose template.yaml policy lacks what its code calls is refused, as on AWS.

Each test judges one function against a changed copy of template.yaml (a `Policies` entry removed or replaced)
with a checker of its own, so the session's check (tests/iam_check.py) keeps judging against the real template.
"""

import copy
import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from couponmint.adapters.factory import repositories
from couponmint.adapters.jobs import JobRepository
from couponmint.models.jobs import JobRequest, JobStatus
from couponmint.models.messages import AssembleJobMessage
from couponmint.service import jobs
from couponmint_dev.local.iam import IamChecker, IamMode, swap
from couponmint_dev.local.lambdas import load_handler, local_context
from couponmint_dev.local.resources import LocalResources
from couponmint_dev.local.template import load_template
from tests.integration.helpers import TEMPLATE, Store, sqs_event


def template_where(function_id: str, policies: list[Any]) -> dict[str, Any]:
    """template.yaml with `function_id`'s Policies replaced (a copy: the loaded template is shared)."""
    template = copy.deepcopy(load_template(TEMPLATE))
    template["Resources"][function_id]["Properties"]["Policies"] = copy.deepcopy(policies)
    return template


def without_s3(policy: dict[str, Any]) -> dict[str, Any]:
    """A Policies entry without its statements on S3."""
    if "Statement" not in policy:
        return policy
    return {"Statement": [s for s in policy["Statement"] if "s3:" not in str(s["Action"])]}


@contextmanager
def judged_against(resources: LocalResources, template: dict[str, Any]) -> Iterator[IamChecker]:
    """Judge the calls made inside against `template`'s roles, with a checker of their own."""
    checker = IamChecker(IamMode.ENFORCE).use(dataclasses.replace(resources, template=template))
    checker.roles()
    previous = swap(checker)
    try:
        yield checker
    finally:
        swap(previous)


def test_iam_codegen_is_refused_when_the_api_may_not_send_to_the_queue(
    resources: LocalResources, store: Store, call_api: Any
) -> None:
    # Given template.yaml without the API's SQSSendMessagePolicy
    policies = load_template(TEMPLATE)["Resources"]["ApiFunction"]["Properties"]["Policies"]
    template = template_where("ApiFunction", [p for p in policies if "SQSSendMessagePolicy" not in p])
    # When a codegen request runs through the API's handler
    with judged_against(resources, template) as checker, pytest.raises(ClientError) as refused:
        call_api(
            "POST", f"/stores/{store.store_hash}/v3/promotions/1/codegen", json.dumps({"batch_size": 5}), store.token
        )
    # Then the handler fails with SQS's AccessDenied (API Gateway would answer 502)
    queue = resources.queues["GenerateQueue"]
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert f"is not authorized to perform: sqs:SendMessage on resource: {queue.arn}" in str(refused.value)
    # And the check names the function, the missing action and the queue
    assert [str(v) for v in checker.violations()] == [
        f"ApiFunction is not allowed sqs:SendMessage on {queue.arn} (sqs.SendMessage: no identity-based policy allows)"
    ]


def test_iam_job_lane_may_abort_the_upload_of_a_losing_assembly_start_which_s3_crud_policy_does_not_allow(
    resources: LocalResources, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given jobs ready to assemble, whose assembly's start loses the race to record its upload (another delivery
    # records one first), so that it aborts its own
    stores = repositories()
    real_record = JobRepository.record_upload

    def recorded_by_another_delivery_first(self: JobRepository, job: Any, upload_id: str, part_batches: int) -> bool:
        real_record(self, job, "another-delivery", part_batches)
        return real_record(self, job, upload_id, part_batches)

    monkeypatch.setattr(JobRepository, "record_upload", recorded_by_another_delivery_first)

    def ready_job() -> str:
        job, _ = jobs.start_job(
            stores.promotions,
            stores.jobs,
            _NoQueue(),
            store.store_hash,
            1,
            JobRequest(quantity=10),  # type: ignore[arg-type]
        )
        stores.jobs.move(store.store_hash, job.job_id, JobStatus.ASSEMBLING, {JobStatus.QUEUED})
        return job.job_id

    job_lane = load_handler(TEMPLATE, "JobFunction")
    first_job, second_job = ready_job(), ready_job()
    # And template.yaml with S3CrudPolicy in place of the job lane's S3 statement
    policies = load_template(TEMPLATE)["Resources"]["JobFunction"]["Properties"]["Policies"]
    crud = {"S3CrudPolicy": {"BucketName": {"Ref": "ExportBucket"}}}
    former = template_where("JobFunction", [*(without_s3(p) for p in policies), crud])
    # When the job lane starts each assembly, one under each policy
    assemble = {
        job_id: sqs_event(AssembleJobMessage(store_hash=store.store_hash, job_id=job_id).model_dump_json())
        for job_id in (first_job, second_job)
    }
    with judged_against(resources, former) as under_crud:
        first = job_lane(assemble[first_job], local_context("JobFunction"))
    with judged_against(resources, load_template(TEMPLATE)) as under_template:
        second = job_lane(assemble[second_job], local_context("JobFunction"))
    # Then only S3CrudPolicy refused the abort (on AWS, the message would fail and its upload stay open a day)
    assert first["batchItemFailures"] == [{"itemIdentifier": "message-0"}]
    assert second["batchItemFailures"] == []
    bucket = resources.buckets["ExportBucket"]
    export = f"arn:aws:s3:::{bucket}/exports/{store.store_hash}/1/jobs/{first_job}.csv"
    assert [(v.action, v.resource) for v in under_crud.violations()] == [("s3:AbortMultipartUpload", export)]
    assert under_template.violations() == []
    # Cancelled, the part messages the second start sent are ignored by whichever test's job lane takes them.
    for job_id in (first_job, second_job):
        stores.jobs.move(store.store_hash, job_id, JobStatus.CANCELLED, set(JobStatus))


class _NoQueue:
    """Keeps the job's planning message off the shared queue: this test assembles the job by hand."""

    def send(self, message: Any) -> str:
        return "not sent"
