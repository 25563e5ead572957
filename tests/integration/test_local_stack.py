"""The local stack itself: resources from template.yaml, the HTTP → proxy event bridge, the SQS poller, S3."""

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from couponmint.adapters.aws import s3_client, sqs_client
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.factory import repositories
from couponmint.config import get_settings
from couponmint.models.records import Scope
from couponmint.service.accounts import authorize
from couponmint_dev.local.http_api import MAX_PAYLOAD_BYTES, LocalApiServer, build_proxy_event
from couponmint_dev.local.lambdas import FunctionSpec, LocalFunction, load_handler
from couponmint_dev.local.poller import EventSourceConfig, SqsPoller, failed_message_ids
from couponmint_dev.local.provisioning import create_resources
from couponmint_dev.local.resources import LOCAL_WORKERS, LocalResources
from couponmint_dev.local.seed import DEMO_STORE, seed_demo
from couponmint_dev.local.services import LocalAws
from couponmint_dev.local.template import load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------- resources
def test_resources_table_matches_template(local_aws: LocalAws, resources: LocalResources) -> None:
    # Given the template's table
    declared = RESOURCES["CouponTable"]["Properties"]
    dynamodb = local_aws.client("dynamodb")
    # When the locally created table is described
    table = dynamodb.describe_table(TableName=resources.tables["CouponTable"])["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=resources.tables["CouponTable"])["TimeToLiveDescription"]
    # Then keys, attribute types, indexes, billing mode and TTL are the template's
    assert table["TableName"] == f"{resources.prefix}-CouponTable"
    assert table["KeySchema"] == declared["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(declared["AttributeDefinitions"], key=str)
    # (warm throughput is a deployed table's setting, charged on AWS; DynamoDB Local has none)
    index_shape = ("IndexName", "KeySchema", "Projection")
    assert [{key: index[key] for key in index_shape} for index in table["GlobalSecondaryIndexes"]] == [
        {key: index[key] for key in index_shape} for index in declared["GlobalSecondaryIndexes"]
    ]
    assert table["BillingModeSummary"]["BillingMode"] == declared["BillingMode"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": declared["TimeToLiveSpecification"]["AttributeName"]}


def test_resources_queue_redrives_to_dead_letter_queue(local_aws: LocalAws, resources: LocalResources) -> None:
    # Given the template's queue and its dead-letter queue
    declared = RESOURCES["GenerateQueue"]["Properties"]
    sqs = local_aws.client("sqs")
    # When their attributes are read back
    queue = sqs.get_queue_attributes(QueueUrl=resources.queues["GenerateQueue"].url, AttributeNames=["All"])
    dead_letter = sqs.get_queue_attributes(
        QueueUrl=resources.queues["GenerateDeadLetterQueue"].url, AttributeNames=["QueueArn"]
    )
    # Then the queue redrives to the local DLQ after the template's receive count, with its timeouts
    redrive = json.loads(queue["Attributes"]["RedrivePolicy"])
    assert redrive == {
        "deadLetterTargetArn": dead_letter["Attributes"]["QueueArn"],
        "maxReceiveCount": int(resources.resolve(declared["RedrivePolicy"]["maxReceiveCount"])),
    }
    assert queue["Attributes"]["VisibilityTimeout"] == str(declared["VisibilityTimeout"])
    assert queue["Attributes"]["MessageRetentionPeriod"] == str(declared["MessageRetentionPeriod"])


def test_resources_bucket_exists_with_versioning(local_aws: LocalAws, resources: LocalResources) -> None:
    # Given the template's bucket
    s3 = local_aws.client("s3")
    bucket = resources.buckets["ExportBucket"]
    # When it is looked up
    versioning = s3.get_bucket_versioning(Bucket=bucket)
    # Then it exists under the lower-cased physical name, versioned as declared
    assert bucket == f"{resources.prefix}-exportbucket"
    assert versioning["Status"] == RESOURCES["ExportBucket"]["Properties"]["VersioningConfiguration"]["Status"]


def test_create_resources_is_idempotent(local_aws: LocalAws, resources: LocalResources) -> None:
    # Given resources that exist already
    # When they are created again with the same prefix
    again = create_resources(local_aws, resources.prefix)
    # Then the same names and URLs come back and nothing fails
    assert (again.tables, again.queues, again.buckets) == (resources.tables, resources.queues, resources.buckets)


def test_function_environment_resolves_references(resources: LocalResources) -> None:
    # Given ApiFunction's Globals and own variables
    # When its environment is resolved
    environment = resources.function_environment("ApiFunction")
    # Then !Ref gives the table name, queue URL, bucket name and parameter defaults
    assert environment["COUPONMINT_TABLE_NAME"] == resources.tables["CouponTable"]
    assert environment["COUPONMINT_QUEUE_URL"] == resources.queues["GenerateQueue"].url
    assert environment["COUPONMINT_EXPORT_BUCKET"] == resources.buckets["ExportBucket"]
    assert environment["COUPONMINT_API_WAIT_SECONDS"] == str(TEMPLATE["Parameters"]["ApiWaitSeconds"]["Default"])
    assert environment["POWERTOOLS_LOG_LEVEL"] == TEMPLATE["Parameters"]["LogLevel"]["Default"]


def test_resources_environment_points_settings_at_local_resources(resources: LocalResources) -> None:
    # Given the `resources` fixture exported the functions' environment
    # When the functions read their settings
    settings = get_settings()
    # Then they name the local table, queue and bucket
    assert settings.table_name == resources.tables["CouponTable"]
    assert settings.queue_url == resources.queues["GenerateQueue"].url
    assert settings.export_bucket == resources.buckets["ExportBucket"]


# ---------------------------------------------------------------------------------------- S3
def test_presigned_get_serves_the_export(resources: LocalResources) -> None:
    # Given an export written through the adapter
    exports = ExportStore(s3_client(), resources.buckets["ExportBucket"])
    key = f"exports/{uuid.uuid4().hex}.csv"
    exports.put_csv(key, b"code\nABC\n")
    # When its presigned URL is fetched over plain HTTP
    url = exports.download_url(key, 60)
    answer = requests.get(url, timeout=10)
    # Then the path-style URL on 127.0.0.1 serves the object
    assert url.startswith(f"{local_endpoint(url)}/{resources.buckets['ExportBucket']}/{key}?")
    assert answer.status_code == 200
    assert answer.content == b"code\nABC\n"


def local_endpoint(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


# ---------------------------------------------------------------------------------------- seed
def test_seed_demo_is_repeatable_with_fixed_tokens(resources: LocalResources, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given fixed demo tokens in the environment
    token, readonly = f"demo-{uuid.uuid4().hex}", f"read-{uuid.uuid4().hex}"
    monkeypatch.setenv("COUPONMINT_DEMO_TOKEN", token)
    monkeypatch.setenv("COUPONMINT_DEMO_READONLY_TOKEN", readonly)
    # When the demo is seeded twice (a restart on kept data)
    seed_demo(resources.tables["CouponTable"])
    seed = seed_demo(resources.tables["CouponTable"])
    # Then the tokens are those given, with their scopes, and the three promotions exist
    stores = repositories()
    assert (seed.token, seed.readonly_token) == (token, readonly)
    assert authorize(stores.tokens, token, DEMO_STORE, modifies=True).scopes == {Scope.MODIFY}
    assert authorize(stores.tokens, readonly, DEMO_STORE, modifies=False).scopes == {Scope.READ_ONLY}
    promotions = [stores.promotions.get(DEMO_STORE, promotion_id) for promotion_id in (1, 2, 3)]
    assert [(p.redemption_type, p.coupon_type) for p in promotions if p] == [
        ("COUPON", "BULK"),
        ("COUPON", "SINGLE"),
        ("AUTOMATIC", None),
    ]


# ---------------------------------------------------------------------------------------- handlers
def test_load_handler_loads_the_file_the_template_names() -> None:
    # Given GeneratorFunction's CodeUri and Handler
    # When it is loaded twice
    first = load_handler(None, "GeneratorFunction")
    second = first.fresh()
    # Then both come from functions/generator/app.py, as separate module copies
    assert first.spec.module_file == Path(__file__).resolve().parents[2] / "functions/generator/app.py"
    assert first.spec.timeout_seconds == RESOURCES["GeneratorFunction"]["Properties"]["Timeout"]
    assert first._handler.__module__ != second._handler.__module__
    assert first.context().get_remaining_time_in_millis() > 59_000


# ---------------------------------------------------------------------------------------- HTTP bridge
def test_build_proxy_event_matches_api_gateway_rest_shape() -> None:
    # Given a request with repeated query parameters and headers
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    headers = [("Host", "127.0.0.1:3000"), ("X-Auth-Token", "t"), ("Accept", "a/b"), ("Accept", "c/d")]
    # When it becomes a proxy event
    event = build_proxy_event(
        "POST",
        "/stores/demo/v3/promotions/1/codegen?x=1&x=2&empty=",
        headers,
        b'{"batch_size": 5}',
        "127.0.0.1",
        request_id="req-1",
        request_time=moment,
    )
    # Then it has API Gateway's fields and values
    assert event == {
        "resource": "/{proxy+}",
        "path": "/stores/demo/v3/promotions/1/codegen",
        "httpMethod": "POST",
        "headers": {"Host": "127.0.0.1:3000", "X-Auth-Token": "t", "Accept": "c/d"},
        "multiValueHeaders": {"Host": ["127.0.0.1:3000"], "X-Auth-Token": ["t"], "Accept": ["a/b", "c/d"]},
        "queryStringParameters": {"x": "2", "empty": ""},
        "multiValueQueryStringParameters": {"x": ["1", "2"], "empty": [""]},
        "pathParameters": {"proxy": "stores/demo/v3/promotions/1/codegen"},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": "/{proxy+}",
            "httpMethod": "POST",
            "path": "/v1/stores/demo/v3/promotions/1/codegen",
            "stage": "v1",
            "requestId": "req-1",
            "extendedRequestId": "req-1",
            "requestTime": "02/Jan/2026:03:04:05 +0000",
            "requestTimeEpoch": int(moment.timestamp() * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "domainName": "127.0.0.1:3000",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": None},
        },
        "body": '{"batch_size": 5}',
        "isBase64Encoded": False,
    }


def test_build_proxy_event_without_query_body_or_headers_gives_none() -> None:
    # Given a bare GET
    # When it becomes a proxy event
    event = build_proxy_event("GET", "/stores/demo/v3/promotions", [], b"", "127.0.0.1")
    # Then the empty maps and the body are None, as API Gateway sends them
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["headers"] is None
    assert event["multiValueHeaders"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_build_proxy_event_base64_encodes_a_non_utf8_body() -> None:
    # Given a body that is not UTF-8
    raw = b"\xff\xfe\x00binary"
    # When it becomes a proxy event
    event = build_proxy_event("POST", "/x", [("Content-Type", "application/octet-stream")], raw, "127.0.0.1")
    # Then it travels base64-encoded and flagged
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


STUB_API = """
import json

def handler(event, context):
    if event["path"] == "/boom":
        raise RuntimeError("stub failure")
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Single": "one"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({"event": event, "request_id": context.aws_request_id}),
        "isBase64Encoded": False,
    }
"""


@pytest.fixture
def stub_api(tmp_path: Path) -> Iterator[tuple[LocalApiServer, threading.Event]]:
    """The local API server in front of a stub handler that echoes its event."""
    module = tmp_path / "stub_api.py"
    module.write_text(STUB_API)
    function = LocalFunction(FunctionSpec("StubApi", module, "handler", timeout_seconds=29, memory_mb=128))
    ready = threading.Event()
    server = LocalApiServer(function, ready.is_set)
    server.start()
    yield server, ready
    server.stop()


def test_local_api_server_round_trips_a_request_through_the_handler(
    stub_api: tuple[LocalApiServer, threading.Event],
) -> None:
    # Given the server in front of an echoing handler
    server, _ = stub_api
    # When a request with a token, a query and a body arrives
    answer = requests.post(
        f"{server.url}/stores/demo/v3/promotions/1/codegen?page=2",
        headers={"X-Auth-Token": "secret", "Content-Type": "application/json"},
        data=b'{"batch_size": 5}',
        timeout=10,
    )
    # Then the handler saw the proxy event, and its status, headers and body came back as HTTP
    echoed = answer.json()
    event = echoed["event"]
    assert answer.status_code == 201
    assert answer.headers["X-Single"] == "one"
    assert answer.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert answer.headers["x-amzn-RequestId"] == echoed["request_id"] == event["requestContext"]["requestId"]
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/stores/demo/v3/promotions/1/codegen"
    assert event["headers"]["X-Auth-Token"] == "secret"
    assert event["queryStringParameters"] == {"page": "2"}
    assert event["body"] == '{"batch_size": 5}'
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


def test_local_api_server_answers_502_when_the_handler_fails(
    stub_api: tuple[LocalApiServer, threading.Event],
) -> None:
    # Given a handler that raises for /boom
    server, _ = stub_api
    # When /boom is requested
    answer = requests.get(f"{server.url}/boom", timeout=10)
    # Then API Gateway's integration failure comes back
    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal server error"}


def test_local_api_server_refuses_bodies_over_10_mib_with_413(
    stub_api: tuple[LocalApiServer, threading.Event],
) -> None:
    # Given the server
    server, _ = stub_api
    # When a body one byte over API Gateway's limit arrives
    answer = requests.post(f"{server.url}/x", data=b"x" * (MAX_PAYLOAD_BYTES + 1), timeout=30)
    # Then it is refused before the handler runs
    assert answer.status_code == 413
    assert answer.json() == {"message": "Request Too Long"}


def test_local_api_server_health_waits_for_ready(stub_api: tuple[LocalApiServer, threading.Event]) -> None:
    # Given a server whose stack is not ready yet
    server, ready = stub_api
    # When /health is asked before and after the stack is ready
    before = requests.get(f"{server.url}/health", timeout=10)
    ready.set()
    after = requests.get(f"{server.url}/health", timeout=10)
    # Then it answers 503 first and 200 {"status": "ok"} after
    assert before.status_code == 503
    assert (after.status_code, after.json()) == (200, {"status": "ok"})


# ---------------------------------------------------------------------------------------- poller
def test_event_source_config_reads_the_template() -> None:
    # Given GeneratorFunction's SQS event
    # When the poller's configuration is read
    config = EventSourceConfig.from_template(TEMPLATE, "GeneratorFunction")
    # Then batch size, partial failures and the concurrency cap are the template's
    event = RESOURCES["GeneratorFunction"]["Properties"]["Events"]["GenerateBatches"]["Properties"]
    assert config.queue_logical_id == "GenerateQueue"
    assert config.batch_size == event["BatchSize"]
    assert config.report_batch_item_failures is True
    assert config.max_concurrency == event["ScalingConfig"]["MaximumConcurrency"]
    # And JobFunction's cap of 40 (JobConcurrency) is held to the local stack's 20 workers a lane
    assert EventSourceConfig.from_template(TEMPLATE, "JobFunction").max_concurrency == LOCAL_WORKERS == 20


def test_local_job_window_is_held_to_the_lanes_workers(resources: LocalResources) -> None:
    # Given JobFunction's window from the template (JobConcurrency, 40 on AWS)
    assert resources.function_environment("JobFunction")["COUPONMINT_JOB_WINDOW"] == "40"
    # Then the local process runs it at its lane's 20 workers: a wider window only queues one job ahead of others
    assert resources.process_environment()["COUPONMINT_JOB_WINDOW"] == str(LOCAL_WORKERS)


def test_failed_message_ids_treats_an_unknown_identifier_as_a_failed_batch() -> None:
    # Given a batch of two messages
    ids = ["m1", "m2"]
    # When the handler reports nothing, one failure, or an id that is not in the batch
    # Then nothing, that one, or the whole batch failed, as Lambda judges it
    assert failed_message_ids({"batchItemFailures": []}, ids, report_batch_item_failures=True) == set()
    assert failed_message_ids(None, ids, report_batch_item_failures=True) == set()
    assert failed_message_ids(
        {"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids, report_batch_item_failures=True
    ) == {"m2"}
    assert failed_message_ids(
        {"batchItemFailures": [{"itemIdentifier": "zz"}]}, ids, report_batch_item_failures=True
    ) == {"m1", "m2"}
    assert (
        failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids, report_batch_item_failures=False)
        == set()
    )


@pytest.fixture(scope="module")
def poller_resources(local_aws: LocalAws) -> LocalResources:
    """A queue pair of its own, so the poller tests' failures never reach the shared dead-letter queue."""
    return create_resources(local_aws, prefix=f"p{uuid.uuid4().hex[:8]}")


class RecordingHandler:
    """A stub generator: records every record it sees; reports as failed the bodies listed in `fail`."""

    def __init__(self, fail: set[str]) -> None:
        self.fail = fail
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self._lock:
            self.records.extend(event["Records"])
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in self.fail
            ]
        }

    def deliveries(self, body: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.records if r["body"] == body]


def test_poller_deletes_successes_and_leaves_reported_failures_for_redelivery(
    local_aws: LocalAws, poller_resources: LocalResources
) -> None:
    # Given two good messages and one the handler reports as failed, and a poller retrying after 1 s
    sqs = sqs_client()
    queue, dead_letter = poller_resources.queues["GenerateQueue"], poller_resources.queues["GenerateDeadLetterQueue"]
    handler = RecordingHandler(fail={"bad"})
    for body in ("good-1", "good-2", "bad"):
        sqs.send_message(
            QueueUrl=queue.url,
            MessageBody=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": body}},
        )
    poller = SqsPoller.from_template(None, handler, poller_resources, retry_visibility_seconds=1, wait_seconds=1)
    max_receives = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    )["maxReceiveCount"]
    # When the poller runs until the failing message has been delivered maxReceiveCount times
    poller.start()
    try:
        wait_for(lambda: len(handler.deliveries("bad")) >= max_receives, timeout=30)
        dead = sqs.receive_message(QueueUrl=dead_letter.url, WaitTimeSeconds=5, MessageAttributeNames=["All"])
    finally:
        poller.stop()
    # Then the good messages were delivered once each and deleted, the bad one came back with a growing
    # receive count, and moto's SQS moved it to the dead-letter queue
    assert len(handler.deliveries("good-1")) == len(handler.deliveries("good-2")) == 1
    assert [int(r["attributes"]["ApproximateReceiveCount"]) for r in handler.deliveries("bad")] == list(
        range(1, max_receives + 1)
    )
    assert [m["Body"] for m in dead["Messages"]] == ["bad"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    # And each record has the shape Lambda gives it
    record = handler.deliveries("good-1")[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue.arn
    assert record["awsRegion"] == "us-east-1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "good-1"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert {"messageId", "receiptHandle", "body", "attributes", "md5OfBody"} <= record.keys()
    assert {"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= record[
        "attributes"
    ].keys()


def test_poller_keeps_the_whole_batch_when_the_handler_raises(poller_resources: LocalResources) -> None:
    # Given a handler that raises on its first invocation only
    sqs = sqs_client()
    queue = poller_resources.queues["GenerateQueue"]
    bodies: list[str] = []

    def flaky(event: dict[str, Any], context: Any) -> None:
        bodies.extend(r["body"] for r in event["Records"])
        if len(bodies) == len(event["Records"]):
            raise RuntimeError("first invocation fails")

    sqs.send_message(QueueUrl=queue.url, MessageBody="retry-me")
    poller = SqsPoller.from_template(None, flaky, poller_resources, retry_visibility_seconds=1, wait_seconds=1)
    # When the poller runs
    poller.start()
    try:
        wait_for(lambda: len(bodies) >= 2)
        wait_for(
            lambda: (
                sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
                    "Attributes"
                ]["ApproximateNumberOfMessagesNotVisible"]
                == "0"
            )
        )
    finally:
        poller.stop()
    # Then the message came back after the failure and was deleted after the success
    assert bodies == ["retry-me", "retry-me"]
