"""The partition model charges PartiQL writes as the item writes they are, answers as DynamoDB does, and counts
reads; a statement it cannot read is forwarded and counted as unmodelled, never silently free.

Limits as in test_partition_model.py: 1/10 of AWS's (100 write units a second per key), one second of burst,
through a client that does not retry.
"""

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from couponmint_dev.local.partition_model import (
    INDEX_THROTTLED_MESSAGE,
    TABLE_THROTTLED_MESSAGE,
    ModelLimits,
    PartitionModelProxy,
)
from tests.integration.partition_model_support import KB, item, stored


def insert(table: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A PartiQL INSERT of `entry` with every value a parameter, as couponmint's job claims are written."""
    names = list(entry)
    fields = ", ".join(f"'{name}': ?" for name in names)
    return {"Statement": f'INSERT INTO "{table}" VALUE {{{fields}}}', "Parameters": [entry[name] for name in names]}


def spend(client: Any, table: str, key: str) -> None:
    """Overdraw `key`'s bucket (150 units against its 100 a second) with one big write."""
    client.put_item(TableName=table, Item=item(key, "big", size=150 * KB))


# ---------------------------------------------------------------------------------------- inserts
def test_throttled_statements_of_a_batch_answer_throttling_error_in_their_place(
    client: Any, direct: Any, table: str, proxy: PartitionModelProxy
) -> None:
    # Given a key whose second's worth of units is spent
    hot = f"hot-{uuid.uuid4().hex[:6]}"
    spend(client, table, hot)
    others = [item(f"ok-{uuid.uuid4().hex[:6]}", size=1500) for _ in range(2)]
    # When a batch inserts two items elsewhere and one under that key
    answer = client.batch_execute_statement(
        Statements=[insert(table, others[0]), insert(table, item(hot, "small")), insert(table, others[1])]
    )
    # Then the throttled statement answers ThrottlingError in its place, and the others were written
    responses = answer["Responses"]
    assert responses[1] == {
        "TableName": table,
        "Error": {"Code": "ThrottlingError", "Message": TABLE_THROTTLED_MESSAGE},
    }
    assert "Error" not in responses[0] and "Error" not in responses[2]
    assert stored(direct, table, others[0]["pk"]["S"]) and stored(direct, table, others[1]["pk"]["S"])
    assert not stored(direct, table, hot, "small")
    # And each insert was charged like a PutItem of a new item (1,500 bytes: 2 units), the throttled one not
    counted = proxy.stats()["operations"]["BatchExecuteStatement"]
    assert (counted["requests"], counted["items"], counted["throttled_items"], counted["wcu"]) == (1, 3, 1, 4)
    assert proxy.stats()["unmodelled"] == 0


def test_a_batch_none_of_whose_statements_fit_is_a_throttling_exception(client: Any, table: str) -> None:
    hot = f"hot-{uuid.uuid4().hex[:6]}"
    spend(client, table, hot)
    with pytest.raises(ClientError) as raised:
        client.batch_execute_statement(Statements=[insert(table, item(hot, f"s{i}")) for i in range(3)])
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert raised.value.response["Error"]["Message"] == TABLE_THROTTLED_MESSAGE


def test_inserts_carrying_index_keys_are_charged_on_the_index_key(
    client: Any, table: str, proxy: PartitionModelProxy
) -> None:
    # Given a table warm enough that only keys can throttle, and 8 inserts of 25 units under one index key
    proxy.reset(ModelLimits(table_wru=40_000))
    index_key = f"PROMO-{uuid.uuid4().hex[:6]}"
    entries = [item(f"c-{uuid.uuid4().hex}", size=25 * KB, g={"S": index_key}, gs={"N": str(i)}) for i in range(8)]
    # When they are sent in one batch
    answer = client.batch_execute_statement(Statements=[insert(table, entry) for entry in entries])
    # Then the index key's 100 units went to the first four; the others are throttled by the index
    errors = [response.get("Error") for response in answer["Responses"]]
    assert errors[:4] == [None] * 4
    assert errors[4:] == [{"Code": "ThrottlingError", "Message": INDEX_THROTTLED_MESSAGE}] * 4
    charged = {(k["index"], k["key"]): k["wcu"] for k in proxy.stats()["keys"] if k["key"] == index_key}
    assert charged == {("gsi1", index_key): 100}


def test_a_duplicate_insert_is_answered_by_dynamodb_local_and_charged(
    client: Any, direct: Any, table: str, proxy: PartitionModelProxy
) -> None:
    existing = item(f"dup-{uuid.uuid4().hex[:6]}")
    direct.put_item(TableName=table, Item=existing)
    answer = client.batch_execute_statement(Statements=[insert(table, existing)])
    assert answer["Responses"][0]["Error"]["Code"] == "DuplicateItem"
    # (a failed conditional write is charged like one that succeeded: docs/partition-model.md)
    assert proxy.stats()["operations"]["BatchExecuteStatement"]["wcu"] == 1


# ---------------------------------------------------------------------------------------- single statements
def test_a_throttled_execute_statement_is_a_throttling_exception(client: Any, direct: Any, table: str) -> None:
    hot = f"hot-{uuid.uuid4().hex[:6]}"
    spend(client, table, hot)
    with pytest.raises(ClientError) as raised:
        client.execute_statement(**insert(table, item(hot, "small")))
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert not stored(direct, table, hot, "small")


def test_update_and_delete_statements_are_charged_like_update_item_and_delete_item(
    client: Any, direct: Any, table: str, proxy: PartitionModelProxy
) -> None:
    # Given an item of 3 KB under index key A
    key = f"u-{uuid.uuid4().hex[:6]}"
    direct.put_item(TableName=table, Item=item(key, size=3 * KB, g={"S": "A"}, gs={"N": "1"}))
    # When a statement shrinks it and moves its index entry to B (as the UpdateItem test does)
    client.execute_statement(
        Statement=f'UPDATE "{table}" SET g = ? REMOVE "data" WHERE pk = ? AND sk = ?',  # noqa: S608 (the test's table)
        Parameters=[{"S": "B"}, {"S": key}, {"S": "S"}],
    )
    # Then it costs what that UpdateItem costs: the larger image on the table key, a delete under A, a put under B
    charged = {(k["index"], k["key"]): k["wcu"] for k in proxy.stats()["keys"]}
    assert charged == {(None, key): 3, ("gsi1", "A"): 3, ("gsi1", "B"): 1}
    # And a DELETE of it costs its (now small) item and its index entry
    proxy.reset(ModelLimits())
    client.execute_statement(
        Statement=f'DELETE FROM "{table}" WHERE pk = ? AND sk = ?',  # noqa: S608 (the test's table)
        Parameters=[{"S": key}, {"S": "S"}],
    )
    charged = {(k["index"], k["key"]): k["wcu"] for k in proxy.stats()["keys"]}
    assert charged == {(None, key): 1, ("gsi1", "B"): 1}
    assert not stored(direct, table, key)


def test_a_throttled_partiql_transaction_is_cancelled_with_throttling_error(
    client: Any, direct: Any, table: str
) -> None:
    hot = f"hot-{uuid.uuid4().hex[:6]}"
    spend(client, table, hot)
    other = item(f"tx-{uuid.uuid4().hex[:6]}")
    with pytest.raises(ClientError) as raised:
        client.execute_transaction(TransactStatements=[insert(table, other), insert(table, item(hot, "small"))])
    answer = raised.value.response
    assert answer["Error"]["Code"] == "TransactionCanceledException"
    assert answer["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ThrottlingError", "Message": TABLE_THROTTLED_MESSAGE},
    ]
    assert not stored(direct, table, other["pk"]["S"])


