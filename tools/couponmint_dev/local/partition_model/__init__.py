"""A partition model in front of DynamoDB Local: each write is charged its write units per partition key, and
throttled with DynamoDB's own error past the key's (or the table's) limit (docs/partition-model.md).

DynamoDB Local accepts any rate on any key; DynamoDB does not. The model is an HTTP proxy that charges every
write — 1 KB units, transactions x2, every index entry the write puts or removes — to token buckets: one per
(table or index, partition key value) refilled at the per-key limit, and one per table and per index refilled
at the table's throughput, all at a stated `scale` of AWS's numbers. A write that would overdraw a bucket is
answered with the throttling error DynamoDB returns and is not forwarded. With the model off, the proxy is not
in the path at all.

One module per reason to change:
- limits.py: AWS's numbers, the scale, the setting that turns the model on;
- buckets.py: the token buckets and their counters; stats.py: reading the counters;
- item_size.py: item sizes and units; charges.py: table schemas and what a write costs on which key;
- update_expression.py: UpdateItem's after image; charging.py: the charges of a request's item writes;
- writes.py: a request's item writes (the JSON protocol); partiql.py: PartiQL statements as item writes;
- reads.py: a read's units (counted, never throttled); counters.py: what each operation (and tag) was charged;
- errors.py: DynamoDB's answers; upstream.py: the connections to DynamoDB Local;
- proxy.py: charge, then forward or refuse; server.py: the proxy's HTTP server; __main__.py: the proxy alone.

Not modelled (docs/partition-model.md): read limits (reads are counted, not throttled), adaptive capacity and
split for heat, on-demand growth past the table's limit, the per-table account quota (40,000 units a second by
default), partitions shared by several keys, item size limits, provisioned mode.
"""

from couponmint_dev.local.partition_model.errors import INDEX_THROTTLED_MESSAGE, TABLE_THROTTLED_MESSAGE
from couponmint_dev.local.partition_model.limits import (
    AWS_ON_DEMAND_START_WRU,
    AWS_PARTITION_WCU,
    DEFAULT_SCALE,
    ModelLimits,
    limits_from,
)
from couponmint_dev.local.partition_model.proxy import PartitionModelProxy, start_partition_model
from couponmint_dev.local.partition_model.stats import KeyStats, hottest_keys, throttled_requests

__all__ = [
    "AWS_ON_DEMAND_START_WRU",
    "AWS_PARTITION_WCU",
    "DEFAULT_SCALE",
    "INDEX_THROTTLED_MESSAGE",
    "TABLE_THROTTLED_MESSAGE",
    "KeyStats",
    "ModelLimits",
    "PartitionModelProxy",
    "hottest_keys",
    "limits_from",
    "start_partition_model",
    "throttled_requests",
]
