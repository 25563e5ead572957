"""A write request's item writes, read from DynamoDB's JSON protocol (the `X-Amz-Target` operation and body).

Each item write is (PutItem | UpdateItem | DeleteItem | ConditionCheck, its fields as PutItem, UpdateItem or
DeleteItem take them): a transaction's actions and a batch's items one by one.
"""

from collections.abc import Mapping
from typing import Any

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
SCHEMA_CHANGES = frozenset({"CreateTable", "DeleteTable", "UpdateTable"})

ItemWrite = tuple[str, Mapping[str, Any]]


def item_writes(operation: str, request: Mapping[str, Any]) -> list[ItemWrite]:
    """The request's item writes, in the request's order."""
    if operation == "TransactWriteItems":
        return [_action(action) for action in request["TransactItems"]]
    if operation == "BatchWriteItem":
        return [
            ("PutItem", {"TableName": table, "Item": write["PutRequest"]["Item"]})
            if "PutRequest" in write
            else ("DeleteItem", {"TableName": table, "Key": write["DeleteRequest"]["Key"]})
            for table, writes in request["RequestItems"].items()
            for write in writes
        ]
    return [(operation, request)]


def _action(action: Mapping[str, Any]) -> ItemWrite:
    ((kind, fields),) = action.items()
    return {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind, kind), fields
