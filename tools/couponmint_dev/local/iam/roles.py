"""Each function's execution role as SAM deploys it: template.yaml translated, then resolved to local names.

The SAM translator (`samtranslator`, what `sam validate` and CloudFormation's transform run) turns each
`AWS::Serverless::Function`'s `Policies` (SAM policy templates such as DynamoDBCrudPolicy, inline statements,
managed policy ARNs) and event sources into an `AWS::IAM::Role`. Its policy documents, plus any
`AWS::IAM::Policy` attached to the role, are resolved here with the local resources' names and ARNs
(`LocalResources.ref` / `get_att`) and compiled into one `Policy` per function.

Managed policies: their documents are AWS's, not in the template; the few SAM attaches are in
`MANAGED_POLICIES`. The ones SAM attaches for an event source (AWSLambdaSQSQueueExecutionRole: receive and
delete on every queue) serve Lambda's poller, which calls on the function's behalf before and after the code
runs, so they are not counted as the function code's: code that needs such a call says so in the template.
"""

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from couponmint_dev.local.iam.policy import Policy
from couponmint_dev.local.resources import FUNCTION_TYPE, LocalResources
from couponmint_dev.local.services import ACCOUNT_ID

_MANAGED = "arn:aws:iam::aws:policy/"
_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
# AWS managed policies SAM attaches, as AWS publishes them (IAM console, "Policy versions").
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    f"{_MANAGED}service-role/AWSLambdaBasicExecutionRole": [{"Effect": "Allow", "Action": _LOGS, "Resource": "*"}],
    f"{_MANAGED}AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": ["*"],
        }
    ],
}
# Attached by SAM for an event source mapping: the poller's permissions, not the function code's.
EVENT_SOURCE_POLICIES = frozenset(
    f"{_MANAGED}service-role/{name}"
    for name in (
        "AWSLambdaSQSQueueExecutionRole",
        "AWSLambdaKinesisExecutionRole",
        "AWSLambdaDynamoDBExecutionRole",
        "AWSLambdaMSKExecutionRole",
    )
)
# What the translator needs in place of local paths (as `sam validate` does).
_PLACEHOLDER_URI = "s3://bucket/value"


@dataclass(frozen=True)
class FunctionRole:
    """A function's execution role: its name (for error messages) and its compiled policy."""

    function_id: str
    role_name: str
    policy: Policy

    @property
    def session_arn(self) -> str:
        """Who AWS says is calling: the role assumed by the function, as in AccessDenied messages."""
        return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{self.role_name}/{self.function_id}"


def translate(template: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The CloudFormation template SAM's transform makes of `template` (local code paths stood in for)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(dict(template))
    for resource in sam["Resources"].values():
        properties = resource.get("Properties") or {}
        if resource["Type"] == FUNCTION_TYPE and "ImageUri" not in properties:
            properties["CodeUri"] = _PLACEHOLDER_URI
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = _PLACEHOLDER_URI

    def no_managed_policy_names() -> dict[str, str]:
        raise ValueError("the local IAM check needs managed policies as ARNs, not names, in template.yaml")

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    return dict(translator.translate(sam, parameter_values={}, get_managed_policy_map=no_managed_policy_names))


def function_roles(resources: LocalResources) -> dict[str, FunctionRole]:
    """Every function's role, from `resources.template`, resolved against `resources`."""
    translated = translate(resources.template, resources.region)
    cfn_resources: dict[str, Any] = translated["Resources"]
    roles: dict[str, FunctionRole] = {}
    for function_id, resource in cfn_resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"].get("Role")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role and role["Fn::GetAtt"][0] in cfn_resources):
            raise ValueError(f"{function_id}'s role is not defined in template.yaml, so it cannot be checked")
        role_id = role["Fn::GetAtt"][0]
        documents = _role_documents(role_id, cfn_resources)
        policy = Policy.from_documents(_Resolver(resources, cfn_resources).resolve(documents))
        roles[function_id] = FunctionRole(function_id, role_id, policy)
    return roles


def _role_documents(role_id: str, cfn_resources: Mapping[str, Any]) -> list[Any]:
    properties = cfn_resources[role_id]["Properties"]
    documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    for resource in cfn_resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"].get("Roles", []):
            documents.append(resource["Properties"]["PolicyDocument"])
    for arn in properties.get("ManagedPolicyArns", []):
        if not isinstance(arn, str):
            raise ValueError(f"{role_id}: the local IAM check reads managed policy ARNs as plain strings: {arn!r}")
        if arn in EVENT_SOURCE_POLICIES:
            continue
        if arn not in MANAGED_POLICIES:
            raise ValueError(f"{role_id} uses {arn}: add its document to MANAGED_POLICIES in {__name__}")
        documents.append({"Statement": MANAGED_POLICIES[arn]})
    return documents


class _Resolver:
    """CloudFormation intrinsics in policy documents (Ref, Fn::GetAtt, Fn::Sub, Fn::Join), resolved locally."""

    def __init__(self, resources: LocalResources, cfn_resources: Mapping[str, Any]) -> None:
        self._resources = resources
        self._types = {logical_id: resource["Type"] for logical_id, resource in cfn_resources.items()}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, argument), *_ = value.items()
            if name == "Ref":
                return self._ref(argument)
            if name == "Fn::GetAtt":
                logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self._get_att(logical_id, attribute)
            if name == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, {key: self.resolve(v) for key, v in variables.items()})
            if name == "Fn::Join":
                delimiter, items = argument
                return delimiter.join(self.resolve(items))
            if name.startswith("Fn::"):
                raise ValueError(f"the local IAM check cannot resolve {name} in a policy")
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def variable(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            logical_id, _, attribute = name.partition(".")
            return self._get_att(logical_id, attribute) if attribute else self._ref(logical_id)

        return re.sub(r"\$\{([^}]+)\}", variable, text)

    def _ref(self, logical_id: str) -> str:
        if self._types.get(logical_id) in ("AWS::Lambda::Function", "AWS::IAM::Role"):
            return logical_id  # local functions are named by their logical id; roles are not created locally
        return self._resources.ref(logical_id)

    def _get_att(self, logical_id: str, attribute: str) -> str:
        region = self._resources.region
        if attribute == "Arn" and self._types.get(logical_id) == "AWS::Lambda::Function":
            return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{logical_id}"
        if attribute == "Arn" and self._types.get(logical_id) == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT_ID}:role/{logical_id}"
        return self._resources.get_att(logical_id, attribute)
