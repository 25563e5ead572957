"""Shared fixtures: the local AWS services and template.yaml's resources, started only when a test asks.

Unit tests request none of these, so they run without Java, moto's server or any network.
"""

import uuid
from collections.abc import Iterator

import pytest

from couponmint.adapters.aws import reset_clients
from couponmint.config import get_settings
from couponmint_dev.local.provisioning import create_resources
from couponmint_dev.local.resources import LocalResources
from couponmint_dev.local.services import LocalAws, start_local_aws
from tests.iam_check import iam_allows_every_call, judge_against, pytest_configure, pytest_sessionfinish

# The IAM check's hooks and fixture, for every test (tests/iam_check.py).
__all__ = ["iam_allows_every_call", "pytest_configure", "pytest_sessionfinish"]


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    """DynamoDB Local (in memory) and moto's server (SQS, S3); boto3 points at them for the session."""
    aws = start_local_aws()
    with pytest.MonkeyPatch.context() as environment:
        for name, value in aws.environment().items():
            environment.setenv(name, value)
        reset_clients()
        try:
            yield aws
        finally:
            aws.stop()
    reset_clients()


@pytest.fixture(scope="session")
def resources(local_aws: LocalAws) -> Iterator[LocalResources]:
    """template.yaml's tables, queues and buckets under a unique prefix, and the functions' environment.

    Sets the variables template.yaml gives its functions (COUPONMINT_TABLE_NAME, COUPONMINT_QUEUE_URL,
    COUPONMINT_EXPORT_BUCKET, ...), so `get_settings()` and the handlers see the local resources.
    """
    created = create_resources(local_aws, prefix=f"t{uuid.uuid4().hex[:8]}")
    judge_against(created)
    with pytest.MonkeyPatch.context() as environment:
        for name, value in created.process_environment().items():
            environment.setenv(name, value)
        get_settings.cache_clear()
        yield created
    get_settings.cache_clear()


@pytest.fixture
def fresh_store() -> str:
    """A store hash no other test uses, so tests share the session's table without seeing each other."""
    return f"store{uuid.uuid4().hex[:10]}"
