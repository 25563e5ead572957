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

from couponmint_dev.local.iam import IamChecker, IamMode, swap
from couponmint_dev.local.resources import LocalResources
from couponmint_dev.local.template import load_template
from tests.integration.helpers import TEMPLATE, Store


def template_where(function_id: str, policies: list[Any]) -> dict[str, Any]:
    """template.yaml with `function_id`'s Policies replaced (a copy: the loaded template is shared)."""
    template = copy.deepcopy(load_template(TEMPLATE))
    template["Resources"][function_id]["Properties"]["Policies"] = copy.deepcopy(policies)
    return template


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
