"""Token buckets per partition key and per table / index, and what they were charged.

A group of item writes (one request, or one item of a batch) is admitted whole or not at all: every bucket it
touches must hold its units (a request larger than a bucket passes when the bucket is full, and overdraws it).
The counters say, per table and index and per key: units charged, requests throttled, units refused (what
each operation was charged is counted by counters.py).
"""

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from couponmint_dev.local.partition_model.charges import Charge
from couponmint_dev.local.partition_model.limits import ModelLimits


class _Meter:
    """A token bucket and what it was charged."""

    __slots__ = ("throttled_requests", "throttled_wcu", "tokens", "updated", "wcu")

    def __init__(self, capacity: float, now: float) -> None:
        self.tokens = capacity
        self.updated = now
        self.wcu = 0
        self.throttled_requests = 0
        self.throttled_wcu = 0

    def refill(self, rate: float, capacity: float, now: float) -> None:
        self.tokens = min(capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now

    def fits(self, units: int, capacity: float) -> bool:
        # A request larger than the bucket passes when the bucket is full, and overdraws it.
        return self.tokens >= units or self.tokens >= capacity - 1e-9


# (table, index or None, partition key) and (table, index or None)
KeyId = tuple[str, str | None, str]
ResourceId = tuple[str, str | None]


@dataclass(frozen=True)
class Admission:
    """What the model decided for a group of item writes (all admitted, or none)."""

    admitted: bool
    # Positions (in the group) of the writes charged to a bucket that ran out.
    throttled_items: frozenset[int] = frozenset()
    # The buckets that ran out: (table, index or None, key or None for the table's total).
    exhausted: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass
class _ResourceTotals:
    meter: _Meter
    untracked_wcu: int = 0
    untracked_keys: int = 0


class ThroughputModel:
    """Token buckets per partition key and per table / index; thread-safe (one lock)."""

    def __init__(self, limits: ModelLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Full buckets, zero counters."""
        with self._lock:
            self._keys: dict[KeyId, _Meter] = {}
            self._resources: dict[ResourceId, _ResourceTotals] = {}
            self._started = self._clock()
            self._prune_at = self.limits.max_tracked_keys

    def admit(self, group: Sequence[Iterable[Charge]]) -> Admission:
        """Charge every write of `group` at once, or none of them when any bucket would be overdrawn."""
        key_rate, table_rate = self.limits.key_rate, self.limits.table_rate
        key_capacity = key_rate * self.limits.burst_seconds
        table_capacity = table_rate * self.limits.burst_seconds
        per_key: dict[KeyId, int] = {}
        per_resource: dict[ResourceId, int] = {}
        items_of_key: dict[KeyId, set[int]] = {}
        items_of_resource: dict[ResourceId, set[int]] = {}
        for position, charges in enumerate(group):
            for charge in charges:
                key_id = (charge.table, charge.index, charge.key)
                resource = (charge.table, charge.index)
                per_key[key_id] = per_key.get(key_id, 0) + charge.units
                per_resource[resource] = per_resource.get(resource, 0) + charge.units
                items_of_key.setdefault(key_id, set()).add(position)
                items_of_resource.setdefault(resource, set()).add(position)
        with self._lock:
            now = self._clock()
            exhausted: list[tuple[str, str | None, str | None]] = []
            throttled_items: set[int] = set()
            key_meters = {}
            for key_id, units in per_key.items():
                meter = self._keys.get(key_id)
                if meter is None:
                    meter = self._keys[key_id] = _Meter(key_capacity, now)
                meter.refill(key_rate, key_capacity, now)
                key_meters[key_id] = meter
                if not meter.fits(units, key_capacity):
                    exhausted.append(key_id)
                    throttled_items |= items_of_key[key_id]
            resource_totals = {}
            for resource, units in per_resource.items():
                totals = self._resources.get(resource)
                if totals is None:
                    totals = self._resources[resource] = _ResourceTotals(_Meter(table_capacity, now))
                totals.meter.refill(table_rate, table_capacity, now)
                resource_totals[resource] = totals
                if not totals.meter.fits(units, table_capacity):
                    exhausted.append((*resource, None))
                    throttled_items |= items_of_resource[resource]
            if exhausted:
                for table, index, key in exhausted:
                    if key is None:
                        meter = resource_totals[(table, index)].meter
                        units = per_resource[(table, index)]
                    else:
                        meter = key_meters[(table, index, key)]
                        units = per_key[(table, index, key)]
                    meter.throttled_requests += 1
                    meter.throttled_wcu += units
                return Admission(False, frozenset(throttled_items), tuple(exhausted))
            for key_id, units in per_key.items():
                meter = key_meters[key_id]
                meter.tokens -= units
                meter.wcu += units
            for resource, units in per_resource.items():
                totals = resource_totals[resource]
                totals.meter.tokens -= units
                totals.meter.wcu += units
            if len(self._keys) > self._prune_at:
                self._prune(now, key_rate, key_capacity)
            return Admission(True)

    def _prune(self, now: float, rate: float, capacity: float) -> None:
        """Fold idle, never-throttled keys into their table's totals (a full bucket is a fresh one)."""
        for key_id, meter in list(self._keys.items()):
            meter.refill(rate, capacity, now)
            if meter.throttled_requests == 0 and meter.tokens >= capacity - 1e-9:
                del self._keys[key_id]
                totals = self._resources[(key_id[0], key_id[1])]
                totals.untracked_wcu += meter.wcu
                totals.untracked_keys += 1
        self._prune_at = max(self.limits.max_tracked_keys, 2 * len(self._keys))

    def stats(self, top: int = 50) -> dict[str, Any]:
        """Counters: per table / index, and the `top` keys by throttled requests then units."""
        with self._lock:
            keys: list[dict[str, Any]] = [
                {
                    "table": table,
                    "index": index,
                    "key": key,
                    "wcu": meter.wcu,
                    "throttled_requests": meter.throttled_requests,
                    "throttled_wcu": meter.throttled_wcu,
                }
                for (table, index, key), meter in self._keys.items()
                if meter.wcu or meter.throttled_requests
            ]
            key_throttles: dict[ResourceId, int] = {}
            key_counts: dict[ResourceId, int] = {}
            for entry in keys:
                resource = (entry["table"], entry["index"])
                key_throttles[resource] = key_throttles.get(resource, 0) + entry["throttled_requests"]
                key_counts[resource] = key_counts.get(resource, 0) + 1
            resources = [
                {
                    "table": table,
                    "index": index,
                    "wcu": totals.meter.wcu,
                    "throttled_requests": totals.meter.throttled_requests,
                    "throttled_wcu": totals.meter.throttled_wcu,
                    "key_throttled_requests": key_throttles.get((table, index), 0),
                    "keys": key_counts.get((table, index), 0) + totals.untracked_keys,
                    "untracked_keys_wcu": totals.untracked_wcu,
                }
                for (table, index), totals in self._resources.items()
            ]
            elapsed = self._clock() - self._started
        keys.sort(key=lambda entry: (-entry["throttled_requests"], -entry["wcu"]))
        return {
            "limits": self.limits.describe(),
            "elapsed_seconds": round(elapsed, 3),
            "resources": resources,
            "keys": keys[:top],
        }
