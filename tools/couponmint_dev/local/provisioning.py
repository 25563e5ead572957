"""Create template.yaml's tables, queues, buckets, schedule groups, event buses and rules in the local services,
so local cannot drift from AWS.

Creation is idempotent: running it again against the same services (e.g. DynamoDB Local on a `-dbPath` that
survived a restart) finds what exists and leaves it.

Left out on purpose, because the local services ignore or do not support them: encryption settings,
point-in-time recovery, the bucket policy (moto does not evaluate it; it would also deny plain http).
"""

import json
import logging
from typing import Any

from botocore.exceptions import ClientError

from couponmint_dev.local.resources import (
    BUCKET_TYPE,
    QUEUE_TYPE,
    RULE_TYPE,
    TABLE_TYPE,
    LocalQueue,
    LocalResources,
    physical_name,
)
from couponmint_dev.local.services import ACCOUNT_ID, LocalAws
from couponmint_dev.local.template import load_template, resources_of_type

logger = logging.getLogger(__name__)

# CreateTable's index members; CloudFormation allows more (e.g. ContributorInsightsSpecification).
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")
# CloudFormation queue properties that are SQS queue attributes of the same name.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def create_resources(aws: LocalAws, prefix: str, template: dict[str, Any] | None = None) -> LocalResources:
    """Create (or find) every table, queue and bucket of the template, named `<prefix>-<LogicalId>`."""
    template = template if template is not None else load_template()
    dynamodb, sqs, s3 = aws.client("dynamodb"), aws.client("sqs"), aws.client("s3")
    tables = {
        logical_id: _ensure_table(dynamodb, physical_name(prefix, logical_id), properties)
        for logical_id, properties in resources_of_type(template, TABLE_TYPE).items()
    }
    queue_properties = resources_of_type(template, QUEUE_TYPE)
    # Every queue first, then the attributes: a redrive policy needs its dead-letter queue's ARN.
    queues = {
        logical_id: _ensure_queue(sqs, aws.region, physical_name(prefix, logical_id), properties)
        for logical_id, properties in queue_properties.items()
    }
    buckets = {
        logical_id: _ensure_bucket(s3, physical_name(prefix, logical_id).lower(), properties)
        for logical_id, properties in resources_of_type(template, BUCKET_TYPE).items()
    }
    created = LocalResources(
        prefix=prefix, region=aws.region, tables=tables, queues=queues, buckets=buckets, template=template
    )
    for logical_id, properties in queue_properties.items():
        sqs.set_queue_attributes(QueueUrl=queues[logical_id].url, Attributes=_queue_attributes(created, properties))
    scheduler = aws.client("scheduler")
    for name in created.schedule_groups().values():
        _ensure_schedule_group(scheduler, name)
    events = aws.client("events")
    for name in created.event_buses().values():
        _ensure_event_bus(events, name)
    for logical_id, properties in resources_of_type(template, RULE_TYPE).items():
        _put_rule(events, created, physical_name(prefix, logical_id), properties)
    logger.info("local resources ready: tables=%s queues=%s buckets=%s", tables, list(queues), buckets)
    return created


# ---------------------------------------------------------------------------------------- DynamoDB
def _ensure_table(dynamodb: Any, name: str, properties: dict[str, Any]) -> str:
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if "ProvisionedThroughput" in properties:
        request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    for indexes in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if indexes in properties:
            request[indexes] = [
                {key: index[key] for key in _INDEX_KEYS if key in index} for index in properties[indexes]
            ]
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    try:
        dynamodb.create_table(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        logger.info("table %s exists already", name)
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    return name


# ---------------------------------------------------------------------------------------- SQS
def _ensure_queue(sqs: Any, region: str, name: str, properties: dict[str, Any]) -> LocalQueue:
    if properties.get("FifoQueue"):
        name += ".fifo"
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        attributes = {"FifoQueue": "true"} if properties.get("FifoQueue") else {}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return LocalQueue(name=name, url=url, arn=f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}")


def _queue_attributes(resources: LocalResources, properties: dict[str, Any]) -> dict[str, str]:
    # FifoQueue can only be given at creation.
    attributes = {
        key: resources.resolve(properties[key]) for key in _QUEUE_ATTRIBUTES if key in properties and key != "FifoQueue"
    }
    redrive = properties.get("RedrivePolicy")
    if redrive:
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": resources.resolve(redrive["deadLetterTargetArn"]),
                "maxReceiveCount": int(resources.resolve(redrive["maxReceiveCount"])),
            }
        )
    return attributes


# ---------------------------------------------------------------------------------------- S3
def _ensure_bucket(s3: Any, name: str, properties: dict[str, Any]) -> str:
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
    public_access = properties.get("PublicAccessBlockConfiguration")
    if public_access:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=public_access)
    return name


# ---------------------------------------------------------------------------------------- EventBridge Scheduler
def _ensure_schedule_group(scheduler: Any, name: str) -> str:
    # Asked first: moto's CreateScheduleGroup replaces a group of that name, schedules and all.
    try:
        scheduler.get_schedule_group(Name=name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        scheduler.create_schedule_group(Name=name)
    return name


# ---------------------------------------------------------------------------------------- EventBridge
def _ensure_event_bus(events: Any, name: str) -> None:
    try:
        events.create_event_bus(Name=name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise


def _put_rule(events: Any, resources: LocalResources, name: str, properties: dict[str, Any]) -> None:
    """The rule and its targets (moto's EventBridge delivers matching PutEvents to SQS targets, as AWS does)."""
    bus = resources.resolve(properties.get("EventBusName", "default"))
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(properties["EventPattern"]))
    targets = [{"Id": target["Id"], "Arn": resources.resolve(target["Arn"])} for target in properties["Targets"]]
    events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
