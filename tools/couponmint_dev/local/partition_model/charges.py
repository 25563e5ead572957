"""What a write costs, and on which partition key: the base table's and each global secondary index's.

- A write is charged its write units (item_size.py) on the larger of the item before and after: PutItem over
  an existing item and UpdateItem alike; DeleteItem on the deleted item; each item of a BatchWriteItem is
  rounded up on its own (AWS, "DynamoDB read and write operations", developerguide/read-write-operations.html).
- Every global secondary index the write touches is charged on the index as well, on the index's own
  partition key: one write to put an entry that appears, one to delete an entry that goes away, one to
  update an entry whose projected attributes change, and two (a delete and a put) when the index key
  changes value (AWS, "Global secondary indexes", developerguide/GSI.html#GSI.Writes, as quoted on re:Post
  "dynamodb cost for index writes", repost.aws/questions/QU2yF7CynBThyPzvg4szJAQA). An entry's size is that
  of its projected attributes (all of them for `ALL`, the keys for `KEYS_ONLY`). A local secondary index's
  entries live in the base table's partition, so they are charged on the base table's key.

Assumptions where AWS says nothing precise (stated again in docs/partition-model.md): index entries are
charged at the standard rate even when a transaction writes the item (docs/scaling.md counts them so); a
write that leaves an index entry exactly as it was writes nothing to the index; a `ConditionCheck` in a
transaction writes nothing, so it costs no write units here.
"""

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from couponmint_dev.local.partition_model.item_size import Item, item_size, write_units


@dataclass(frozen=True)
class IndexSchema:
    """A secondary index: its keys and what it projects. `local` indexes share the table's partition key."""

    name: str
    hash_key: str
    range_key: str | None
    projection: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()
    local: bool = False


@dataclass(frozen=True)
class TableSchema:
    """What the model needs of a table: its keys and its indexes (from DescribeTable)."""

    name: str
    hash_key: str
    range_key: str | None
    indexes: tuple[IndexSchema, ...] = ()
    arn: str = ""

    @classmethod
    def from_description(cls, table: Mapping[str, Any]) -> "TableSchema":
        """From DescribeTable's `Table`."""
        hash_key, range_key = _keys(table["KeySchema"])
        indexes = []
        for kind, local in (("GlobalSecondaryIndexes", False), ("LocalSecondaryIndexes", True)):
            for index in table.get(kind) or []:
                index_hash, index_range = _keys(index["KeySchema"])
                projection = index.get("Projection") or {}
                indexes.append(
                    IndexSchema(
                        name=index["IndexName"],
                        hash_key=index_hash,
                        range_key=index_range,
                        projection=projection.get("ProjectionType", "ALL"),
                        non_key_attributes=tuple(projection.get("NonKeyAttributes") or ()),
                        local=local,
                    )
                )
        return cls(table["TableName"], hash_key, range_key, tuple(indexes), table.get("TableArn", ""))

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key, self.range_key) if self.range_key else (self.hash_key,)

    def key_of(self, item: Mapping[str, Any]) -> Item:
        """The item's primary key (its key attributes only)."""
        return {name: item[name] for name in self.key_names}

    def index_entry(self, index: IndexSchema, item: Mapping[str, Any] | None) -> Item | None:
        """The index's entry for `item`, or None when the item is not in the index (sparse indexes)."""
        if not item or index.hash_key not in item or (index.range_key and index.range_key not in item):
            return None
        if index.projection == "ALL":
            return dict(item)
        names = {*self.key_names, index.hash_key, *([index.range_key] if index.range_key else [])}
        if index.projection == "INCLUDE":
            names.update(index.non_key_attributes)
        return {name: value for name, value in item.items() if name in names}


def _keys(key_schema: list[Mapping[str, str]]) -> tuple[str, str | None]:
    hash_key = next(k["AttributeName"] for k in key_schema if k["KeyType"] == "HASH")
    range_key = next((k["AttributeName"] for k in key_schema if k["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def key_text(value: Mapping[str, Any]) -> str:
    """A partition key value as text (the S, N or base64 B content)."""
    ((_, content),) = value.items()
    return content if isinstance(content, str) else base64.b64encode(content).decode()


# ---------------------------------------------------------------------------------------- charges
@dataclass(frozen=True)
class Charge:
    """Write units charged to one partition key of the table (`index` None) or of one of its indexes."""

    table: str
    index: str | None
    key: str
    units: int


@dataclass
class WriteCharges:
    """Everything one item write costs: the base table's charge first, then each index's."""

    charges: list[Charge] = field(default_factory=list)

    def __iter__(self) -> Iterator[Charge]:
        return iter(self.charges)

    @property
    def units(self) -> int:
        return sum(charge.units for charge in self.charges)


def write_charges(
    schema: TableSchema, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *, transactional: bool
) -> WriteCharges:
    """What writing `after` over `before` costs (`before` None: a new item; `after` None: a delete)."""
    image = after if after is not None else before
    if image is None:
        raise ValueError("a write needs the item before or after it")
    table_key = key_text(image[schema.hash_key])
    size = max(item_size(before), item_size(after))
    charges = [Charge(schema.name, None, table_key, write_units(size, transactional=transactional))]
    for index in schema.indexes:
        old, new = schema.index_entry(index, before), schema.index_entry(index, after)
        for key, units in _index_writes(index, old, new):
            if index.local:  # an LSI's entries live in the table's partition (its item collection)
                charges.append(Charge(schema.name, None, table_key, units))
            else:
                charges.append(Charge(schema.name, index.name, key, units))
    return WriteCharges(charges)


def _index_writes(index: IndexSchema, old: Item | None, new: Item | None) -> list[tuple[str, int]]:
    """(index partition key, units) of each write the index takes to go from entry `old` to entry `new`."""
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [(key_text(new[index.hash_key]), write_units(item_size(new)))]
    if new is None:
        return [(key_text(old[index.hash_key]), write_units(item_size(old)))]
    moved = any(old.get(name) != new.get(name) for name in (index.hash_key, index.range_key) if name)
    if moved:  # the entry moves: delete the old one, put the new one
        return [
            (key_text(old[index.hash_key]), write_units(item_size(old))),
            (key_text(new[index.hash_key]), write_units(item_size(new))),
        ]
    if old == new:
        return []
    return [(key_text(new[index.hash_key]), write_units(max(item_size(old), item_size(new))))]
