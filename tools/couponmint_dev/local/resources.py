"""template.yaml's resources as the local services hold them (`LocalResources`): physical names, ARNs, and the
intrinsic functions (Ref, GetAtt, Sub) resolved against them, so functions get the environment they get on AWS.

Physical names are `<prefix>-<LogicalId>` (lower-cased for buckets, which S3 requires). provisioning.py creates
the resources.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from couponmint_dev.local.services import ACCOUNT_ID
from couponmint_dev.local.template import function_properties, resources_of_type

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

# What differs locally from Lambda, on purpose: there is no X-Ray daemon to send traces to.
# And webhooks may call http://127.0.0.1:<port> (tests and demos receive there); deployed, only public https.
LOCAL_ONLY_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true", "COUPONMINT_HOOK_ALLOW_LOCAL_HTTP": "true"}


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
