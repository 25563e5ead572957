"""Create template.yaml's tables, queues, buckets, schedule groups, event buses and rules in the local services,
so local cannot drift from AWS.

Physical names are `<prefix>-<LogicalId>` (lower-cased for buckets, which S3 requires). Creation is
idempotent: running it again against the same services (e.g. DynamoDB Local on a `-dbPath` that survived a
restart) finds what exists and leaves it.

Left out on purpose, because the local services ignore or do not support them: encryption settings,
point-in-time recovery, the bucket policy (moto does not evaluate it; it would also deny plain http).
"""

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from couponmint_dev.local.services import ACCOUNT_ID, LocalAws
from couponmint_dev.local.template import function_properties, load_template, resources_of_type

logger = logging.getLogger(__name__)

TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
BUCKET_TYPE = "AWS::S3::Bucket"
FUNCTION_TYPE = "AWS::Serverless::Function"
SCHEDULE_GROUP_TYPE = "AWS::Scheduler::ScheduleGroup"
EVENT_BUS_TYPE = "AWS::Events::EventBus"
RULE_TYPE = "AWS::Events::Rule"
# On AWS each concurrent invocation has its own CPU; here every worker shares the machine's cores (2 on the CI
# machine), so past a few dozen threads more workers only add switching. A lane's SQS workers are capped here
# (poller.py), and a job's window of batches in flight with them; the template's values still hold on AWS.
LOCAL_WORKERS = 20
JOB_WINDOW_VARIABLE = "COUPONMINT_JOB_WINDOW"

# Resources whose ARN (!GetAtt X.Arn) the functions' environment names. Named by their logical id, as the IAM
# check names them (iam/roles.py): neither is created in a local service.
_ARN_FORMATS = {
    FUNCTION_TYPE: "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
}

# CreateTable's index members; CloudFormation allows more (e.g. ContributorInsightsSpecification).
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")
# CloudFormation queue properties that are SQS queue attributes of the same name.
# What differs locally from Lambda, on purpose: there is no X-Ray daemon to send traces to.
# And webhooks may call http://127.0.0.1:<port> (tests and demos receive there); deployed, only public https.
LOCAL_ONLY_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true", "COUPONMINT_HOOK_ALLOW_LOCAL_HTTP": "true"}
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)


@dataclass(frozen=True)
class LocalQueue:
    name: str
    url: str
    arn: str


@dataclass(frozen=True)
class LocalResources:
    """The template's resources as created locally, by logical id."""

    prefix: str
    region: str
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, LocalQueue] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    template: dict[str, Any] = field(default_factory=dict, repr=False)

    def ref(self, logical_id: str) -> str:
        """What `!Ref logical_id` gives: a table's or bucket's name, a queue's URL, a parameter's Default."""
        if logical_id in self.tables:
            return self.tables[logical_id]
        if logical_id in self.queues:
            return self.queues[logical_id].url
        if logical_id in self.buckets:
            return self.buckets[logical_id]
        if logical_id in resources_of_type(self.template, SCHEDULE_GROUP_TYPE):
            return self.schedule_groups()[logical_id]
        if logical_id in resources_of_type(self.template, EVENT_BUS_TYPE):
            return self.event_buses()[logical_id]
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.prefix,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        parameter = self.template.get("Parameters", {}).get(logical_id)
        if parameter is not None and "Default" in parameter:
            return _cfn_string(parameter["Default"])
        raise KeyError(f"!Ref {logical_id} has no local value")

    def get_att(self, logical_id: str, attribute: str) -> str:
        """What `!GetAtt logical_id.attribute` gives, for the attributes the template uses."""
        if logical_id in self.queues:
            queue = self.queues[logical_id]
            return {"Arn": queue.arn, "QueueName": queue.name, "QueueUrl": queue.url}[attribute]
        if logical_id in self.tables and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{self.tables[logical_id]}"
        if logical_id in self.buckets and attribute == "Arn":
            return f"arn:aws:s3:::{self.buckets[logical_id]}"
        if logical_id in resources_of_type(self.template, EVENT_BUS_TYPE) and attribute == "Arn":
            return f"arn:aws:events:{self.region}:{ACCOUNT_ID}:event-bus/{self.event_buses()[logical_id]}"
        resource_type = self.template["Resources"].get(logical_id, {}).get("Type")
        if resource_type in _ARN_FORMATS and attribute == "Arn":
            return _ARN_FORMATS[resource_type].format(region=self.region, account=ACCOUNT_ID, name=logical_id)
        raise KeyError(f"!GetAtt {logical_id}.{attribute} has no local value")

    def resolve(self, value: Any) -> str:
        """A template value (plain, !Ref, !GetAtt or !Sub) as the string a function's environment holds."""
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                return self.get_att(*argument)
            if function == "Fn::Sub" and isinstance(argument, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub_variable(m.group(1)), argument)
            raise ValueError(f"the local stack cannot resolve {function}")
        return _cfn_string(value)

    def _sub_variable(self, name: str) -> str:
        logical_id, _, attribute = name.partition(".")
        return self.get_att(logical_id, attribute) if attribute else self.ref(logical_id)

    def function_environment(self, function_id: str) -> dict[str, str]:
        """Globals.Function.Environment.Variables overlaid with the function's own, references resolved."""
        function_properties(self.template, function_id)  # a clear error for an id that is no function
        globals_variables = (
            self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        resource = self.template["Resources"][function_id]
        own_variables = (resource.get("Properties") or {}).get("Environment", {}).get("Variables", {})
        return {name: self.resolve(value) for name, value in {**globals_variables, **own_variables}.items()}

    def schedule_groups(self) -> dict[str, str]:
        """The template's EventBridge Scheduler groups: logical id → name."""
        return {
            logical_id: self.resolve(properties["Name"])
            for logical_id, properties in resources_of_type(self.template, SCHEDULE_GROUP_TYPE).items()
        }

    def event_buses(self) -> dict[str, str]:
        """The template's EventBridge buses: logical id → name."""
        return {
            logical_id: self.resolve(properties["Name"])
            for logical_id, properties in resources_of_type(self.template, EVENT_BUS_TYPE).items()
        }

    def function_ids(self) -> list[str]:
        return list(resources_of_type(self.template, FUNCTION_TYPE))

    def process_environment(self) -> dict[str, str]:
        """The environment for one process that runs every function of the template (the local stack).

        The union of each function's variables plus `LOCAL_ONLY_ENVIRONMENT`; two functions giving one
        variable different values cannot share a process, so that fails.
        """
        merged: dict[str, str] = {}
        for function_id in self.function_ids():
            for name, value in self.function_environment(function_id).items():
                if merged.setdefault(name, value) != value:
                    raise ValueError(f"functions disagree on {name}; they cannot share one local process")
        # A job's window is the lane's concurrency (template: JobConcurrency); the local lane has fewer workers, and
        # a window wider than them would only queue one job's batches ahead of every other store's.
        if int(merged.get(JOB_WINDOW_VARIABLE, LOCAL_WORKERS)) > LOCAL_WORKERS:
            merged[JOB_WINDOW_VARIABLE] = str(LOCAL_WORKERS)
        return {**merged, **LOCAL_ONLY_ENVIRONMENT}


def _cfn_string(value: Any) -> str:
    """CloudFormation passes environment values as strings; booleans as lower-case words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def physical_name(prefix: str, logical_id: str) -> str:
    return f"{prefix}-{logical_id}"


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
