"""A per-process memory of values that may go stale: each is kept for a fixed time, then read again."""

from dataclasses import dataclass, field


@dataclass
class ExpiringCache[Key, Value]:
    """Values kept `seconds` after they were put; at most `size` of them (all are forgotten when full)."""

    seconds: float
    size: int = 1000
    _entries: dict[Key, tuple[float, Value]] = field(default_factory=dict)

    def get(self, key: Key, now: float) -> Value | None:
        """The value put for `key` less than `seconds` before `now`, if any."""
        entry = self._entries.get(key)
        return entry[1] if entry and entry[0] > now else None

    def put(self, key: Key, value: Value, now: float) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (now + self.seconds, value)

    def forget(self, key: Key) -> None:
        self._entries.pop(key, None)
