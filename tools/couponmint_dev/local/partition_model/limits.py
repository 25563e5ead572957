"""The model's limits: AWS's numbers, the scale the model runs them at, and the setting that turns it on.

- per partition key: AWS's 1,000 write units a second per partition ("each partition on the table can serve
  up to 3,000 read request units or 1,000 write request units"; the same for a GSI's partitions). One key's
  item collection is one partition; the model gives every key its own partition (optimistic for many small
  keys, exact for one hot key) and does not split a hot key for heat (adaptive capacity) over time.
- per table, and per global secondary index: a new on-demand table's 4,000 write request units a second
  (its warm throughput), or the warm throughput one sets (`table_wru`, e.g. 40,000 pre-warmed). Growth
  past it (doubling the previous peak within 30 minutes) is not modelled.
- burst: each bucket holds `burst_seconds` (default 1 s) of its rate. AWS keeps up to 300 s of unused
  capacity for provisioned tables ("burst capacity") and documents no such reserve for on-demand partitions.

Sources: AWS Knowledge Center, "Why is my on-demand DynamoDB table being throttled?"
(repost.aws/knowledge-center/on-demand-table-throttling-dynamodb) and "Understanding DynamoDB warm throughput in
different scenarios" (developerguide/warm-throughput-scenarios.html): 1,000 WRU / 3,000 RRU a second per
partition, a new on-demand table at 4,000 write and 12,000 read units a second, doubling its previous peak in
30 minutes. AWS, "DynamoDB burst and adaptive capacity" (developerguide/burst-adaptive-capacity.html): 300 s of
burst for provisioned capacity.
"""

from dataclasses import dataclass
from typing import Any

# AWS's numbers; the model runs at `scale` times these.
AWS_PARTITION_WCU = 1_000
AWS_ON_DEMAND_START_WRU = 4_000
DEFAULT_SCALE = 0.1
DEFAULT_BURST_SECONDS = 1.0

_OFF = frozenset({"", "0", "off", "false", "no"})
_ON = frozenset({"on", "true", "yes"})


@dataclass(frozen=True)
class ModelLimits:
    """The model's limits: AWS's numbers and the scale they run at (`key_rate`, `table_rate` per second)."""

    scale: float = DEFAULT_SCALE
    # AWS's write units a second per partition (table or index).
    key_wcu: float = AWS_PARTITION_WCU
    # The table's (and each index's) write request units a second: a new on-demand table's, or a warm throughput.
    table_wru: float = AWS_ON_DEMAND_START_WRU
    # How many seconds of its rate a bucket holds.
    burst_seconds: float = DEFAULT_BURST_SECONDS
    # Keys whose bucket is full and never throttled are folded into their table's totals past this many.
    max_tracked_keys: int = 50_000

    def __post_init__(self) -> None:
        if self.scale <= 0 or self.key_wcu <= 0 or self.table_wru <= 0 or self.burst_seconds <= 0:
            raise ValueError("the model's scale, limits and burst must be positive")

    @property
    def key_rate(self) -> float:
        return self.key_wcu * self.scale

    @property
    def table_rate(self) -> float:
        return self.table_wru * self.scale

    def describe(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "aws_key_wcu_per_second": self.key_wcu,
            "aws_table_wru_per_second": self.table_wru,
            "key_wcu_per_second": self.key_rate,
            "table_wru_per_second": self.table_rate,
            "burst_seconds": self.burst_seconds,
        }


def limits_from(setting: str | None, table_wru: float | None = None) -> ModelLimits | None:
    """The model's limits from a setting: unset or "off" → no model; "on" → the default scale; a number → that
    scale (1 runs at AWS's own numbers). `table_wru` (AWS units a second) stands for a warm throughput."""
    if setting is None or setting.strip().lower() in _OFF:
        return None
    text = setting.strip().lower()
    scale = DEFAULT_SCALE if text in _ON else float(text)
    return ModelLimits(scale=scale, table_wru=table_wru or AWS_ON_DEMAND_START_WRU)
