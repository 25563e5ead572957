"""What the partition model's integration tests share: clients that do not retry, a table shaped like
couponmint's, items of a given size (the fixtures of the tests of the model on a table of its own are in
partition_model/conftest.py)."""

import uuid
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from couponmint_dev.local.partition_model.item_size import item_size
from couponmint_dev.local.services import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, REGION

KB = 1024


def client_for(endpoint: str, attempts: int = 1) -> Any:
    """A DynamoDB client for `endpoint`; with one attempt, each throttle surfaces as DynamoDB sent it."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def create_table(direct: Any) -> str:
    """A table shaped like couponmint's: pk/sk and an index gsi1 (g, numeric gs), on demand."""
    name = f"pm-{uuid.uuid4().hex[:8]}"
    direct.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": t} for a, t in (("pk", "S"), ("sk", "S"), ("g", "S"), ("gs", "N"))
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "gs", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    direct.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return name


def item(pk: str, sk: str = "S", size: int = 100, **extra: Any) -> dict[str, Any]:
    """An item of `size` bytes, as DynamoDB counts them."""
    body = {"pk": {"S": pk}, "sk": {"S": sk}, **extra}
    padding = max(1, size - item_size(body) - len("data"))
    return {**body, "data": {"S": "x" * padding}}


def stored(direct: Any, table: str, pk: str, sk: str = "S") -> bool:
    return "Item" in direct.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)


def put_all(client: Any, table: str, items: list[dict[str, Any]]) -> list[ClientError]:
    errors = []
    for entry in items:
        try:
            client.put_item(TableName=table, Item=entry)
        except ClientError as error:
            errors.append(error)
    return errors
