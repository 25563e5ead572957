"""Redemptions: each one a transaction with the limits it is held to, given back by another.

Items (keys.py): the redemption `STORE#<store>#REDEMPTION#<code id>-<order hash>` / `REDEMPTION` (also in gsi1
under its code, newest first); a customer's uses of a code that limits customers; an unlimited code's use shards
(uses.py). A code with a `max_uses` counts its uses on its own item.

Redeeming is one TransactWriteItems, so a refused redemption writes nothing and a granted one writes everything:
- Put the redemption, `attribute_not_exists(pk)`: the same code and order make the same key, so a retry (after a
  timeout, a crash at any point, a client sending twice) finds the first one instead of counting again;
- the code's count, `ADD current_uses 1` if `current_uses < max_uses` (or a use shard's `ADD uses 1` when the
  code is unlimited: see uses.py);
- the customer's count, `ADD uses 1` if `uses < max_uses_per_customer`, when the code limits customers.
The cancellation reasons say which condition failed: the redemption exists (then it is returned, as the items
read back with the cancellation), the code is exhausted or gone, or the customer is at the limit.

A code this process redeemed or read before (a limited one) is redeemed without a read (`redeem_remembered`): the
same transaction, its code's condition also holding the code to what is remembered (its id, promotion, limits,
and its count exactly as last seen, so the answer's count is exact), and a ConditionCheck of its promotion's gate
(gates.py) refusing a promotion disabled or out of its dates. Any cancellation leaves the decision, and the reason,
to the read-first way above; a code found redeemed elsewhere too is read first for a few seconds.

Rolling back is one TransactWriteItems too: the redemption moves `REDEEMED → ROLLED_BACK` (conditional, so only
one of any number of rollbacks gets through) and what it counted is given back. Redeem and rollback of the same
redemption race only through that item's conditions, so the counts always equal the redemptions in REDEEMED.
"""

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from couponmint.adapters.dynamo import PASSING_CANCELLATIONS, Table, cancellation_reasons, plain
from couponmint.adapters.gates import gate_check
from couponmint.adapters.keys import (
    code_key,
    code_redemptions_pk,
    customer_uses_key,
    promotion_key,
    redemption_key,
    without_keys,
)
from couponmint.adapters.promotions import promotion_of
from couponmint.adapters.redemption_items import RedemptionItems
from couponmint.adapters.uses import USE_SHARDS, UseCounts, code_record, pick_shard, shard_keys, total
from couponmint.errors import CodeBusy
from couponmint.logic.expiring import ExpiringCache
from couponmint.logic.redemptions import Reason
from couponmint.models.records import CodeRecord
from couponmint.models.redemptions import CodeState, RedeemOutcome, RedemptionRecord, RedemptionStatus

FAILED = "ConditionalCheckFailed"
_DESERIALIZER = TypeDeserializer()
# What the codes read lately said (store, upper-cased text → record), to read a code and its surroundings in one
# round trip (read_code); a guess checked by every read, so it may be kept long.
_known_codes: ExpiringCache[tuple[str, str], CodeRecord] = ExpiringCache(300.0, size=10_000)
# Codes whose remembered count was found wrong lately (other processes or requests redeem them too): redeemed the
# read-first way for a while, instead of sending transactions bound to fail.
_contended: ExpiringCache[tuple[str, str], bool] = ExpiringCache(5.0, size=10_000)


