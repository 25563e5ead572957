"""Reading the model's counters: the hottest keys, and the requests throttled on a table or index."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeyStats:
    table: str
    index: str | None
    key: str
    wcu: int
    throttled_requests: int
    throttled_wcu: int


_ANY = object()


def hottest_keys(
    stats: Mapping[str, Any], *, index: Any = _ANY, table: str | None = None, n: int = 5
) -> list[KeyStats]:
    """The `n` keys with the most throttled requests, then the most units (of `index`: None for the table)."""
    found = [
        KeyStats(**entry)
        for entry in stats["keys"]
        if (index is _ANY or entry["index"] == index) and (table is None or entry["table"] == table)
    ]
    found.sort(key=lambda entry: (-entry.throttled_requests, -entry.wcu))
    return found[:n]


def throttled_requests(stats: Mapping[str, Any], *, index: Any = _ANY, table: str | None = None) -> int:
    """Requests throttled by a key or by the total of `index` (None: the table itself; default: all)."""
    return sum(
        resource["throttled_requests"] + resource["key_throttled_requests"]
        for resource in stats["resources"]
        if (index is _ANY or resource["index"] == index) and (table is None or resource["table"] == table)
    )
