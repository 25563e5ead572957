"""Schedules (EXT): scheduled generation that a store owns, run by EventBridge Scheduler.

A schedule says when (an EventBridge Scheduler expression, a time zone, a state) and what (a bulk job's
quantity and format: every field of `JobRequest`, so new format fields come with it).
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from couponmint.logic.schedule_expressions import ScheduleExpression, time_zone
from couponmint.models.jobs import JobRequest


class ScheduleState(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class ScheduleRequest(JobRequest):
    """`POST .../codegen/schedules`: a job's fields, and when to start one."""

    expression: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=256,
            description="rate(N minutes|hours|days), cron(min hour day-of-month month day-of-week year)"
            " or at(yyyy-mm-ddThh:mm:ss), as EventBridge Scheduler reads them",
            examples=["cron(0 9 ? * MON *)"],
        ),
    ]
    timezone: Annotated[StrictStr, Field(min_length=1, max_length=64, examples=["Europe/Berlin"])] = "UTC"
    state: ScheduleState = ScheduleState.ENABLED

    @field_validator("expression")
    @classmethod
    def _is_an_expression(cls, value: str) -> str:
        ScheduleExpression.parse(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _is_a_time_zone(cls, value: str) -> str:
        time_zone(value)
        return value

    @property
    def job_request(self) -> JobRequest:
        return JobRequest.model_validate(self.model_dump(include=set(JobRequest.model_fields)))


class SchedulePatch(BaseModel):
    """`PUT .../codegen/schedules/{id}`: the fields given replace the schedule's (any field of the POST);
    the others keep their values. The schedule as changed is checked as a whole."""

    model_config = ConfigDict(extra="allow")

    expression: StrictStr | None = None
    timezone: StrictStr | None = None
    state: StrictStr | None = None
    quantity: StrictInt | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class ScheduleRecord(BaseModel):
    store_hash: str
    promotion_id: int
    schedule_id: str
    settings: ScheduleRequest
    created: datetime
    # When the schedule was last changed: a rate fires every period from then.
    updated: datetime
    last_job_id: str | None = None


class ScheduleView(ScheduleRequest):
    id: str
    promotion_id: int
    next_run: str | None = Field(description="When it starts its next job (UTC); null when it will not")
    last_job_id: str | None = None
    created: str
    updated: str


class ScheduleResponse(BaseModel):
    data: ScheduleView
    meta: dict[str, Any] = Field(default_factory=dict)


class ScheduleCollection(BaseModel):
    data: list[ScheduleView]
    meta: dict[str, Any]
