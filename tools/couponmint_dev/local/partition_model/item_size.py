"""DynamoDB's size and unit arithmetic, on items in DynamoDB's wire form (`{"name": {"S": "..."}}`).

- An item's size is the sum of its attribute names' and values' lengths: a string is its UTF-8 bytes, a
  number about one byte per two significant digits plus one, a binary its raw bytes, a Boolean or null one
  byte, a list or map 3 bytes plus its elements, each element one byte more (AWS, "DynamoDB item sizes and
  formats", docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
- A write costs one unit per started KB of the item (1,024 bytes, at least one unit); a transactional write
  two units per KB. A strongly consistent read costs one unit per started 4 KB, an eventually consistent read
  half that, a transactional read twice (AWS, "DynamoDB read and write operations",
  developerguide/read-write-operations.html, and "How AWS Pricing Works — Amazon DynamoDB",
  whitepapers/latest/how-aws-pricing-works/amazon-dynamodb.html).
"""

import base64
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

Item = dict[str, Any]
KB = 1024
READ_UNIT_BYTES = 4 * KB


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


def read_units(size: int, *, consistent: bool = True, transactional: bool = False) -> float:
    """Read units of one item read (or one Query's items): one per started 4 KB (at least one); an eventually
    consistent read half that, a transactional read twice."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return float(units * 2)
    return float(units) if consistent else units / 2
