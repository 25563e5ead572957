"""What an AWS API call needs from IAM: the (action, resource ARN) pairs AWS authorizes for it.

`SERVICES` maps a botocore service name ("dynamodb", "sqs", "s3") and operation name ("TransactWriteItems")
to a function of the call's parameters that lists what it needs, following AWS's Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/). Most operations need the
action of the same name on one resource; the rest are spelled out:

- DynamoDB: TransactWriteItems needs each item's own action on its table (Put → PutItem, Update →
  UpdateItem, Delete → DeleteItem, ConditionCheck → ConditionCheckItem), TransactGetItems GetItem on each;
  BatchGetItem / BatchWriteItem need themselves on every table named; Query and Scan with an IndexName need
  `table/<name>/index/<index>`.
- SQS: the batch operations need their single-message action (SendMessageBatch → sqs:SendMessage); the
  queue's ARN comes from its URL.
- S3: a multipart upload's create, parts and completion need s3:PutObject, its abort s3:AbortMultipartUpload;
  HeadObject needs s3:GetObject (s3:GetObjectVersion with a VersionId); listing a bucket needs
  s3:ListBucket on the bucket's ARN; a copy needs s3:PutObject on the target and s3:GetObject on the source.

An operation missing here raises `UnmappedOperation` when a function calls it, so a new call cannot pass
unchecked. To add one: add its line to the service's table (`_same("Action")` when the action is the
operation's name on the usual resource); for a new service, write its resource helper and table and list it
in `SERVICES`.
- EventBridge Scheduler: each schedule operation needs its action on the schedule's ARN (its group and name),
  and one that gives the schedule a role (CreateSchedule, UpdateSchedule) iam:PassRole on that role.
- EventBridge: PutEvents needs events:PutEvents on each entry's bus.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from couponmint_dev.local.services import ACCOUNT_ID

Need = tuple[str, str]
"""An IAM action and the ARN of the resource it acts on ("*" for actions without a resource)."""
Needs = Callable[[Mapping[str, Any], str], list[Need]]
"""The needs of one operation, from the call's parameters and the client's region."""


class UnmappedOperation(Exception):
    """A function called an operation the map does not know: its permissions cannot be checked."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            f"the local IAM check does not know {service}.{operation}: add the actions it needs to "
            "couponmint_dev/local/iam/actions.py"
        )


def needs(service: str, operation: str, params: Mapping[str, Any], region: str) -> list[Need]:
    """What calling `service.operation` with `params` from `region` needs (unique, in call order)."""
    try:
        of_operation = SERVICES[service][operation]
    except KeyError:
        raise UnmappedOperation(service, operation) from None
    return list(dict.fromkeys(of_operation(params, region)))


# ---------------------------------------------------------------------------------------- DynamoDB
def _table_arn(table: str, region: str) -> str:
    # TableName may also be given as the table's ARN.
    return table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"


def _table(action: str) -> Needs:
    return lambda params, region: [(action, _table_arn(params["TableName"], region))]


def _table_or_index(action: str) -> Needs:
    def of(params: Mapping[str, Any], region: str) -> list[Need]:
        arn = _table_arn(params["TableName"], region)
        index = params.get("IndexName")
        return [(action, f"{arn}/index/{index}" if index else arn)]

    return of


def _each_table(action: str) -> Needs:
    return lambda params, region: [(action, _table_arn(table, region)) for table in params["RequestItems"]]


_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def _transact_items(params: Mapping[str, Any], region: str) -> list[Need]:
    # A claim transaction holds 100 items of one or two kinds on one table: judge each kind and table once.
    kinds = dict.fromkeys((kind, body["TableName"]) for item in params["TransactItems"] for kind, body in item.items())
    return [(_TRANSACT_ACTIONS[kind], _table_arn(table, region)) for kind, table in kinds]


_PARTIQL_ACTIONS = {
    "INSERT": "PartiQLInsert",
    "UPDATE": "PartiQLUpdate",
    "DELETE": "PartiQLDelete",
    "SELECT": "PartiQLSelect",
}
_PARTIQL_TABLE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM|SELECT\s.*?\sFROM)\s+"([^"]+)"', re.I | re.S)


