"""Webhooks, and the events already fanned out to them.

Items: `STORE#<store>` / `HOOK#<id, 12 digits>` (one query lists a store's hooks; ids from the store's
`COUNTER#hook`), and `EVENT#<event id>` / `EVENT`, written once an event's deliveries are sent, expiring
after a week.
"""

import time
from typing import Any

from couponmint.adapters.dynamo import Table, plain
from couponmint.adapters.keys import HOOK_SK_PREFIX, counter_key, event_key, hook_key, store_pk, without_keys
from couponmint.models.hooks import HookRecord

# An event published again later than this (it never is, in practice) would be fanned out again.
EVENT_MEMORY_SECONDS = 7 * 24 * 3600


class HookRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def next_id(self, store_hash: str) -> int:
        answer = self._table.resource.update_item(
            Key=counter_key(store_hash, "hook"),
            UpdateExpression="ADD #v :one",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["value"])

    def put(self, hook: HookRecord) -> None:
        """Store a hook, new or replacing the one of its id."""
        self._table.resource.put_item(Item={**hook_key(hook.store_hash, hook.hook_id), **hook.model_dump()})

    def get(self, store_hash: str, hook_id: int) -> HookRecord | None:
        item = self._table.get(hook_key(store_hash, hook_id), consistent=True)
        return _record(item) if item else None

    def of_store(self, store_hash: str) -> list[HookRecord]:
        """A store's hooks by id (one query)."""
        items = self._table.query_items(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": store_pk(store_hash), ":prefix": HOOK_SK_PREFIX},
        )
        return [_record(item) for item in items]

    def delete(self, store_hash: str, hook_id: int) -> None:
        self._table.resource.delete_item(Key=hook_key(store_hash, hook_id))

    def fanned_out(self, event_id: str) -> bool:
        return self._table.get(event_key(event_id), consistent=True) is not None

    def mark_fanned_out(self, event_id: str) -> None:
        self._table.resource.put_item(
            Item={**event_key(event_id), "expires_at": int(time.time()) + EVENT_MEMORY_SECONDS}
        )


def _record(item: dict[str, Any]) -> HookRecord:
    return HookRecord.model_validate(plain(without_keys(item)))
