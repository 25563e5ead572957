"""The lanes on one machine: the job lane yields to the interactive one.

On AWS each lane has its own capacity: GeneratorFunction its reserved executions, JobFunction the account's
others, and DynamoDB serves both at once. Locally every function shares two cores and one DynamoDB Local, which
serves one transaction at a time, so a job's stream of writes would queue ahead of a codegen request's (measured:
another store's 250-code requests went from 1.1 s to 6.5 s p50 during a 60,000-code job). To show on the local
stack what AWS does, a call of a job-lane function waits, before it is sent, while an interactive invocation
runs (up to MAX_WAIT seconds a call, so a continuous interactive load slows jobs, never stops them). The lanes
are read from the template: the interactive ones are the API's function and the SQS-fed functions with reserved
concurrency; the job lane is the SQS-fed functions without.

The hook is installed on every botocore session (as the IAM check's is); calls made outside an invocation (the
stack itself, fixtures) never wait.
"""

import logging
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.handlers

from couponmint_dev.local.iam.running import current_function, wait_while_running
from couponmint_dev.local.template import function_properties, resources_of_type

logger = logging.getLogger(__name__)

# The longest a job-lane call waits for interactive work, each time.
MAX_WAIT = 2.0


@dataclass(frozen=True)
class Lanes:
    interactive: frozenset[str]
    yielding: frozenset[str]

    @classmethod
    def from_template(cls, template: dict[str, Any]) -> "Lanes":
        interactive: set[str] = set()
        yielding: set[str] = set()
        for function_id in resources_of_type(template, "AWS::Serverless::Function"):
            properties = function_properties(template, function_id)
            kinds = {event["Type"] for event in (properties.get("Events") or {}).values()}
            if "Api" in kinds:
                interactive.add(function_id)
            elif "SQS" in kinds:
                reserved = properties.get("ReservedConcurrentExecutions") is not None
                (interactive if reserved else yielding).add(function_id)
        return cls(frozenset(interactive), frozenset(yielding))


_lanes: Lanes | None = None
_registered = False
_register_lock = threading.Lock()


def install(lanes: Lanes) -> None:
    """Make calls of `lanes.yielding` wait for `lanes.interactive` (for clients created from now on)."""
    global _lanes, _registered
    _lanes = lanes
    with _register_lock:
        if _registered:
            return
        _registered = True
        botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _before_send))
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.register("before-send", _before_send, "couponmint-lanes")
    logger.info("job lane %s yields to %s", sorted(lanes.yielding), sorted(lanes.interactive))


def _before_send(**_: Any) -> None:
    lanes = _lanes
    if lanes is not None and current_function() in lanes.yielding:
        wait_while_running(lanes.interactive, MAX_WAIT)