class RedemptionRepository:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._uses = UseCounts(table)
        self._items = RedemptionItems(table.name)

    # ------------------------------------------------------------------ reads
    def read_code(self, store_hash: str, candidates: Sequence[str], customer: str | None) -> CodeState | None:
        """The first of `candidates` that is a code of the store, with its promotion, its uses and the customer's
        (when the code limits customers).

        The code's item names its promotion, so reading it takes two round trips: the code, then one BatchGetItem
        of everything else. A code read before is read in one: what its item said (its id, promotion, shards and
        customer limit, which never change but for the shards' first marking) predicts the other keys, and the
        BatchGetItem reads its item beside them; when the item is gone or says otherwise, it is read again the
        long way. So the answer is always what the table holds at the read, never a remembered one.
        """
        known = _known_codes.get((store_hash, candidates[0].upper()), time.monotonic()) if candidates else None
        if known is not None:
            state = self._read_state(store_hash, known, customer, with_code=True)
            if state is not None:
                return state
        item = next(filter(None, (self._table.get(code_key(store_hash, c), consistent=True) for c in candidates)), None)
        if item is None:
            return None
        code = code_record(item)
        _known_codes.put((store_hash, code.code.upper()), code, time.monotonic())
        return self._read_state(store_hash, code, customer, with_code=False)

    def _read_state(
        self, store_hash: str, code: CodeRecord, customer: str | None, *, with_code: bool
    ) -> CodeState | None:
        """One BatchGetItem of the code's promotion, shards and customer's uses (and of the code's item itself,
        `with_code`: None when that item no longer says what `code` says)."""
        promotion = promotion_key(store_hash, code.promotion_id)
        shards = shard_keys(store_hash, code.id, code.use_shards or 0)
        counted = customer is not None and code.max_uses_per_customer > 0
        customer_key = customer_uses_key(store_hash, code.id, customer) if customer is not None and counted else None
        own = code_key(store_hash, code.code)
        wanted = [*([own] if with_code else []), promotion, *shards, *([customer_key] if customer_key else [])]
        found = {(i["pk"], i["sk"]): i for i in self._table.get_many(wanted, ConsistentRead=True)}
        if with_code:
            item = found.get((own["pk"], own["sk"]))
            current = code_record(item) if item else None
            if current is None or current.model_dump(exclude={"current_uses"}) != code.model_dump(
                exclude={"current_uses"}
            ):
                _known_codes.forget((store_hash, code.code.upper()))
                return None
            code = current
        promotion_item = found.get((promotion["pk"], promotion["sk"]))
        shard_items = [found[(key["pk"], key["sk"])] for key in shards if (key["pk"], key["sk"]) in found]
        customer_item = found.get((customer_key["pk"], customer_key["sk"]), {}) if customer_key else None
        return CodeState(
            code=code.model_copy(update={"current_uses": code.current_uses + total(shard_items)}),
            promotion=promotion_of(promotion_item) if promotion_item else None,
            customer_uses=int(customer_item.get("uses", 0)) if customer_item is not None else None,
        )

    def get(self, store_hash: str, redemption_id: str) -> RedemptionRecord | None:
        item = self._table.get(redemption_key(store_hash, redemption_id), consistent=True)
        return _record(item) if item else None

    def page(
        self, store_hash: str, code_id: int, limit: int, *, below: int | None = None, above: int | None = None
    ) -> tuple[list[RedemptionRecord], bool]:
        """Up to `limit` redemptions of a code, newest first, and whether more lie beyond them: older than the
        listing position `below` (the `after` cursor), or newer than `above` (the `before` cursor)."""
        condition = "gsi1pk = :p"
        values: dict[str, Any] = {":p": code_redemptions_pk(store_hash, code_id)}
        for bound, sign in ((below, "<"), (above, ">")):
            if bound is not None:
                condition += f" AND gsi1sk {sign} :bound"
                values[":bound"] = bound
        items = self._table.resource.query(
            IndexName="gsi1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=above is not None,
            Limit=limit + 1,
        ).get("Items", [])
        records = [_record(item) for item in items]
        more = len(records) > limit
        records = records[:limit]
        return (list(reversed(records)) if above is not None else records), more

    def remembered(self, store_hash: str, candidates: Sequence[str]) -> CodeRecord | None:
        """The code `candidates[0]` names as this process last knew it, with its count then, when it may be
        redeemed without a read (`redeem_remembered`): a code with a max_uses not reached, not contended."""
        if not candidates:
            return None
        key, now = (store_hash, candidates[0].upper()), time.monotonic()
        known = _known_codes.get(key, now)
        if known is None or not known.max_uses or known.current_uses >= known.max_uses or _contended.get(key, now):
            return None
        return known

    # ------------------------------------------------------------------ writes
    def redeem_remembered(self, code: CodeRecord, redemption: RedemptionRecord, now: datetime) -> RedeemOutcome | None:
        """Redeem a remembered code (`remembered`) with no read before: one transaction whose conditions hold only
        when the read would have found what is remembered (the same code, its count exactly `current_uses`, its
        promotion's gate open at `now`: gates.py) and the limits allow the use. None when it was cancelled,
        whatever the reason: nothing was written, and the caller decides the read-first way."""
        store = code.store_hash
        record = redemption.model_copy(update={"customer_counted": code.max_uses_per_customer > 0})
        items = [
            self._items.redemption_put(record),
            self._items.remembered_count(code),
            *self._items.customer_count(code, record),
            gate_check(self._table.name, store, code.promotion_id, code.id, now),
        ]
        key = (store, code.code.upper())
        try:
            # One attempt: a conflict (another redemption on the code, or on the gate) is decided the read-first way.
            self._table.transact(items, attempts=1)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if not reasons:
                raise
            if set(reasons) & PASSING_CANCELLATIONS or reasons[1] == FAILED:
                # Redeemed elsewhere too (or its count moved, or the code did): read first for a while.
                _contended.put(key, True, time.monotonic())
            return None
        _known_codes.put(key, code.model_copy(update={"current_uses": code.current_uses + 1}), time.monotonic())
        return RedeemOutcome(record=record, created=True)

    def spread_uses(self, code: CodeRecord) -> int:
        """Mark an unlimited code as counted in use shards, before its first sharded count: how many shards,
        or 0 when the code is gone."""
        return USE_SHARDS if self._uses.spread(code, USE_SHARDS) else 0

    def redeem(self, code: CodeRecord, redemption: RedemptionRecord) -> RedeemOutcome:
        """Record the redemption and count it against the code's limits, in one transaction (see the module)."""
        store = code.store_hash
        if not code.max_uses and not code.use_shards:
            raise ValueError(f"code {code.id} is unlimited but not spread over use shards (spread_uses first)")
        counting_customer = code.max_uses_per_customer > 0
        record = redemption.model_copy(
            update={
                "use_shard": None if code.max_uses else pick_shard(code.use_shards or 0),
                "customer_counted": counting_customer,
            }
        )
        items = [
            self._items.redemption_put(record),
            self._items.count(store, record, 1, code.max_uses),
            *self._items.customer_count(code, record),
        ]
        try:
            self._table.transact(items)
        except ClientError as error:
            return self._refused(error, code, record)
        if code.max_uses:  # what redeem_remembered will guess the count is: checked by its transaction
            counted = code.model_copy(update={"current_uses": code.current_uses + 1})
            _known_codes.put((store, code.code.upper()), counted, time.monotonic())
        return RedeemOutcome(record=record, created=True)

    def roll_back(self, redemption: RedemptionRecord, at: datetime) -> bool:
        """Move the redemption to ROLLED_BACK and give back what it counted, once: False when it is not (or no
        longer) REDEEMED. A code deleted since is not brought back; only the redemption and the customer's uses
        are then changed."""
        store = redemption.store_hash
        moved = {
            "Update": {
                "TableName": self._table.name,
                "Key": redemption_key(store, redemption.redemption_id),
                "UpdateExpression": "SET #status = :rolled, rolled_back = :at",
                "ConditionExpression": "#status = :redeemed",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":rolled": RedemptionStatus.ROLLED_BACK.value,
                    ":redeemed": RedemptionStatus.REDEEMED.value,
                    ":at": at.isoformat(),
                },
            }
        }
        given_back = [self._items.count(store, redemption, -1)]
        if redemption.customer_counted:
            given_back.append(self._items.add(customer_uses_key(store, redemption.code_id, redemption.customer), -1))
        try:
            self._table.transact([moved, *given_back])
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons[:1] == [FAILED]:
                return False
            if reasons[1:2] != [FAILED]:
                raise
            # The code was deleted: nothing to give back to it.
            self._table.transact([moved, *given_back[1:]])
        return True

    def _refused(self, error: ClientError, code: CodeRecord, record: RedemptionRecord) -> RedeemOutcome:
        """What a cancelled redemption transaction means (items: redemption, code count, customer count)."""
        reasons = cancellation_reasons(error)
        if not reasons:
            raise error
        if set(reasons) & PASSING_CANCELLATIONS:
            # Still conflicting or throttled after Table.transact's retries: the caller may try again.
            raise CodeBusy(code.code) from error
        details = error.response.get("CancellationReasons", [])
        if reasons[0] == FAILED:
            existing = details[0].get("Item")
            # DynamoDB may leave the item out of the reasons; the key says which redemption it is.
            found = _record(_plain_item(existing)) if existing else self.get(code.store_hash, record.redemption_id)
            if found is None:
                raise error
            return RedeemOutcome(record=found, created=False)
        if reasons[1:2] == [FAILED]:
            held = _plain_item(details[1].get("Item") or {})
            gone = not held or int(held.get("id", -1)) != code.id
            return RedeemOutcome(refused=Reason.NOT_FOUND if gone else Reason.EXHAUSTED)
        if reasons[2:3] == [FAILED]:
            return RedeemOutcome(refused=Reason.CUSTOMER_LIMIT)
        raise error


def _plain_item(wire_item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as the cancellation reasons carry it (DynamoDB's wire form), as the resource would read it."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in wire_item.items()}


def _record(item: dict[str, Any]) -> RedemptionRecord:
    return RedemptionRecord.model_validate(plain(without_keys(item)))
