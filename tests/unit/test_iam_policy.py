"""IAM policy evaluation as the local check does it: explicit Deny, Allow, implicit deny, wildcards."""

from couponmint_dev.local.iam.policy import Decision, Policy

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/coupons"


def policy(*statements: dict[str, object]) -> Policy:
    return Policy.from_documents([{"Version": "2012-10-17", "Statement": list(statements)}])


def test_iam_policy_allows_only_what_a_statement_names() -> None:
    # Given a policy allowing GetItem and PutItem on one table
    granted = policy({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": TABLE})
    # Then those are allowed there, and nothing else, nor anywhere else
    assert granted.decide("dynamodb:GetItem", TABLE) is Decision.ALLOWED
    assert granted.decide("dynamodb:Scan", TABLE) is Decision.IMPLICIT_DENY
    assert granted.decide("dynamodb:GetItem", f"{TABLE}-2") is Decision.IMPLICIT_DENY
    assert granted.decide("dynamodb:GetItem", f"{TABLE}/index/gsi1") is Decision.IMPLICIT_DENY


def test_iam_policy_wildcards_match_actions_case_insensitively_and_resources_exactly() -> None:
    # Given wildcards in actions (sqs:SendMessage*) and resources (* and ?)
    granted = policy(
        {"Effect": "Allow", "Action": "sqs:SendMessage*", "Resource": "arn:aws:sqs:*:123456789012:gen?"},
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::exports/exports/*"},
    )
    # Then * spans any run, ? one character; actions ignore case, resources do not
    assert granted.decide("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:gen1") is Decision.ALLOWED
    assert granted.decide("SQS:sendmessagebatch", "arn:aws:sqs:us-east-1:123456789012:gen1") is Decision.ALLOWED
    assert granted.decide("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:gen12") is Decision.IMPLICIT_DENY
    assert granted.decide("s3:GetObject", "arn:aws:s3:::exports/exports/a/b.csv") is Decision.ALLOWED
    assert granted.decide("s3:GetObject", "arn:aws:s3:::exports/Exports/a.csv") is Decision.IMPLICIT_DENY
    assert granted.decide("s3:PutObject", "arn:aws:s3:::exports/exports/a.csv") is Decision.IMPLICIT_DENY


def test_iam_policy_wildcard_characters_are_the_only_special_ones() -> None:
    # Given a resource with regular-expression characters in it
    granted = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/a.c+(d)"})
    assert granted.decide("s3:GetObject", "arn:aws:s3:::b/a.c+(d)") is Decision.ALLOWED
    assert granted.decide("s3:GetObject", "arn:aws:s3:::b/aXc+(d)") is Decision.IMPLICIT_DENY


def test_iam_policy_explicit_deny_wins_over_any_allow() -> None:
    # Given everything allowed, but deletes denied
    granted = policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:Delete*", "Resource": TABLE},
    )
    assert granted.decide("dynamodb:DeleteItem", TABLE) is Decision.EXPLICIT_DENY
    assert granted.decide("dynamodb:PutItem", TABLE) is Decision.ALLOWED


def test_iam_policy_not_action_and_not_resource_apply_to_everything_else() -> None:
    # Given an allow of everything but IAM, and a deny of everything outside one table
    granted = policy(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": [TABLE, f"{TABLE}/index/*"]},
    )
    assert granted.decide("iam:PassRole", "arn:aws:iam::123456789012:role/x") is Decision.IMPLICIT_DENY
    assert granted.decide("dynamodb:Query", f"{TABLE}/index/gsi1") is Decision.ALLOWED
    assert granted.decide("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/x") is Decision.EXPLICIT_DENY


def test_iam_policy_a_single_statement_object_counts() -> None:
    granted = Policy.from_documents([{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}])
    assert granted.decide("s3:GetObject", "arn:aws:s3:::b/k") is Decision.ALLOWED