def _statements(params: Mapping[str, Any], region: str) -> list[Need]:
    """PartiQL: each statement needs its verb's action (INSERT → dynamodb:PartiQLInsert) on its table."""
    needed: dict[Need, None] = {}
    for statement in params.get("Statements") or [{"Statement": params["Statement"]}]:
        match = _PARTIQL_TABLE.match(statement["Statement"])
        if match is None:
            raise ValueError(f"the IAM check cannot read the PartiQL statement {statement['Statement'][:60]!r}")
        verb = match.group(1).split()[0].upper()
        needed[(f"dynamodb:{_PARTIQL_ACTIONS[verb]}", _table_arn(match.group(2), region))] = None
    return list(needed)


def _everything(action: str) -> Needs:
    return lambda params, region: [(action, "*")]


DYNAMODB: dict[str, Needs] = {
    **{
        operation: _table(f"dynamodb:{operation}")
        for operation in (
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "DescribeTable",
            "DescribeTimeToLive",
            "UpdateTimeToLive",
            "CreateTable",
            "UpdateTable",
            "DeleteTable",
        )
    },
    "Query": _table_or_index("dynamodb:Query"),
    "Scan": _table_or_index("dynamodb:Scan"),
    "BatchGetItem": _each_table("dynamodb:BatchGetItem"),
    "BatchWriteItem": _each_table("dynamodb:BatchWriteItem"),
    "TransactWriteItems": _transact_items,
    "TransactGetItems": _transact_items,
    "ExecuteStatement": _statements,
    "BatchExecuteStatement": _statements,
    "ListTables": _everything("dynamodb:ListTables"),
}


# ---------------------------------------------------------------------------------------- SQS
def _queue_arn_from_url(url: str, region: str) -> str:
    """https://sqs.<region>.amazonaws.com/<account>/<name> (or a local endpoint's /<account>/<name>)."""
    account, name = urlsplit(url).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _queue(action: str) -> Needs:
    return lambda params, region: [(action, _queue_arn_from_url(params["QueueUrl"], region))]


def _queue_named(action: str) -> Needs:
    def of(params: Mapping[str, Any], region: str) -> list[Need]:
        account = params.get("QueueOwnerAWSAccountId") or ACCOUNT_ID
        return [(action, f"arn:aws:sqs:{region}:{account}:{params['QueueName']}")]

    return of


SQS: dict[str, Needs] = {
    "SendMessage": _queue("sqs:SendMessage"),
    "SendMessageBatch": _queue("sqs:SendMessage"),
    "ReceiveMessage": _queue("sqs:ReceiveMessage"),
    "DeleteMessage": _queue("sqs:DeleteMessage"),
    "DeleteMessageBatch": _queue("sqs:DeleteMessage"),
    "ChangeMessageVisibility": _queue("sqs:ChangeMessageVisibility"),
    "ChangeMessageVisibilityBatch": _queue("sqs:ChangeMessageVisibility"),
    "GetQueueAttributes": _queue("sqs:GetQueueAttributes"),
    "SetQueueAttributes": _queue("sqs:SetQueueAttributes"),
    "PurgeQueue": _queue("sqs:PurgeQueue"),
    "DeleteQueue": _queue("sqs:DeleteQueue"),
    "GetQueueUrl": _queue_named("sqs:GetQueueUrl"),
    "CreateQueue": _queue_named("sqs:CreateQueue"),
    "ListQueues": _everything("sqs:ListQueues"),
}


# ---------------------------------------------------------------------------------------- S3
def _bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _bucket(action: str) -> Needs:
    return lambda params, region: [(action, _bucket_arn(params["Bucket"]))]


def _object(action: str, versioned: str | None = None) -> Needs:
    """`action` on the object; `versioned` instead when the call names a VersionId."""

    def of(params: Mapping[str, Any], region: str) -> list[Need]:
        chosen = versioned if versioned and params.get("VersionId") else action
        return [(chosen, _object_arn(params["Bucket"], params["Key"]))]

    return of


def _write(params: Mapping[str, Any], region: str) -> list[Need]:
    """Writing an object: s3:PutObject, plus the ACL and tagging actions when the call sets them."""
    arn = _object_arn(params["Bucket"], params["Key"])
    written = [("s3:PutObject", arn)]
    if any(name in params for name in ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP")):
        written.append(("s3:PutObjectAcl", arn))
    if "Tagging" in params:
        written.append(("s3:PutObjectTagging", arn))
    return written


def _copy(params: Mapping[str, Any], region: str) -> list[Need]:
    """A copy writes the target and reads the source ("bucket/key[?versionId=v]" or a dict)."""
    source = params["CopySource"]
    if isinstance(source, str):
        path, _, query = source.lstrip("/").partition("?versionId=")
        bucket, _, key = unquote(path).partition("/")
        source = {"Bucket": bucket, "Key": key, **({"VersionId": query} if query else {})}
    read = "s3:GetObjectVersion" if source.get("VersionId") else "s3:GetObject"
    return [*_write(params, region), (read, _object_arn(source["Bucket"], source["Key"]))]


def _delete_objects(params: Mapping[str, Any], region: str) -> list[Need]:
    bucket = params["Bucket"]
    return [
        ("s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject", _object_arn(bucket, item["Key"]))
        for item in params["Delete"]["Objects"]
    ]


S3: dict[str, Needs] = {
    "PutObject": _write,
    "CreateMultipartUpload": _write,
    "UploadPart": _object("s3:PutObject"),
    "CompleteMultipartUpload": _object("s3:PutObject"),
    "AbortMultipartUpload": _object("s3:AbortMultipartUpload"),
    "ListParts": _object("s3:ListMultipartUploadParts"),
    "CopyObject": _copy,
    "UploadPartCopy": _copy,
    "GetObject": _object("s3:GetObject", versioned="s3:GetObjectVersion"),
    "HeadObject": _object("s3:GetObject", versioned="s3:GetObjectVersion"),
    "DeleteObject": _object("s3:DeleteObject", versioned="s3:DeleteObjectVersion"),
    "DeleteObjects": _delete_objects,
    "GetObjectTagging": _object("s3:GetObjectTagging", versioned="s3:GetObjectVersionTagging"),
    "PutObjectTagging": _object("s3:PutObjectTagging", versioned="s3:PutObjectVersionTagging"),
    "ListObjects": _bucket("s3:ListBucket"),
    "ListObjectsV2": _bucket("s3:ListBucket"),
    "ListObjectVersions": _bucket("s3:ListBucketVersions"),
    "ListMultipartUploads": _bucket("s3:ListBucketMultipartUploads"),
    "HeadBucket": _bucket("s3:ListBucket"),
    "GetBucketLocation": _bucket("s3:GetBucketLocation"),
    "GetBucketVersioning": _bucket("s3:GetBucketVersioning"),
    "ListBuckets": _everything("s3:ListAllMyBuckets"),
}


# ---------------------------------------------------------------------------------------- EventBridge Scheduler
def _schedule_arn(params: Mapping[str, Any], region: str) -> str:
    group = params.get("GroupName") or "default"
    return f"arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/{group}/{params['Name']}"


def _schedule(action: str) -> Needs:
    """`action` on the schedule; a call that gives the schedule a role also needs iam:PassRole on it."""

    def of(params: Mapping[str, Any], region: str) -> list[Need]:
        needed = [(action, _schedule_arn(params, region))]
        role = (params.get("Target") or {}).get("RoleArn")
        return [*needed, ("iam:PassRole", role)] if role else needed

    return of


SCHEDULER: dict[str, Needs] = {
    "CreateSchedule": _schedule("scheduler:CreateSchedule"),
    "UpdateSchedule": _schedule("scheduler:UpdateSchedule"),
    "DeleteSchedule": _schedule("scheduler:DeleteSchedule"),
    "GetSchedule": _schedule("scheduler:GetSchedule"),
    "ListSchedules": _everything("scheduler:ListSchedules"),
}


# ---------------------------------------------------------------------------------------- EventBridge
def _bus_arn(bus: str | None, region: str) -> str:
    # EventBusName may be a name or an ARN; without one, the account's default bus.
    name = bus or "default"
    return name if name.startswith("arn:") else f"arn:aws:events:{region}:{ACCOUNT_ID}:event-bus/{name}"


def _put_events(params: Mapping[str, Any], region: str) -> list[Need]:
    return [("events:PutEvents", _bus_arn(entry.get("EventBusName"), region)) for entry in params["Entries"]]


EVENTS: dict[str, Needs] = {"PutEvents": _put_events}


SERVICES: dict[str, dict[str, Needs]] = {
    "dynamodb": DYNAMODB,
    "sqs": SQS,
    "s3": S3,
    "scheduler": SCHEDULER,
    "events": EVENTS,
}
