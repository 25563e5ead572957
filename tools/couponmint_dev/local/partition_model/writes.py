"""A write request's item writes, read from DynamoDB's JSON protocol (the `X-Amz-Target` operation and body).

Each item write is (kind, its fields as PutItem, UpdateItem or DeleteItem take them): a transaction's actions and
a batch's items one by one, in the request's order. Kinds: PutItem, UpdateItem, DeleteItem, ConditionCheck, and
InsertItem (a PartiQL INSERT: a put over no item, so the model reads no item before it). PartiQL statements
(partiql.py) that are reads come back as None, and those the model cannot read as Unmodelled.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from couponmint_dev.local.partition_model.partiql import KeyNames, StatementNotModelled, statement_write

ITEM_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
STATEMENT_OPERATIONS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
WRITE_OPERATIONS = ITEM_OPERATIONS | STATEMENT_OPERATIONS
TRANSACTIONS = frozenset({"TransactWriteItems", "ExecuteTransaction"})
SCHEMA_CHANGES = frozenset({"CreateTable", "DeleteTable", "UpdateTable"})

ItemWrite = tuple[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Unmodelled:
    """A statement the model cannot read: forwarded uncharged, and counted."""

    reason: str


StatementWrite = ItemWrite | Unmodelled | None


def item_writes(operation: str, request: Mapping[str, Any]) -> list[ItemWrite]:
    """The item writes of a PutItem, UpdateItem, DeleteItem, BatchWriteItem or TransactWriteItems request."""
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


def statement_writes(operation: str, request: Mapping[str, Any], key_names: KeyNames) -> list[StatementWrite]:
    """The item write of each statement of an ExecuteStatement, BatchExecuteStatement or ExecuteTransaction."""
    if operation == "ExecuteStatement":
        statements = [request]
    else:
        statements = request["Statements" if operation == "BatchExecuteStatement" else "TransactStatements"]
    writes: list[StatementWrite] = []
    for statement in statements:
        try:
            writes.append(statement_write(statement["Statement"], statement.get("Parameters") or (), key_names))
        except (StatementNotModelled, KeyError, TypeError, ValueError) as error:
            writes.append(Unmodelled(f"{type(error).__name__}: {error}"))
    return writes


def _action(action: Mapping[str, Any]) -> ItemWrite:
    ((kind, fields),) = action.items()
    return {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind, kind), fields
