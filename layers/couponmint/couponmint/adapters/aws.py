"""boto3 clients, built lazily (never at import time) and shared within a process."""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling (ProvisionedThroughputExceeded, ThrottlingException).
# A Lambda invocation makes at most a few calls at once (a job batch's 4 claim calls, assembly's parts); the
# local stack runs every worker of every lane in one process on these shared clients (20 job batches x 4
# calls, 40 SQS long polls): with a smaller pool its connections were closed and reopened all the time.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, max_pool_connections=128)


@cache
def dynamodb_resource() -> Any:
    return boto3.resource("dynamodb", config=_CONFIG)


@cache
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=_CONFIG)


@cache
def dynamodb_writer() -> Any:
    """A plain DynamoDB client for the claim transactions, whose items couponmint serializes itself.

    A claim transaction holds 100 items: boto3's resource-level type conversion and botocore's client-side
    parameter validation of them cost more CPU than DynamoDB takes to write them (it validates them anyway).
    """
    return boto3.client("dynamodb", config=_CONFIG.merge(Config(parameter_validation=False)))


@cache
def sqs_client() -> Any:
    return boto3.client("sqs", config=_CONFIG)


@cache
def scheduler_client() -> Any:
    return boto3.client("scheduler", config=_CONFIG)


@cache
def events_client() -> Any:
    return boto3.client("events", config=_CONFIG)


@cache
def s3_client() -> Any:
    return boto3.client(
        "s3", config=Config(signature_version="s3v4", retries={"mode": "standard"}, max_pool_connections=128)
    )


def reset_clients() -> None:
    """Forget cached clients (after the endpoint environment changes, e.g. in tests)."""
    for factory in (
        dynamodb_resource,
        dynamodb_client,
        dynamodb_writer,
        sqs_client,
        s3_client,
        scheduler_client,
        events_client,
    ):
        factory.cache_clear()
