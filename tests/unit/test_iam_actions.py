"""The IAM check's map from an AWS call to the actions and resources AWS authorizes it by."""

import pytest

from couponmint_dev.local.iam.actions import UnmappedOperation, needs

REGION = "us-east-1"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/coupons"
QUEUE_URL = "http://127.0.0.1:5000/123456789012/generate"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:generate"
OBJECT = "arn:aws:s3:::exports/a/1.csv"


def test_iam_actions_transaction_needs_each_items_own_action_on_its_table() -> None:
    # Given a transaction that puts, updates, deletes and checks items of two tables
    items = [
        {"Put": {"TableName": "coupons", "Item": {}}},
        {"Update": {"TableName": "coupons", "Key": {}}},
        {"Delete": {"TableName": "other", "Key": {}}},
        {"ConditionCheck": {"TableName": "coupons", "Key": {}}},
        {"Put": {"TableName": "coupons", "Item": {}}},
    ]
    # When the map reads it
    wanted = needs("dynamodb", "TransactWriteItems", {"TransactItems": items}, REGION)
    # Then each item's action on its table is needed, once each
    assert wanted == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/other"),
        ("dynamodb:ConditionCheckItem", TABLE),
    ]


def test_iam_actions_query_on_an_index_needs_the_index_resource() -> None:
    assert needs("dynamodb", "Query", {"TableName": "coupons", "IndexName": "gsi1"}, REGION) == [
        ("dynamodb:Query", f"{TABLE}/index/gsi1")
    ]
    assert needs("dynamodb", "Scan", {"TableName": "coupons"}, REGION) == [("dynamodb:Scan", TABLE)]


def test_iam_actions_batch_operations_need_themselves_on_every_table() -> None:
    wanted = needs("dynamodb", "BatchGetItem", {"RequestItems": {"coupons": {}, "other": {}}}, REGION)
    assert wanted == [
        ("dynamodb:BatchGetItem", TABLE),
        ("dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/other"),
    ]


def test_iam_actions_table_named_by_arn_keeps_the_arn() -> None:
    assert needs("dynamodb", "GetItem", {"TableName": TABLE, "Key": {}}, "eu-west-1") == [("dynamodb:GetItem", TABLE)]


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("SendMessage", "sqs:SendMessage"),
        ("SendMessageBatch", "sqs:SendMessage"),
        ("DeleteMessageBatch", "sqs:DeleteMessage"),
        ("ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility"),
        ("GetQueueAttributes", "sqs:GetQueueAttributes"),
    ],
)
def test_iam_actions_sqs_batch_calls_need_the_single_message_action_on_the_queue_of_the_url(
    operation: str, action: str
) -> None:
    assert needs("sqs", operation, {"QueueUrl": QUEUE_URL}, REGION) == [(action, QUEUE)]


@pytest.mark.parametrize(
    ("operation", "extra", "action"),
    [
        ("PutObject", {}, "s3:PutObject"),
        ("CreateMultipartUpload", {}, "s3:PutObject"),
        ("UploadPart", {"UploadId": "u", "PartNumber": 1}, "s3:PutObject"),
        ("CompleteMultipartUpload", {"UploadId": "u"}, "s3:PutObject"),
        ("AbortMultipartUpload", {"UploadId": "u"}, "s3:AbortMultipartUpload"),
        ("GetObject", {}, "s3:GetObject"),
        ("HeadObject", {}, "s3:GetObject"),
        ("GetObject", {"VersionId": "v1"}, "s3:GetObjectVersion"),
        ("DeleteObject", {}, "s3:DeleteObject"),
    ],
)
def test_iam_actions_s3_object_calls_need_their_documented_action_on_the_object(
    operation: str, extra: dict[str, object], action: str
) -> None:
    assert needs("s3", operation, {"Bucket": "exports", "Key": "a/1.csv", **extra}, REGION) == [(action, OBJECT)]


def test_iam_actions_s3_listing_needs_list_bucket_on_the_bucket() -> None:
    assert needs("s3", "ListObjectsV2", {"Bucket": "exports", "Prefix": "a/"}, REGION) == [
        ("s3:ListBucket", "arn:aws:s3:::exports")
    ]


def test_iam_actions_s3_copy_writes_the_target_and_reads_the_source() -> None:
    params = {"Bucket": "exports", "Key": "a/1.csv", "CopySource": "source/b%2F2.csv?versionId=v9", "ACL": "private"}
    assert needs("s3", "CopyObject", params, REGION) == [
        ("s3:PutObject", OBJECT),
        ("s3:PutObjectAcl", OBJECT),
        ("s3:GetObjectVersion", "arn:aws:s3:::source/b/2.csv"),
    ]


def test_iam_actions_unknown_operation_is_an_error_naming_it() -> None:
    with pytest.raises(UnmappedOperation, match=r"sqs\.ListDeadLetterSourceQueues"):
        needs("sqs", "ListDeadLetterSourceQueues", {"QueueUrl": QUEUE_URL}, REGION)
    with pytest.raises(UnmappedOperation, match=r"events\.PutPermission"):
        needs("events", "PutPermission", {}, REGION)


def test_iam_actions_scheduler_needs_the_schedule_and_passes_its_role() -> None:
    role = "arn:aws:iam::123456789012:role/r"
    schedule = f"arn:aws:scheduler:{REGION}:123456789012:schedule/stores/s1"
    params = {"Name": "s1", "GroupName": "stores", "Target": {"Arn": "arn:aws:lambda:f", "RoleArn": role}}
    assert needs("scheduler", "CreateSchedule", params, REGION) == [
        ("scheduler:CreateSchedule", schedule),
        ("iam:PassRole", role),
    ]
    assert needs("scheduler", "DeleteSchedule", {"Name": "s1", "GroupName": "stores"}, REGION) == [
        ("scheduler:DeleteSchedule", schedule)
    ]


def test_iam_actions_put_events_needs_each_entrys_bus() -> None:
    entries = [{"EventBusName": "couponmint"}, {"EventBusName": "arn:aws:events:us-east-1:1:event-bus/x"}, {}]
    assert needs("events", "PutEvents", {"Entries": entries}, REGION) == [
        ("events:PutEvents", f"arn:aws:events:{REGION}:123456789012:event-bus/couponmint"),
        ("events:PutEvents", "arn:aws:events:us-east-1:1:event-bus/x"),
        ("events:PutEvents", f"arn:aws:events:{REGION}:123456789012:event-bus/default"),
    ]
