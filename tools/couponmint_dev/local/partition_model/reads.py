"""The read units of a read request, from its answer: counted per table and index, never throttled.

As AWS documents them ("DynamoDB read and write operations", developerguide/read-write-operations.html): a
strongly consistent read costs a unit per started 4 KB, an eventually consistent one half that, a transactional
one twice; GetItem and each item of BatchGetItem or TransactGetItems are rounded up on their own (a key with no
item still costs the minimum); Query and Scan are rounded up on the total size of the items returned.

Assumption: the size counted is that of what the answer holds. DynamoDB charges the whole item even when a
projection returns a few attributes of it, and a Query's or Scan's filtered-out items too; couponmint's
projections are on small items, so the undercount is small.
"""

from collections.abc import Mapping
from typing import Any

from couponmint_dev.local.partition_model.item_size import item_size, read_units

READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})

# (table, index or None, read units)
ReadCharge = tuple[str, str | None, float]


def read_charges(operation: str, request: Mapping[str, Any], answer: Mapping[str, Any]) -> list[ReadCharge]:
    """What a read request that DynamoDB answered (200) cost, per table and index."""
    if operation == "GetItem":
        consistent = bool(request.get("ConsistentRead"))
        return [(request["TableName"], None, read_units(item_size(answer.get("Item")), consistent=consistent))]
    if operation in ("Query", "Scan"):
        size = sum(item_size(item) for item in answer.get("Items", []))
        units = read_units(size, consistent=bool(request.get("ConsistentRead")))
        return [(request["TableName"], request.get("IndexName"), units)]
    if operation == "BatchGetItem":
        charges: list[ReadCharge] = []
        for table, wanted in request["RequestItems"].items():
            consistent = bool(wanted.get("ConsistentRead"))
            found = answer.get("Responses", {}).get(table, [])
            unprocessed = len((answer.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", []))
            missing = max(0, len(wanted["Keys"]) - unprocessed - len(found))
            units = sum(read_units(item_size(item), consistent=consistent) for item in found)
            charges.append((table, None, units + missing * read_units(0, consistent=consistent)))
        return charges
    if operation == "TransactGetItems":
        items = [response.get("Item") for response in answer.get("Responses", [])]
        gets = [action["Get"] for action in request["TransactItems"]]
        return [
            (get["TableName"], None, read_units(item_size(item), transactional=True))
            for get, item in zip(gets, items, strict=False)
        ]
    return []
