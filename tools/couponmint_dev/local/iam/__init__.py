"""IAM the local stack can check: every AWS call a function makes, held against its role in template.yaml.

DESIGN.md invariant 8. The parts:

- `running`: which function's invocation the current code belongs to (`LocalFunction.__call__` sets it, so
  the HTTP API, the SQS poller, the schedules and the integration tests all do);
- `actions`: the IAM actions and resource ARNs each AWS operation needs;
- `roles`: each function's role as SAM deploys it (template.yaml through SAM's translator), resolved to the
  local resources' names;
- `policy`: IAM's evaluation of a role's statements (Allow, Deny, NotAction, wildcards);
- `check`: the botocore hook that judges each call, fails it as AWS would and records the violation.

Used by `couponmint local run --iam enforce|warn|off` (violations in its log, and in `--iam-report FILE`) and
by the tests (tests/iam_check.py fails the test during which a violation happened).

Extending it:
- a function needs a new permission: one line in its `Policies` in template.yaml (an action in a statement's
  Action list, or a SAM policy template);
- a function calls an operation the check does not know (`UnmappedOperation` names it): one line in the
  service's table in `actions.py`; a new service: a table of its own there, listed in `actions.SERVICES`;
- a policy refers to a resource the local stack does not create: teach `LocalResources.ref` / `get_att`
  (resources.py) its name and ARN;
- SAM attaches a managed policy the check does not know: its document in `roles.MANAGED_POLICIES`.
"""

from couponmint_dev.local.iam.check import IamChecker, IamMode, Violation, active_checker, install, swap

__all__ = ["IamChecker", "IamMode", "Violation", "active_checker", "install", "swap"]
