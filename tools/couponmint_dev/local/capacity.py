"""DynamoDB's write-capacity arithmetic, on items in DynamoDB's wire form (`{"name": {"S": "..."}}`).

What the partition model (`partition_model.py`) charges a write, computed the way AWS documents it:

- An item's size is the sum of its attribute names' and values' lengths: a string is its UTF-8 bytes, a
  number about one byte per two significant digits plus one, a binary its raw bytes, a Boolean or null one
  byte, a list or map 3 bytes plus its elements, each element one byte more (AWS, "DynamoDB item sizes and
  formats", docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
- A write costs one unit per started KB of the item (1,024 bytes, at least one unit); a transactional write
  two units per KB. PutItem over an existing item and UpdateItem are charged on the larger of the item
  before and after; DeleteItem on the deleted item; each item of a BatchWriteItem is rounded up on its own
  (AWS, "DynamoDB read and write operations", developerguide/read-write-operations.html, and "How AWS Pricing
  Works — Amazon DynamoDB", whitepapers/latest/how-aws-pricing-works/amazon-dynamodb.html).
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

UpdateItem's "after" image is computed by applying the update expression to the item before (`apply_update`:
SET with `+`, `-`, `if_not_exists` and `list_append`, REMOVE, ADD, DELETE, on nested paths too); an
expression it cannot evaluate leaves the item as it was, which undercharges at most that one write.
"""

import base64
import copy
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

Item = dict[str, Any]
KB = 1024


# ---------------------------------------------------------------------------------------- sizes
def number_size(text: str) -> int:
    """Bytes of a number: one per two significant digits (leading and trailing zeros trimmed), plus one."""
    try:
        digits = Decimal(text).normalize().as_tuple().digits
    except InvalidOperation:
        digits = tuple(ch for ch in text if ch.isdigit())  # type: ignore[misc]
    significant = len(digits) or 1
    return math.ceil(significant / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in wire form (without its name)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return len(_raw_bytes(content))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(element.encode("utf-8")) for element in content)
    if kind == "NS":
        return sum(number_size(element) for element in content)
    if kind == "BS":
        return sum(len(_raw_bytes(element)) for element in content)
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode("utf-8")) + value_size(element) + 1 for name, element in content.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def _raw_bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else base64.b64decode(content)


