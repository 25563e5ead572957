"""IAM identity-policy evaluation for the local check: Allow and Deny, Action / NotAction, Resource / NotResource.

As IAM does it: an explicit Deny wins, else any Allow allows, else the call is denied implicitly. Actions match
case-insensitively, resources case-sensitively; `*` matches any run of characters and `?` one character.
Patterns are compiled once, when a function's policy is first needed.

Not evaluated: Condition blocks (no request context exists locally; a statement's conditions are taken to
hold), policy variables, resource-based policies, permission boundaries and SCPs.
"""

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class Decision(enum.Enum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "no identity-based policy allows"
    EXPLICIT_DENY = "an explicit deny in an identity-based policy denies"


def _pattern(patterns: Iterable[str], *, ignore_case: bool) -> re.Pattern[str]:
    """One regular expression matching any of the IAM wildcard `patterns` in full."""
    alternatives = ["".join(_wildcard(character) for character in pattern) for pattern in patterns]
    return re.compile("|".join(alternatives) or "(?!)", re.IGNORECASE if ignore_case else 0)


def _wildcard(character: str) -> str:
    return {"*": ".*", "?": "."}.get(character) or re.escape(character)


def _strings(value: Any, field: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"a statement's {field} must be a string or a list of strings, not {value!r}")
    return values


@dataclass(frozen=True)
class Statement:
    """One policy statement, compiled."""

    allow: bool
    actions: re.Pattern[str]
    not_action: bool
    resources: re.Pattern[str]
    not_resource: bool

    @classmethod
    def parse(cls, statement: Mapping[str, Any]) -> "Statement":
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"a statement's Effect must be Allow or Deny, not {effect!r}")
        action_field = "NotAction" if "NotAction" in statement else "Action"
        resource_field = "NotResource" if "NotResource" in statement else "Resource"
        return cls(
            allow=effect == "Allow",
            actions=_pattern(_strings(statement.get(action_field), action_field), ignore_case=True),
            not_action=action_field == "NotAction",
            resources=_pattern(_strings(statement.get(resource_field), resource_field), ignore_case=False),
            not_resource=resource_field == "NotResource",
        )

    def applies(self, action: str, resource: str) -> bool:
        return (self.actions.fullmatch(action) is None) == self.not_action and (
            self.resources.fullmatch(resource) is None
        ) == self.not_resource


@dataclass(frozen=True)
class Policy:
    """All the statements of a role's policies, evaluated together."""

    statements: tuple[Statement, ...]

    @classmethod
    def from_documents(cls, documents: Iterable[Mapping[str, Any]]) -> "Policy":
        statements: list[Statement] = []
        for document in documents:
            listed = document.get("Statement", [])
            statements += [Statement.parse(s) for s in ([listed] if isinstance(listed, Mapping) else listed)]
        return cls(tuple(statements))

    def decide(self, action: str, resource: str) -> Decision:
        allowed = False
        for statement in self.statements:
            if statement.applies(action, resource):
                if not statement.allow:
                    return Decision.EXPLICIT_DENY
                allowed = True
        return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY
