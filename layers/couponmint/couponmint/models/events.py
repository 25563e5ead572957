"""Domain events (webhooks' payloads): what happened, to what, once per thing that happened.

An event's id is derived from its scope, store and subject, so publishing the same happening again (a
redelivered message, a job's CSV assembled a second time) gives the same id, the same callback body and the
same `hash`, and the delivery function fans each id out once.
"""

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from couponmint.logic import hook_scopes
from couponmint.models.jobs import JobRecord
from couponmint.models.records import BatchRecord

# EventBridge's `source` of every couponmint event (the delivery rule's pattern).
EVENT_SOURCE = "couponmint"


class EventSubject(BaseModel):
    """The callback's `data`: what the event is about."""

    type: Literal["job", "batch", "redemption"]
    id: str | int
    promotion_id: int


class DomainEvent(BaseModel):
    event_id: str
    scope: str
    store_hash: str
    data: EventSubject
    # Epoch seconds, as BigCommerce's callbacks give them.
    created_at: int

    @classmethod
    def about(cls, scope: str, store_hash: str, subject: EventSubject, at: datetime) -> "DomainEvent":
        key = f"{scope}|{store_hash}|{subject.type}|{subject.id}"
        return cls(
            event_id=hashlib.sha256(key.encode()).hexdigest()[:32],
            scope=scope,
            store_hash=store_hash,
            data=subject,
            created_at=int(at.timestamp()),
        )


class Callback(BaseModel):
    """The body POSTed to a hook's destination."""

    scope: str
    store_id: str
    producer: str
    data: EventSubject
    hash: str = Field(description="Identifies the event: the same event delivered again has the same hash")
    created_at: int

    @classmethod
    def of(cls, event: DomainEvent) -> "Callback":
        identity = json.dumps([event.scope, event.store_hash, event.data.model_dump(mode="json")], sort_keys=True)
        return cls(
            scope=event.scope,
            store_id=event.store_hash,
            producer=f"stores/{event.store_hash}",
            data=event.data,
            hash=hashlib.sha1(identity.encode(), usedforsecurity=False).hexdigest(),
            created_at=event.created_at,
        )


class DeliveryMessage(BaseModel):
    """One event for one hook, on the delivery queue (retried on its own, with backoff)."""

    kind: Literal["delivery"] = "delivery"
    event: DomainEvent
    hook_id: int


class BusEvent(BaseModel):
    """An event as EventBridge hands it to the delivery queue (its envelope; ours is `detail`)."""

    source: str
    detail: DomainEvent


def job_completed(job: JobRecord, at: datetime) -> DomainEvent:
    return DomainEvent.about(hook_scopes.JOB_COMPLETED, job.store_hash, _job(job), at)


def job_failed(job: JobRecord, at: datetime) -> DomainEvent:
    return DomainEvent.about(hook_scopes.JOB_FAILED, job.store_hash, _job(job), at)


def batch_failed(batch: BatchRecord, at: datetime) -> DomainEvent:
    subject = EventSubject(type="batch", id=batch.batch_id, promotion_id=batch.promotion_id)
    return DomainEvent.about(hook_scopes.BATCH_FAILED, batch.store_hash, subject, at)


def code_redeemed(store_hash: str, redemption_id: str | int, promotion_id: int, at: datetime) -> DomainEvent:
    """For the redemption service: a code was redeemed (publish once the redemption is recorded)."""
    subject = EventSubject(type="redemption", id=redemption_id, promotion_id=promotion_id)
    return DomainEvent.about(hook_scopes.CODE_REDEEMED, store_hash, subject, at)


def redemption_rolled_back(store_hash: str, redemption_id: str | int, promotion_id: int, at: datetime) -> DomainEvent:
    """For the redemption service: a redemption was rolled back (publish once the rollback is recorded)."""
    subject = EventSubject(type="redemption", id=redemption_id, promotion_id=promotion_id)
    return DomainEvent.about(hook_scopes.REDEMPTION_ROLLED_BACK, store_hash, subject, at)


def _job(job: JobRecord) -> EventSubject:
    return EventSubject(type="job", id=job.job_id, promotion_id=job.promotion_id)
