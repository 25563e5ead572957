"""The partition model in front of DynamoDB Local: writes charged per partition key, throttled as DynamoDB does.

The model (couponmint_dev.local.partition_model) runs at 1/10 of AWS's limits here: 100 write units a second
per partition key, 400 per table (a new on-demand table's 4,000), one second of burst. The tests use a table of
their own and a boto3 client that does not retry, so each throttle is seen as DynamoDB sends it.
"""

import time
import uuid
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from couponmint_dev.local.partition_model import (
    INDEX_THROTTLED_MESSAGE,
    TABLE_THROTTLED_MESSAGE,
    ModelLimits,
    PartitionModelProxy,
    hottest_keys,
    throttled_requests,
)
from couponmint_dev.local.partition_model.update_expression import apply_update
from tests.integration.partition_model_support import KB, item, put_all, stored


# ---------------------------------------------------------------------------------------- the model
def test_a_burst_on_one_key_is_throttled_with_dynamodbs_error_and_nothing_is_written(
    client: Any, direct: Any, table: str, proxy: PartitionModelProxy
) -> None:
    # Given 30 items of ~39.5 KB (40 units each) under one partition key: 1,200 units, the key takes 100 a second
    key = f"hot-{uuid.uuid4().hex[:6]}"
    items = [item(key, f"s{i}", size=int(39.5 * KB)) for i in range(30)]
    # When they are written as fast as the client goes
    errors = put_all(client, table, items)
    # Then DynamoDB's on-demand throttling error comes back, as boto3 sees it
    assert len(errors) >= 20
    error = errors[0].response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["Error"]["Message"] == TABLE_THROTTLED_MESSAGE
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    # And the throttled writes were not made
    written = sum(stored(direct, table, key, f"s{i}") for i in range(30))
    assert written == 30 - len(errors)
    # And the model says where: the table's key, not its total
    stats = proxy.stats()
    (hot,) = hottest_keys(stats, table=table, n=1)
    assert (hot.index, hot.key, hot.throttled_requests, hot.wcu) == (None, key, len(errors), written * 40)
    assert throttled_requests(stats, table=table) == len(errors)


def test_the_same_rate_spread_over_many_keys_is_not_throttled(
    client: Any, table: str, proxy: PartitionModelProxy
) -> None:
    items = [item(f"k-{uuid.uuid4().hex[:8]}", size=int(9.5 * KB)) for _ in range(30)]
    assert put_all(client, table, items) == []
    assert throttled_requests(proxy.stats()) == 0


def test_the_table_total_caps_the_sum_of_its_keys(client: Any, table: str, proxy: PartitionModelProxy) -> None:
    # 30 keys x 40 units = 1,200 units in about half a second, against the table's 400 a second; each key's 40
    # units are well inside its own 100
    started = time.monotonic()
    items = [item(f"t-{uuid.uuid4().hex[:8]}", size=int(39.5 * KB)) for _ in range(30)]
    errors = put_all(client, table, items)
    elapsed = time.monotonic() - started
    assert errors and {e.response["Error"]["Code"] for e in errors} == {"ThrottlingException"}
    (totals,) = [r for r in proxy.stats()["resources"] if r["table"] == table and r["index"] is None]
    assert totals["throttled_requests"] == len(errors) and totals["key_throttled_requests"] == 0
    assert totals["wcu"] == 40 * (30 - len(errors)) <= 400 + 400 * elapsed + 40  # a second's worth, and the refill


def test_a_throttled_transaction_is_cancelled_with_throttling_error_and_writes_nothing(
    client: Any, direct: Any, table: str
) -> None:
    # Given a key whose second's worth of units is spent
    key = f"tx-{uuid.uuid4().hex[:6]}"
    client.put_item(TableName=table, Item=item(key, "big", size=150 * KB))  # 150 units: overdrawn for 0.5 s
    other = f"tx-other-{uuid.uuid4().hex[:6]}"
    # When a transaction writes one item elsewhere and one under that key
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": item(other)}},
                {"Put": {"TableName": table, "Item": item(key, "small")}},
            ]
        )
    # Then it is cancelled, the throttled action named by a ThrottlingError reason
    answer = raised.value.response
    assert answer["Error"]["Code"] == "TransactionCanceledException"
    assert answer["Error"]["Message"].endswith("[None, ThrottlingError]")
    assert answer["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ThrottlingError", "Message": TABLE_THROTTLED_MESSAGE},
    ]
    # And nothing of it was written
    assert not stored(direct, table, other) and not stored(direct, table, key, "small")


def test_index_entries_are_charged_on_the_index_key(
    client: Any, direct: Any, table: str, proxy: PartitionModelProxy
) -> None:
    # Given a table warm enough that only keys can throttle
    proxy.reset(ModelLimits(table_wru=40_000))
    # And 150 items of 3 units with distinct table keys but one index key: 450 units on the index key at once
    index_key = f"PROMO-{uuid.uuid4().hex[:6]}"
    items = [item(f"c-{uuid.uuid4().hex}", size=2500, g={"S": index_key}, gs={"N": str(i)}) for i in range(150)]
    unprocessed: list[Any] = []
    batch_errors = []
    started = time.monotonic()
    for start in range(0, 150, 25):
        writes = [{"PutRequest": {"Item": entry}} for entry in items[start : start + 25]]
        try:
            answer = client.batch_write_item(RequestItems={table: writes})
        except ClientError as error:  # none of the batch's items fit: the whole batch is an error
            batch_errors.append(error.response["Error"]["Code"])
            unprocessed += writes
            continue
        unprocessed += answer.get("UnprocessedItems", {}).get(table, [])
    assert set(batch_errors) <= {"ThrottlingException"}
    # And a single write under that index key right after is throttled by the index (GSI back-pressure)
    with pytest.raises(ClientError) as raised:
        big = item(f"c-{uuid.uuid4().hex}", size=50 * KB, g={"S": index_key}, gs={"N": "999"})
        client.put_item(TableName=table, Item=big)
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert raised.value.response["Error"]["Message"] == INDEX_THROTTLED_MESSAGE
    # Then the batch writes came back partly unprocessed (a batch's throttled items are returned, not failed)
    # (at most a second's worth and the refill got through, however slow the machine is)
    elapsed = time.monotonic() - started
    assert unprocessed and 3 * (150 - len(unprocessed)) <= 100 + 100 * elapsed + 3
    assert not any(stored(direct, table, w["PutRequest"]["Item"]["pk"]["S"]) for w in unprocessed)
    # And the model charged the index key, not the items' own keys
    stats = proxy.stats()
    (hot,) = hottest_keys(stats, n=1)
    assert (hot.table, hot.index, hot.key) == (table, "gsi1", index_key)
    # (a batch of which nothing fit counts its 25 items as throttled requests, each checked on its own)
    assert hot.throttled_requests == len(unprocessed) + 1 and hot.wcu == 3 * (150 - len(unprocessed))
    assert throttled_requests(stats, index=None) == 0


