"""Functions' roles as SAM's translator makes them from a template, resolved to the local resources' names."""

import copy
from typing import Any

import pytest

from couponmint_dev.local.iam.policy import Decision
from couponmint_dev.local.iam.roles import function_roles
from couponmint_dev.local.template import load_template
from tests.unit.iam_helpers import named_resources

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/unit-CouponTable"
IDEMPOTENCY = "arn:aws:dynamodb:us-east-1:123456789012:table/unit-IdempotencyTable"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:unit-GenerateQueue"
EXPORT = "arn:aws:s3:::unit-exportbucket/exports/demo/1/jobs/j.csv"


def template_with(policies: dict[str, list[Any]]) -> dict[str, Any]:
    """template.yaml with the given functions' Policies replaced."""
    template = copy.deepcopy(load_template())
    for function_id, listed in policies.items():
        template["Resources"][function_id]["Properties"]["Policies"] = listed
    return template


@pytest.fixture(scope="module")
def roles() -> dict[str, Any]:
    return function_roles(named_resources(load_template()))


def test_iam_roles_every_function_of_the_template_has_one(roles: dict[str, Any]) -> None:
    assert set(roles) == {"ApiFunction", "GeneratorFunction", "JobFunction", "SchedulerFunction", "DeliveryFunction"}
    assert roles["ApiFunction"].session_arn == "arn:aws:sts::123456789012:assumed-role/ApiFunctionRole/ApiFunction"


def test_iam_roles_sam_policy_templates_expand_to_their_actions_on_the_referenced_resources() -> None:
    # Given a function with SAM's policy templates on !Ref and !GetAtt resources
    template = template_with(
        {
            "ApiFunction": [
                {"DynamoDBCrudPolicy": {"TableName": {"Ref": "CouponTable"}}},
                {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["GenerateQueue", "QueueName"]}}},
                {"S3CrudPolicy": {"BucketName": {"Ref": "ExportBucket"}}},
            ]
        }
    )
    # When the translator expands them
    policy = function_roles(named_resources(template))["ApiFunction"].policy
    # Then their actions apply to those resources (and the table's indexes), and only there
    assert policy.decide("dynamodb:Scan", f"{TABLE}/index/gsi1") is Decision.ALLOWED
    assert policy.decide("dynamodb:PutItem", IDEMPOTENCY) is Decision.IMPLICIT_DENY
    assert policy.decide("sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert policy.decide("s3:DeleteObject", EXPORT) is Decision.ALLOWED
    # And S3CrudPolicy, broad as it is, does not grant aborting a multipart upload
    assert policy.decide("s3:AbortMultipartUpload", EXPORT) is Decision.IMPLICIT_DENY


def test_iam_roles_inline_statements_resolve_sub_and_getatt() -> None:
    # Given an inline statement on one index of the table, written with !Sub
    index = {"Fn::Sub": "${CouponTable.Arn}/index/gsi2"}
    statement = {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": index}
    template = template_with({"SchedulerFunction": [{"Statement": [statement]}]})
    # When it is resolved
    policy = function_roles(named_resources(template))["SchedulerFunction"].policy
    # Then it names the local table's index
    assert policy.decide("dynamodb:Query", f"{TABLE}/index/gsi2") is Decision.ALLOWED
    assert policy.decide("dynamodb:Query", f"{TABLE}/index/gsi1") is Decision.IMPLICIT_DENY


def test_iam_roles_event_source_permissions_are_the_pollers_not_the_function_codes(roles: dict[str, Any]) -> None:
    # Given the generator's SQS event source (SAM attaches AWSLambdaSQSQueueExecutionRole for Lambda's poller)
    policy = roles["GeneratorFunction"].policy
    # Then the function's code itself may not receive or delete messages
    assert policy.decide("sqs:ReceiveMessage", QUEUE) is Decision.IMPLICIT_DENY
    assert policy.decide("sqs:DeleteMessage", QUEUE) is Decision.IMPLICIT_DENY
    # But the basic execution role SAM attaches is there
    assert policy.decide("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:x") is Decision.ALLOWED


def test_iam_roles_template_grants_each_function_what_its_code_calls(roles: dict[str, Any]) -> None:
    api, generator, job_lane, scheduler = (
        roles[f].policy for f in ("ApiFunction", "GeneratorFunction", "JobFunction", "SchedulerFunction")
    )
    assert api.decide("sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert api.decide("dynamodb:Query", f"{TABLE}/index/gsi1") is Decision.ALLOWED
    assert api.decide("dynamodb:DeleteItem", IDEMPOTENCY) is Decision.ALLOWED
    assert api.decide("s3:GetObject", EXPORT) is Decision.ALLOWED
    assert generator.decide("s3:PutObject", EXPORT) is Decision.ALLOWED
    assert generator.decide("dynamodb:DeleteItem", TABLE) is Decision.ALLOWED  # a failed batch gives codes back
    assert job_lane.decide("s3:AbortMultipartUpload", EXPORT) is Decision.ALLOWED
    assert job_lane.decide("dynamodb:PartiQLInsert", TABLE) is Decision.ALLOWED
    assert scheduler.decide("dynamodb:Query", f"{TABLE}/index/gsi2") is Decision.ALLOWED


def test_iam_roles_template_grants_no_function_what_its_code_never_calls(roles: dict[str, Any]) -> None:
    api, generator, scheduler = (roles[f].policy for f in ("ApiFunction", "GeneratorFunction", "SchedulerFunction"))
    for policy in (api, generator, scheduler):
        assert policy.decide("dynamodb:Scan", TABLE) is Decision.IMPLICIT_DENY
        assert policy.decide("dynamodb:DeleteTable", TABLE) is Decision.IMPLICIT_DENY
        assert policy.decide("dynamodb:BatchWriteItem", TABLE) is Decision.IMPLICIT_DENY
    assert api.decide("s3:DeleteObject", EXPORT) is Decision.IMPLICIT_DENY
    assert api.decide("s3:ListBucket", "arn:aws:s3:::unit-exportbucket") is Decision.IMPLICIT_DENY
    assert generator.decide("s3:DeleteObject", EXPORT) is Decision.IMPLICIT_DENY
    assert generator.decide("s3:AbortMultipartUpload", EXPORT) is Decision.IMPLICIT_DENY  # it assembles nothing
    assert generator.decide("dynamodb:PartiQLInsert", TABLE) is Decision.IMPLICIT_DENY
    assert scheduler.decide("s3:GetObject", EXPORT) is Decision.IMPLICIT_DENY
    assert scheduler.decide("dynamodb:DeleteItem", TABLE) is Decision.IMPLICIT_DENY


def test_iam_roles_unknown_managed_policy_is_an_error_naming_it() -> None:
    template = template_with({"ApiFunction": ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]})
    with pytest.raises(ValueError, match="AmazonDynamoDBFullAccess: add its document to MANAGED_POLICIES"):
        function_roles(named_resources(template))
