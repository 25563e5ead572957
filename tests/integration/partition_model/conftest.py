"""Fixtures of the tests of the partition model on a table of its own: per module, the model in front of the
session's DynamoDB Local and a table shaped like couponmint's; before each test, the model's default limits."""

from collections.abc import Iterator
from typing import Any

import pytest

from couponmint_dev.local.partition_model import ModelLimits, PartitionModelProxy, start_partition_model
from couponmint_dev.local.services import LocalAws
from tests.integration.partition_model_support import client_for, create_table


@pytest.fixture(scope="module")
def proxy(local_aws: LocalAws) -> Iterator[PartitionModelProxy]:
    """The model in front of the session's DynamoDB Local (same tables), at its default limits."""
    running = start_partition_model(local_aws.dynamodb.endpoint)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def fresh_model(proxy: PartitionModelProxy) -> None:
    proxy.reset(ModelLimits())


@pytest.fixture(scope="module")
def client(proxy: PartitionModelProxy) -> Any:
    """Through the model, without retries: each throttle surfaces."""
    return client_for(proxy.url)


@pytest.fixture(scope="module")
def direct(local_aws: LocalAws) -> Any:
    """DynamoDB Local itself, to look at what was (not) written."""
    return local_aws.client("dynamodb")


@pytest.fixture(scope="module")
def table(direct: Any) -> str:
    return create_table(direct)
