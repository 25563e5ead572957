"""What each operation was charged: requests, throttled requests, items or statements, write and read units, and
writes the model could not read (unmodelled: forwarded uncharged, and counted so they are never silent).

Requests that carry an `X-Model-Tag` header are also counted under that tag (the benchmark tags a job's calls by
the message they serve: its start, one of its batches, its assembly). Reads are counted, never throttled.
"""

import threading
from collections.abc import Mapping
from typing import Any

COUNTERS = ("requests", "throttled", "items", "throttled_items", "wcu", "rru", "unmodelled")


class RequestCounters:
    """Counters per operation, per tag and operation, and read units per table / index; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._operations: dict[str, dict[str, float]] = {}
            self._tags: dict[str, dict[str, dict[str, float]]] = {}
            self._reads: dict[tuple[str, str | None], dict[str, float]] = {}

    def count(self, operation: str, tag: str | None = None, *, requests: int = 1, **counts: float) -> None:
        """Add one request (`requests`) and `counts` (of COUNTERS) to `operation`, and to `tag`'s when given."""
        unknown = set(counts) - set(COUNTERS)
        if unknown:
            raise ValueError(f"unknown counters {sorted(unknown)}")
        with self._lock:
            targets = [self._operations.setdefault(operation, dict.fromkeys(COUNTERS, 0))]
            if tag:
                targets.append(self._tags.setdefault(tag, {}).setdefault(operation, dict.fromkeys(COUNTERS, 0)))
            for counters in targets:
                counters["requests"] += requests
                for name, value in counts.items():
                    counters[name] += value

    def count_reads(self, table: str, index: str | None, units: float) -> None:
        with self._lock:
            reads = self._reads.setdefault((table, index), {"requests": 0, "rru": 0})
            reads["requests"] += 1
            reads["rru"] += units

    def stats(self) -> dict[str, Any]:
        with self._lock:
            operations = {name: _rounded(counters) for name, counters in self._operations.items()}
            tags = {
                tag: {name: _rounded(counters) for name, counters in by_operation.items()}
                for tag, by_operation in self._tags.items()
            }
            reads = [
                {"table": table, "index": index, **_rounded(counters)}
                for (table, index), counters in self._reads.items()
            ]
        return {
            "operations": operations,
            "tags": tags,
            "reads": reads,
            "unmodelled": sum(int(counters["unmodelled"]) for counters in operations.values()),
        }


def _rounded(counters: Mapping[str, float]) -> dict[str, float]:
    """Whole numbers as int (read units may be halves)."""
    return {name: int(value) if float(value).is_integer() else round(value, 1) for name, value in counters.items()}
