"""The IAM check on real boto3 clients: a refused call fails as AWS fails it, and is recorded either way."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from couponmint_dev.local.iam import IamChecker, IamMode, swap
from couponmint_dev.local.iam.actions import UnmappedOperation
from couponmint_dev.local.iam.running import current_function, running_as
from couponmint_dev.local.template import load_template
from tests.unit.iam_helpers import named_resources

RESOURCES = named_resources(load_template())
TABLE = RESOURCES.tables["CouponTable"]
BUCKET = RESOURCES.buckets["ExportBucket"]


@pytest.fixture(scope="module")
def module_checker() -> Iterator[IamChecker]:
    """The active checker for this module, judging against template.yaml (roles expanded once)."""
    checker = IamChecker(IamMode.ENFORCE).use(RESOURCES)
    checker.roles()
    previous = swap(checker)
    yield checker
    swap(previous)


@pytest.fixture
def checker(module_checker: IamChecker) -> Iterator[IamChecker]:
    """The module's checker in enforce mode, with nothing recorded before the test."""
    module_checker.take_new()
    yield module_checker
    module_checker.mode = IamMode.ENFORCE


def client(service: str) -> Any:
    """A client of a new session, which takes the IAM hook tests/iam_check.py installed (nothing listens there)."""
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="unit",
        aws_secret_access_key="unit",
    )


def test_iam_check_refuses_what_the_role_does_not_allow_as_aws_does(checker: IamChecker) -> None:
    # Given the API's DynamoDB client
    dynamodb = client("dynamodb")
    # When the API's code scans the table (its role allows no Scan)
    with running_as("ApiFunction"), pytest.raises(ClientError) as refused:
        dynamodb.scan(TableName=TABLE)
    # Then the call fails before reaching DynamoDB, with AWS's error and message
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/ApiFunctionRole/ApiFunction is not authorized to perform: "
        f"dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE} "
        "because no identity-based policy allows the dynamodb:Scan action"
    )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # And the violation is recorded, naming the function, the action and the resource
    assert [str(v) for v in checker.take_new()] == [
        f"ApiFunction is not allowed dynamodb:Scan on arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE} "
        "(dynamodb.Scan: no identity-based policy allows)"
    ]


def test_iam_check_lets_an_allowed_call_through(checker: IamChecker) -> None:
    # Given the job lane's S3 client, answered by a stub
    s3 = client("s3")
    with Stubber(s3) as stub:
        stub.add_response("abort_multipart_upload", {}, {"Bucket": BUCKET, "Key": "exports/a.csv", "UploadId": "u"})
        # When the job lane aborts an export's multipart upload
        with running_as("JobFunction"):
            s3.abort_multipart_upload(Bucket=BUCKET, Key="exports/a.csv", UploadId="u")
    # Then nothing was refused
    assert checker.take_new() == []


def test_iam_check_records_a_refused_call_even_when_the_code_swallows_the_error(checker: IamChecker) -> None:
    # Given the scheduler's code, which catches every ClientError
    s3 = client("s3")
    with running_as("SchedulerFunction"):
        try:
            s3.put_object(Bucket=BUCKET, Key="exports/x.csv", Body=b"x")
        except ClientError as error:
            code = error.response["Error"]["Code"]
    # Then S3's AccessDenied reached it, and the violation is kept for the test run
    assert code == "AccessDenied"
    assert [(v.function, v.action) for v in checker.take_new()] == [("SchedulerFunction", "s3:PutObject")]


def test_iam_check_records_a_presigned_url_the_role_could_not_serve_without_failing_it(checker: IamChecker) -> None:
    with running_as("SchedulerFunction"):
        url = client("s3").generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "exports/a.csv"})
    assert url.startswith("http://127.0.0.1:9/")
    assert [(v.function, v.action) for v in checker.take_new()] == [("SchedulerFunction", "s3:GetObject")]


def test_iam_check_warn_mode_records_without_failing(checker: IamChecker) -> None:
    checker.mode = IamMode.WARN
    dynamodb = client("dynamodb")
    with Stubber(dynamodb) as stub:
        stub.add_response("scan", {"Items": []}, {"TableName": TABLE})
        with running_as("ApiFunction"):
            assert dynamodb.scan(TableName=TABLE)["Items"] == []
    assert [(v.function, v.action) for v in checker.take_new()] == [("ApiFunction", "dynamodb:Scan")]


def test_iam_check_calls_outside_any_function_are_not_checked(checker: IamChecker) -> None:
    dynamodb = client("dynamodb")
    with Stubber(dynamodb) as stub:
        stub.add_response("scan", {"Items": []}, {"TableName": TABLE})
        assert dynamodb.scan(TableName=TABLE)["Items"] == []
    assert checker.take_new() == []


def test_iam_check_an_operation_the_map_does_not_know_fails_loudly(checker: IamChecker) -> None:
    with running_as("ApiFunction"), pytest.raises(UnmappedOperation, match=r"dynamodb\.ListBackups"):
        client("dynamodb").list_backups()
    [violation] = checker.take_new()
    assert str(violation).startswith("ApiFunction called dynamodb.ListBackups, which the IAM check cannot judge")


def test_iam_check_threads_and_executor_tasks_belong_to_the_invocation_that_started_them(checker: IamChecker) -> None:
    # Given code running as the generator that starts a thread and an executor task
    seen: list[str | None] = []
    with running_as("GeneratorFunction"):
        thread = threading.Thread(target=lambda: seen.append(current_function()))
        thread.start()
        thread.join()
        with ThreadPoolExecutor(max_workers=1) as beside:
            seen.append(beside.submit(current_function).result())
            # When the same pool later runs a task submitted outside the invocation
            with running_as("ApiFunction"):
                seen.append(beside.submit(current_function).result())
    # Then each ran as the function of the code that started it
    assert seen == ["GeneratorFunction", "GeneratorFunction", "ApiFunction"]
    assert current_function() is None