def item_size(item: Mapping[str, Any] | None) -> int:
    """Bytes of an item: each attribute's name (UTF-8) plus its value."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> int:
    """Write units of one item write: one per started KB (at least one), twice that in a transaction."""
    units = max(1, math.ceil(size / KB))
    return units * 2 if transactional else units


# ---------------------------------------------------------------------------------------- schema
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


# ---------------------------------------------------------------------------------------- UpdateItem
class UpdateNotEvaluated(ValueError):
    """The update expression uses something `apply_update` does not evaluate."""


_TOKEN = re.compile(r"\s*(?:(?P<value>:[A-Za-z0-9_]+)|(?P<name>#?[A-Za-z0-9_]+)|(?P<punct>[.\[\],=+\-()]))")
_CLAUSES = {"SET", "REMOVE", "ADD", "DELETE"}


def apply_update(
    item: Mapping[str, Any] | None,
    key: Mapping[str, Any],
    expression: str | None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Item:
    """The item after an UpdateItem (an update creates the item when it does not exist yet).

    Raises UpdateNotEvaluated for syntax it does not know; the caller then keeps the item as it was.
    """
    result: Item = copy.deepcopy(dict(item)) if item else dict(key)
    if not expression:
        return result
    parser = _UpdateParser(expression, names or {}, values or {})
    for clause, action in parser.actions():
        if clause == "SET":
            path, operand = action
            _assign(result, path, parser.evaluate(operand, result))
        elif clause == "REMOVE":
            _remove(result, action)
        elif clause == "ADD":
            path, value = action
            _add(result, path, value)
        else:  # DELETE
            path, value = action
            _delete_from_set(result, path, value)
    return result


Path = list[str | int]


class _UpdateParser:
    """A small recursive-descent parser for UpdateExpression (its grammar as AWS documents it)."""

    def __init__(self, expression: str, names: Mapping[str, str], values: Mapping[str, Any]) -> None:
        self.tokens = self._tokenize(expression)
        self.position = 0
        self.names, self.values = names, values

    @staticmethod
    def _tokenize(expression: str) -> list[str]:
        tokens, position = [], 0
        while position < len(expression):
            match = _TOKEN.match(expression, position)
            if match is None or match.end() == position:
                if expression[position:].strip() == "":
                    break
                raise UpdateNotEvaluated(f"cannot read {expression[position:]!r}")
            tokens.append(match.group(match.lastgroup or "punct"))
            position = match.end()
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self) -> str:
        token = self._peek()
        if token is None:
            raise UpdateNotEvaluated("unexpected end of the update expression")
        self.position += 1
        return token

    def _expect(self, token: str) -> None:
        if self._next() != token:
            raise UpdateNotEvaluated(f"expected {token!r}")

    def actions(self) -> Iterator[tuple[str, Any]]:
        while self._peek() is not None:
            clause = self._next().upper()
            if clause not in _CLAUSES:
                raise UpdateNotEvaluated(f"unknown clause {clause!r}")
            while True:
                if clause == "SET":
                    path = self._path()
                    self._expect("=")
                    yield clause, (path, self._operand_expression())
                elif clause == "REMOVE":
                    yield clause, self._path()
                else:
                    yield clause, (self._path(), self._value())
                if self._peek() != ",":
                    break
                self._next()

    def _path(self) -> Path:
        path: Path = [self._name(self._next())]
        while self._peek() in (".", "["):
            if self._next() == ".":
                path.append(self._name(self._next()))
            else:
                path.append(int(self._next()))
                self._expect("]")
        return path

    def _name(self, token: str) -> str:
        if token.startswith("#"):
            if token not in self.names:
                raise UpdateNotEvaluated(f"{token} is not in ExpressionAttributeNames")
            return self.names[token]
        return token

    def _value(self) -> Any:
        token = self._next()
        if not token.startswith(":") or token not in self.values:
            raise UpdateNotEvaluated(f"expected a value, found {token!r}")
        return self.values[token]

    # An operand expression is kept as a small tree and evaluated against the item as it is at that point.
    def _operand_expression(self) -> tuple[Any, ...]:
        left = self._operand()
        if self._peek() in ("+", "-"):
            operator = self._next()
            return ("arith", operator, left, self._operand())
        return left

    def _operand(self) -> tuple[Any, ...]:
        token = self._peek()
        if token is None:
            raise UpdateNotEvaluated("missing operand")
        if token.startswith(":"):
            return ("value", self._value())
        lowered = token.lower()
        if lowered in ("if_not_exists", "list_append") and self.tokens[self.position + 1 : self.position + 2] == ["("]:
            self._next()
            self._expect("(")
            if lowered == "if_not_exists":
                path = self._path()
                self._expect(",")
                fallback = self._operand()
                self._expect(")")
                return ("if_not_exists", path, fallback)
            first = self._operand()
            self._expect(",")
            second = self._operand()
            self._expect(")")
            return ("list_append", first, second)
        return ("path", self._path())

    def evaluate(self, operand: tuple[Any, ...], item: Item) -> Any:
        kind = operand[0]
        if kind == "value":
            return operand[1]
        if kind == "path":
            found = _resolve(item, operand[1])
            if found is None:
                raise UpdateNotEvaluated("the update reads an attribute the item does not have")
            return found
        if kind == "if_not_exists":
            found = _resolve(item, operand[1])
            return found if found is not None else self.evaluate(operand[2], item)
        if kind == "list_append":
            first, second = self.evaluate(operand[1], item), self.evaluate(operand[2], item)
            return {"L": [*first["L"], *second["L"]]}
        _, operator, left, right = operand
        a, b = Decimal(self.evaluate(left, item)["N"]), Decimal(self.evaluate(right, item)["N"])
        return {"N": _number_text(a + b if operator == "+" else a - b)}


def _number_text(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _resolve(item: Any, path: Path) -> Any:
    """The value at `path` (wire form), or None."""
    current: Any = {"M": item}
    for step in path:
        if isinstance(step, int):
            elements = current.get("L") if isinstance(current, dict) else None
            if elements is None or step >= len(elements):
                return None
            current = elements[step]
        else:
            members = current.get("M") if isinstance(current, dict) else None
            if members is None or step not in members:
                return None
            current = members[step]
    return current


def _container(item: Item, path: Path) -> Any:
    """The map's members dict or the list that holds `path`'s last step."""
    parent = _resolve(item, path[:-1]) if len(path) > 1 else {"M": item}
    if parent is None:
        raise UpdateNotEvaluated("the update's path does not exist")
    if isinstance(path[-1], int):
        if "L" not in parent:
            raise UpdateNotEvaluated("an index into something that is not a list")
        return parent["L"]
    if "M" not in parent:
        raise UpdateNotEvaluated("a member of something that is not a map")
    return parent["M"]


def _assign(item: Item, path: Path, value: Any) -> None:
    container, last = _container(item, path), path[-1]
    if isinstance(last, int):
        if last < len(container):
            container[last] = copy.deepcopy(value)
        else:
            container.append(copy.deepcopy(value))
    else:
        container[last] = copy.deepcopy(value)


def _remove(item: Item, path: Path) -> None:
    try:
        container = _container(item, path)
    except UpdateNotEvaluated:
        return  # removing what is not there changes nothing
    last = path[-1]
    if isinstance(last, int):
        if last < len(container):
            del container[last]
    else:
        container.pop(last, None)


_SET_KINDS = ("SS", "NS", "BS")


def _add(item: Item, path: Path, value: Mapping[str, Any]) -> None:
    current = _resolve(item, path)
    if "N" in value:
        base = Decimal(current["N"]) if current and "N" in current else Decimal(0)
        _assign(item, path, {"N": _number_text(base + Decimal(value["N"]))})
        return
    kind = next((k for k in _SET_KINDS if k in value), None)
    if kind is None:
        raise UpdateNotEvaluated("ADD takes a number or a set")
    merged = list(current[kind]) if current and kind in current else []
    merged += [element for element in value[kind] if element not in merged]
    _assign(item, path, {kind: merged})


def _delete_from_set(item: Item, path: Path, value: Mapping[str, Any]) -> None:
    current = _resolve(item, path)
    kind = next((k for k in _SET_KINDS if k in value), None)
    if current is None or kind is None or kind not in current:
        return
    remaining = [element for element in current[kind] if element not in value[kind]]
    if remaining:
        _assign(item, path, {kind: remaining})
    else:
        _remove(item, path)
