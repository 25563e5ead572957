"""The check itself: a botocore hook that holds every AWS call a function makes against that function's role.

`install(mode)` registers the hook on boto3's default session and on every botocore session created
afterwards (clients copy their session's hooks when created: install before creating them, or call
`couponmint.adapters.aws.reset_clients()` after). `IamChecker.use(resources)` gives it the template and the
local resources whose names the policies resolve to.

On each call made inside an invocation (`running.current_function()`; calls from fixtures, the seed or the
stack itself are not the function's and pass unchecked) the hook works out the actions and resources the call
needs (`actions.needs`) and asks the function's policy (`roles.function_roles`). A need it does not allow:

- is recorded as a `Violation` (kept in memory, logged, and appended to the report file if there is one), so
  a test run fails even when the code swallows the error;
- in `enforce` mode, fails the call as AWS would: a `ClientError` AccessDeniedException (DynamoDB) or
  AccessDenied (SQS, S3), "User: arn:aws:sts::…:assumed-role/<Function>Role/<Function> is not authorized to
  perform: <action> on resource: <arn> because no identity-based policy allows the <action> action".
  A presigned URL is only recorded: AWS signs it anyway and refuses its later use.

`warn` records without failing calls; `off` checks nothing.
"""

import enum
import json
import logging
import threading
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
from botocore.exceptions import ClientError

from couponmint_dev.local.iam.actions import UnmappedOperation, needs
from couponmint_dev.local.iam.policy import Decision
from couponmint_dev.local.iam.roles import FunctionRole, function_roles
from couponmint_dev.local.iam.running import current_function, inherit_in_threads
from couponmint_dev.local.resources import LocalResources

logger = logging.getLogger(__name__)


class IamMode(enum.StrEnum):
    ENFORCE = "enforce"
    WARN = "warn"
    OFF = "off"


# How AWS answers a denied call, per service: error code and HTTP status.
_DENIAL_CODES = {"dynamodb": ("AccessDeniedException", 400), "sqs": ("AccessDenied", 403), "s3": ("AccessDenied", 403)}
_HOOK_ID = "couponmint-local-iam"
# The action of a violation the check could not judge (an operation it does not know, a function not in the
# template): never allowed, so it fails the tests like any refused call.
UNJUDGED = "?"


@dataclass(frozen=True)
class Violation:
    """A call a function made that its role does not allow (or that the check cannot judge)."""

    function: str
    action: str
    resource: str
    call: str
    reason: str

    def __str__(self) -> str:
        if self.action == UNJUDGED:
            return f"{self.function} called {self.call}, which the IAM check cannot judge: {self.reason}"
        return f"{self.function} is not allowed {self.action} on {self.resource} ({self.call}: {self.reason})"


class IamChecker:
    """Judges calls against the functions' roles and keeps what it refused."""

    def __init__(self, mode: IamMode = IamMode.ENFORCE, report: Path | None = None) -> None:
        self.mode = mode
        self._report = report
        self._resources: LocalResources | None = None
        self._roles: dict[str, FunctionRole] | None = None
        self._lock = threading.Lock()
        self._violations: list[Violation] = []
        self._logged: set[Violation] = set()
        self._taken = 0

    def use(self, resources: LocalResources) -> "IamChecker":
        """Judge against `resources.template`'s roles, resolved to `resources`' names (expanded on first use)."""
        with self._lock:
            self._resources, self._roles = resources, None
        return self

    def roles(self) -> dict[str, FunctionRole]:
        roles = self._roles
        if roles is not None:
            return roles
        with self._lock:
            if self._roles is None:
                if self._resources is None:
                    raise RuntimeError("the IAM check has no resources to judge against: call use(resources)")
                self._roles = function_roles(self._resources)
            return self._roles

    def check(
        self,
        function_id: str,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        region: str,
        *,
        presign: bool = False,
    ) -> None:
        """Record what `function_id`'s role refuses the call; in enforce mode, raise AWS's error for it.

        A presigned URL's call is only recorded: AWS signs it anyway and refuses the URL's use.
        """
        fail = self.mode is IamMode.ENFORCE and not presign
        call = f"{service}.{operation}"
        role = self.roles().get(function_id)
        try:
            wanted = needs(service, operation, params, region)
        except UnmappedOperation as error:
            self._record(Violation(function_id, UNJUDGED, "", call, str(error)))
            if fail:
                raise
            return
        if role is None:
            self._record(Violation(function_id, UNJUDGED, "", call, "it is not a function of template.yaml"))
            return
        for action, resource in wanted:
            decision = role.policy.decide(action, resource)
            if decision is not Decision.ALLOWED:
                self._record(Violation(function_id, action, resource, call, decision.value))
                if fail:
                    raise _access_denied(role, service, operation, action, resource, decision)

    def violations(self) -> list[Violation]:
        with self._lock:
            return list(self._violations)

    def take_new(self) -> list[Violation]:
        """The violations recorded since the last call (a test's own, when called after each test)."""
        with self._lock:
            new, self._taken = self._violations[self._taken :], len(self._violations)
            return new

    def _record(self, violation: Violation) -> None:
        with self._lock:
            first = violation not in self._logged
            self._logged.add(violation)
            self._violations.append(violation)
            if self._report is not None:
                with self._report.open("a", encoding="utf-8") as report:
                    report.write(json.dumps(asdict(violation)) + "\n")
        if first:
            logger.error("IAM: %s", violation)


def _access_denied(
    role: FunctionRole, service: str, operation: str, action: str, resource: str, decision: Decision
) -> ClientError:
    code, status = _DENIAL_CODES.get(service, ("AccessDenied", 403))
    message = (
        f"User: {role.session_arn} is not authorized to perform: {action} on resource: {resource} "
        f"because {decision.value} the {action} action"
    )
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": status},
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


_checker: IamChecker | None = None


def active_checker() -> IamChecker | None:
    return _checker


def install(mode: IamMode | str = IamMode.ENFORCE, report: Path | None = None) -> IamChecker:
    """Check every later-created client's calls with a new `IamChecker` (replacing any earlier one)."""
    global _checker
    checker = IamChecker(IamMode(mode), report)
    _checker = checker
    if checker.mode is not IamMode.OFF:
        _register_hook()
        inherit_in_threads()
    return checker


def swap(checker: IamChecker | None) -> IamChecker | None:
    """Make `checker` the active one (None: check nothing); returns the one it replaces."""
    global _checker
    previous, _checker = _checker, checker
    return previous


def _before_parameter_build(params: Mapping[str, Any], model: Any, context: Mapping[str, Any], **_: Any) -> None:
    function_id = current_function()
    checker = _checker
    if function_id is None or checker is None or checker.mode is IamMode.OFF:
        return
    checker.check(
        function_id,
        model.service_model.service_name,
        model.name,
        params,
        str(context.get("client_region") or ""),
        presign=bool(context.get("is_presign_request")),
    )


_registered = False
_register_lock = threading.Lock()


def _register_hook() -> None:
    """On the default session if it exists, and on every session created from now on (once)."""
    global _registered
    with _register_lock:
        if _registered:
            return
        _registered = True
        botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _before_parameter_build))
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.register("before-parameter-build", _before_parameter_build, _HOOK_ID)
