"""In-memory ports of schedules, hooks and events (service/ports.py), for the unit tests of their services."""

from dataclasses import dataclass, field

from couponmint.logic.destinations import Destination
from couponmint.models.events import DomainEvent
from couponmint.models.hooks import HookRecord
from couponmint.models.schedules import ScheduleRecord


@dataclass
class FakeSchedules:
    schedules: dict[str, ScheduleRecord] = field(default_factory=dict)

    def put(self, schedule: ScheduleRecord) -> None:
        self.schedules[schedule.schedule_id] = schedule

    def replace(self, schedule: ScheduleRecord) -> bool:
        if schedule.schedule_id not in self.schedules:
            return False
        self.schedules[schedule.schedule_id] = schedule
        return True

    def get(self, store_hash: str, promotion_id: int, schedule_id: str) -> ScheduleRecord | None:
        found = self.schedules.get(schedule_id)
        return found if found and found.promotion_id == promotion_id else None

    def of_promotion(self, store_hash: str, promotion_id: int) -> list[ScheduleRecord]:
        return [s for s in self.schedules.values() if s.promotion_id == promotion_id]

    def every(self) -> list[ScheduleRecord]:
        return list(self.schedules.values())

    def delete(self, store_hash: str, promotion_id: int, schedule_id: str) -> None:
        self.schedules.pop(schedule_id, None)

    def set_last_job(self, store_hash: str, promotion_id: int, schedule_id: str, job_id: str) -> bool:
        if schedule_id not in self.schedules:
            return False
        self.schedules[schedule_id] = self.schedules[schedule_id].model_copy(update={"last_job_id": job_id})
        return True


@dataclass
class FakeScheduler:
    """EventBridge Scheduler: name → (expression, timezone, enabled, payload); `fail` makes put raise."""

    held: dict[str, tuple[str, str, bool, str]] = field(default_factory=dict)
    fail: bool = False

    def put(self, name: str, expression: str, timezone: str, enabled: bool, payload: str, *, new: bool) -> None:
        if self.fail:
            raise RuntimeError("Scheduler is down")
        self.held[name] = (expression, timezone, enabled, payload)

    def delete(self, name: str) -> None:
        self.held.pop(name, None)


@dataclass
class FakeEvents:
    published: list[DomainEvent] = field(default_factory=list)

    def publish(self, event: DomainEvent) -> None:
        self.published.append(event)


@dataclass
class FakeHooks:
    hooks: dict[int, HookRecord] = field(default_factory=dict)
    fanned: set[str] = field(default_factory=set)

    def next_id(self, store_hash: str) -> int:
        return max(self.hooks, default=0) + 1

    def put(self, hook: HookRecord) -> None:
        self.hooks[hook.hook_id] = hook

    def get(self, store_hash: str, hook_id: int) -> HookRecord | None:
        found = self.hooks.get(hook_id)
        return found if found and found.store_hash == store_hash else None

    def of_store(self, store_hash: str) -> list[HookRecord]:
        return [hook for hook in self.hooks.values() if hook.store_hash == store_hash]

    def delete(self, store_hash: str, hook_id: int) -> None:
        self.hooks.pop(hook_id, None)

    def fanned_out(self, event_id: str) -> bool:
        return event_id in self.fanned

    def mark_fanned_out(self, event_id: str) -> None:
        self.fanned.add(event_id)


@dataclass
class FakeSender:
    """Answers `statuses` in turn (then 200); an OSError in the list is raised instead."""

    statuses: list[int | OSError] = field(default_factory=list)
    sent: list[tuple[Destination, dict[str, str], bytes]] = field(default_factory=list)

    def post(self, destination: Destination, headers: dict[str, str], body: bytes) -> int:
        self.sent.append((destination, headers, body))
        answer = self.statuses.pop(0) if self.statuses else 200
        if isinstance(answer, OSError):
            raise answer
        return answer


def hook(hook_id: int = 1, **fields: object) -> HookRecord:
    values: dict[str, object] = {
        "store_hash": "s",
        "hook_id": hook_id,
        "client_id": "c",
        "scope": "store/promotion/codegen/job/completed",
        "destination": "https://hooks.example/in",
        "is_active": True,
        "headers": {"X-Shop": "s"},
        "secret": "k" * 64,
        "created_at": 1,
        "updated_at": 1,
        **fields,
    }
    return HookRecord.model_validate(values)