def test_a_statement_the_model_cannot_read_is_forwarded_and_counted_as_unmodelled(
    client: Any, table: str, proxy: PartitionModelProxy
) -> None:
    # When a write names its item in a way the model does not read (OR in the WHERE clause)
    with pytest.raises(ClientError) as raised:
        client.execute_statement(
            Statement=f'DELETE FROM "{table}" WHERE pk = ? OR sk = ?',  # noqa: S608 (the test's table)
            Parameters=[{"S": "a"}, {"S": "b"}],
        )
    # Then DynamoDB Local gave its own answer (the model refused nothing), and the stats say it went uncharged
    assert raised.value.response["Error"]["Code"] != "ThrottlingException"
    stats = proxy.stats()
    assert stats["unmodelled"] == 1 and stats["operations"]["ExecuteStatement"]["unmodelled"] == 1


# ---------------------------------------------------------------------------------------- reads
def test_reads_are_counted_in_read_units_and_never_throttled(
    client: Any, direct: Any, table: str, proxy: PartitionModelProxy
) -> None:
    # Given an item of 5 KB under an index key
    key, index_key = f"r-{uuid.uuid4().hex[:6]}", f"RI-{uuid.uuid4().hex[:6]}"
    direct.put_item(TableName=table, Item=item(key, size=5 * KB, g={"S": index_key}, gs={"N": "1"}))
    # When it is read consistently, eventually, and through its index
    for consistent in (True, False):
        client.get_item(TableName=table, Key={"pk": {"S": key}, "sk": {"S": "S"}}, ConsistentRead=consistent)
    client.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": index_key}},
    )
    # Then a started 4 KB is a unit (a consistent read 2, an eventual one 1, the index query 1)
    reads = {(entry["table"], entry["index"]): entry["rru"] for entry in proxy.stats()["reads"]}
    assert reads == {(table, None): 3, (table, "gsi1"): 1}
    assert proxy.stats()["operations"]["GetItem"]["throttled"] == 0