def test_a_batch_none_of_whose_items_fit_is_a_throttling_error(client: Any, table: str) -> None:
    key = f"b-{uuid.uuid4().hex[:6]}"
    client.put_item(TableName=table, Item=item(key, "big", size=150 * KB))
    with pytest.raises(ClientError) as raised:
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item(key, f"s{i}")}} for i in range(3)]})
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"


def test_updates_are_charged_on_the_larger_image_and_index_key_moves_on_both_keys(
    client: Any, direct: Any, table: str, proxy: PartitionModelProxy
) -> None:
    key = f"u-{uuid.uuid4().hex[:6]}"
    client.put_item(TableName=table, Item=item(key, size=3 * KB, g={"S": "A"}, gs={"N": "1"}))
    proxy.reset(ModelLimits())
    # An update that shrinks the item and moves its index entry from A to B
    client.update_item(
        TableName=table,
        Key={"pk": {"S": key}, "sk": {"S": "S"}},
        UpdateExpression="SET g = :b REMOVE #d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":b": {"S": "B"}},
    )
    charged = {(k["index"], k["key"]): k["wcu"] for k in proxy.stats()["keys"]}
    # 3 units on the table key (the larger image), 3 to delete the entry under A, 1 to put the small one under B
    assert charged == {(None, key): 3, ("gsi1", "A"): 3, ("gsi1", "B"): 1}


@pytest.mark.parametrize(
    ("expression", "names", "values"),
    [
        ("SET n = n + :one, started = if_not_exists(started, :t)", None, {":one": {"N": "1"}, ":t": {"S": "t0"}}),
        ("SET l = list_append(l, :more) REMOVE gone", None, {":more": {"L": [{"S": "b"}]}}),
        ("SET m.#h = :e ADD #t :n, tags :c DELETE more :a", {"#h": "h2", "#t": "total"}, None),
    ],
)
def test_the_models_update_images_match_dynamodb_locals(
    direct: Any, table: str, expression: str, names: dict[str, str] | None, values: dict[str, Any] | None
) -> None:
    key = {"pk": {"S": f"img-{uuid.uuid4().hex[:6]}"}, "sk": {"S": "S"}}
    before = {
        **key,
        "n": {"N": "41"},
        "l": {"L": [{"S": "a"}]},
        "gone": {"S": "x"},
        "m": {"M": {"h1": {"N": "1"}}},
        "tags": {"SS": ["a", "b"]},
        "more": {"SS": ["a", "z"]},
    }
    values = values or {":e": {"N": "20"}, ":n": {"N": "3"}, ":c": {"SS": ["c"]}, ":a": {"SS": ["a"]}}
    direct.put_item(TableName=table, Item=before)
    request: dict[str, Any] = {"UpdateExpression": expression, "ExpressionAttributeValues": values}
    if names:
        request["ExpressionAttributeNames"] = names
    actual = direct.update_item(TableName=table, Key=key, ReturnValues="ALL_NEW", **request)["Attributes"]
    predicted = apply_update(before, key, expression, names, values)
    assert sets_sorted(predicted) == sets_sorted(actual)


def sets_sorted(image: dict[str, Any]) -> dict[str, Any]:
    return {name: ({"SS": sorted(value["SS"])} if "SS" in value else value) for name, value in image.items()}


def test_reads_pass_through_and_stats_are_served_over_http(client: Any, table: str, proxy: PartitionModelProxy) -> None:
    key = f"r-{uuid.uuid4().hex[:6]}"
    client.put_item(TableName=table, Item=item(key))
    assert client.get_item(TableName=table, Key={"pk": {"S": key}, "sk": {"S": "S"}})["Item"]["pk"]["S"] == key
    assert client.describe_table(TableName=table)["Table"]["TableName"] == table
    stats = requests.get(f"{proxy.url}/_model/stats", timeout=5).json()
    assert stats["limits"]["scale"] == 0.1 and stats["limits"]["key_wcu_per_second"] == 100
    assert stats["operations"]["PutItem"] == {
        "requests": 1,
        "throttled": 0,
        "items": 1,
        "throttled_items": 0,
        "wcu": 1,
        "rru": 0,
        "unmodelled": 0,
    }
    # Reads are counted (an eventually consistent read of a small item is half a unit), never throttled
    assert stats["operations"]["GetItem"]["rru"] == 0.5 and stats["operations"]["GetItem"]["throttled"] == 0
    assert requests.post(f"{proxy.url}/_model/reset", timeout=5).json() == {"reset": True}
    assert proxy.stats()["operations"] == {}
