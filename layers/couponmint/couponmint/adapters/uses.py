"""How many times a code was used: on the code's item when it has a `max_uses`, in use shards when it has none.

A code with a `max_uses` must count every redemption on one item: the limit is a condition on that counter, in
the same transaction as the redemption (adapters/redemptions.py). Its redemptions are serialised on that item,
which is the price of an exact limit.

A code without one (0 = unlimited, a "WELCOME10" printed on a flyer) has nothing to enforce, so its item is not
written at all when it is redeemed: the redemption's own conditional put decides "once per order", and the use
is counted, in the same transaction, in one of `USE_SHARDS` counter items picked at random. On DynamoDB, two
transactions that touch the same item at once conflict (one is cancelled with `TransactionConflict`), and one
partition key takes about 1,000 write units a second (a transactional write costs two): one counter item would
make every checkout of a hot code wait for the others, and cancel most of them. Spread over 16 items (16
partition keys), concurrent redemptions rarely meet, and the one that does is retried. The count stays exact:
each use is counted in the transaction that records it, and given back in the one that rolls it back.

Reading sums the shards, which costs a read of up to 16 small items. Only codes that were redeemed while
unlimited have shards: such a code's item carries `use_shards` (the number of shards, written once, before its
first sharded count, so a reader that sees shards written also sees the marker), and a code without the marker
costs no extra read.
"""

import random
from collections.abc import Sequence
from typing import Any

from couponmint.adapters.dynamo import Table, plain
from couponmint.adapters.keys import Key, code_key, use_shard_key, without_keys
from couponmint.models.records import CodeRecord

USE_SHARDS = 16


def shard_keys(store_hash: str, code_id: int, shards: int) -> list[Key]:
    return [use_shard_key(store_hash, code_id, shard) for shard in range(shards)]


def pick_shard(shards: int = USE_SHARDS) -> int:
    """Any shard will do: the redemption remembers which, so that its rollback gives back the same one."""
    return random.randrange(shards)


def code_record(item: dict[str, Any]) -> CodeRecord:
    """A code's item as its record, its uses as its item counts them (without its shards)."""
    return CodeRecord.model_validate(plain(without_keys(item)))


def total(shards: Sequence[dict[str, Any]]) -> int:
    return sum(int(shard.get("uses", 0)) for shard in shards)


class UseCounts:
    def __init__(self, table: Table) -> None:
        self._table = table

    def counted(self, store_hash: str, items: Sequence[dict[str, Any]]) -> list[CodeRecord]:
        """Code items as records whose `current_uses` include their shards (one read for all that have any)."""
        records = [code_record(item) for item in items]
        sharded = [record for record in records if record.use_shards]
        if not sharded:
            return records
        keys = [key for r in sharded for key in shard_keys(store_hash, r.id, r.use_shards or 0)]
        owner = {key["pk"]: r.id for r in sharded for key in shard_keys(store_hash, r.id, r.use_shards or 0)}
        sums: dict[int, int] = {}
        for shard in self._table.get_many(keys, ConsistentRead=True):
            code_id = owner[shard["pk"]]
            sums[code_id] = sums.get(code_id, 0) + total([shard])
        return [
            record.model_copy(update={"current_uses": record.current_uses + sums[record.id]})
            if record.id in sums
            else record
            for record in records
        ]

    def spread(self, code: CodeRecord, shards: int = USE_SHARDS) -> bool:
        """Mark an unlimited code as counted in `shards` shards (idempotent); False when the code is gone."""
        return self._table.update_if(
            code_key(code.store_hash, code.code),
            UpdateExpression="SET use_shards = :shards",
            ConditionExpression="attribute_exists(pk) AND id = :id",
            ExpressionAttributeValues={":shards": shards, ":id": code.id},
        )
