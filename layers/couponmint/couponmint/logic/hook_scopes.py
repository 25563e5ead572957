"""Webhook scopes (BigCommerce's `/hooks` shape): what a hook subscribes to, and which events it gets.

A hook's scope is one of `SCOPES`, or a wildcard ending in `/*` that covers at least one of them
(`store/promotion/*`, `store/promotion/codegen/*`); a wildcard matches every scope that starts with what comes
before its `*`.
"""

JOB_COMPLETED = "store/promotion/codegen/job/completed"
JOB_FAILED = "store/promotion/codegen/job/failed"
BATCH_FAILED = "store/promotion/codegen/batch/failed"
CODE_REDEEMED = "store/promotion/code/redeemed"
REDEMPTION_ROLLED_BACK = "store/promotion/code/redemption/rolled_back"
SCOPES = (JOB_COMPLETED, JOB_FAILED, BATCH_FAILED, CODE_REDEEMED, REDEMPTION_ROLLED_BACK)


def matches(hook_scope: str, event_scope: str) -> bool:
    """Whether a hook of `hook_scope` gets an event of `event_scope`."""
    if hook_scope.endswith("/*"):
        return event_scope.startswith(hook_scope[:-1])
    return hook_scope == event_scope


def scope_problem(scope: str) -> str | None:
    """Why `scope` is no hook scope, or None when it is one."""
    if scope in SCOPES or (scope.endswith("/*") and any(matches(scope, known) for known in SCOPES)):
        return None
    return f"{scope!r} is not one of {', '.join(SCOPES)}, nor a wildcard ending in /* that covers one"
