"""Schedules a store owns (the record the API lists; EventBridge Scheduler holds the schedule itself).

Items: `STORE#<store>` / `SCHEDULE#<promotion id, 12 digits>#<schedule id>`, so one query lists a promotion's
schedules; the sparse gsi2 (`SCHEDULES`, created ms) lists them all, for a local stack that gives them back to
its Scheduler at start.
"""

from datetime import datetime
from typing import Any

from couponmint.adapters.dynamo import Table, plain
from couponmint.adapters.keys import SCHEDULES, promotion_schedules_prefix, schedule_key, store_pk, without_keys
from couponmint.models.schedules import ScheduleRecord


class ScheduleRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, schedule: ScheduleRecord) -> None:
        """Store a new schedule (its id is new: a uuid)."""
        if not self._table.put_new(_item(schedule)):
            raise RuntimeError(f"schedule {schedule.schedule_id} exists already")

    def replace(self, schedule: ScheduleRecord) -> bool:
        """Replace a schedule that exists (keeping its last job); False when it was deleted meanwhile."""
        item = {k: v for k, v in _item(schedule).items() if k not in ("pk", "sk", "last_job_id")}
        return self._table.update_if(
            schedule_key(schedule.store_hash, schedule.promotion_id, schedule.schedule_id),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in item),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={f"#{k}": k for k in item},
            ExpressionAttributeValues={f":{k}": v for k, v in item.items()},
        )

    def get(self, store_hash: str, promotion_id: int, schedule_id: str) -> ScheduleRecord | None:
        item = self._table.get(schedule_key(store_hash, promotion_id, schedule_id), consistent=True)
        return _record(item) if item else None

    def of_promotion(self, store_hash: str, promotion_id: int) -> list[ScheduleRecord]:
        """A promotion's schedules, oldest first (one query)."""
        items = self._table.query_items(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": store_pk(store_hash),
                ":prefix": promotion_schedules_prefix(promotion_id),
            },
            ConsistentRead=True,
        )
        return sorted((_record(item) for item in items), key=lambda schedule: schedule.created)

    def every(self) -> list[ScheduleRecord]:
        """Every schedule of every store (a query on the sparse gsi2)."""
        items = self._table.query_items(
            IndexName="gsi2", KeyConditionExpression="gsi2pk = :s", ExpressionAttributeValues={":s": SCHEDULES}
        )
        return [_record(item) for item in items]

    def delete(self, store_hash: str, promotion_id: int, schedule_id: str) -> None:
        self._table.resource.delete_item(Key=schedule_key(store_hash, promotion_id, schedule_id))

    def set_last_job(self, store_hash: str, promotion_id: int, schedule_id: str, job_id: str) -> bool:
        """Point the schedule at the job its tick started; False when the schedule is gone."""
        return self._table.update_if(
            schedule_key(store_hash, promotion_id, schedule_id),
            UpdateExpression="SET last_job_id = :job",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":job": job_id},
        )


def _item(schedule: ScheduleRecord) -> dict[str, Any]:
    return {
        **schedule_key(schedule.store_hash, schedule.promotion_id, schedule.schedule_id),
        "gsi2pk": SCHEDULES,
        "gsi2sk": _millis(schedule.created),
        **schedule.model_dump(mode="json", exclude_none=True),
    }


def _record(item: dict[str, Any]) -> ScheduleRecord:
    return ScheduleRecord.model_validate(plain(without_keys(item)))


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
