"""EventBridge Scheduler: the schedules stores own, in the deployment's schedule group.

Each schedule targets SchedulerFunction with its tick's input (a `ScheduledGeneration`), through the one role
the API may pass, with a retry policy and a dead-letter queue; its name is the schedule's id.
"""

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

# A tick EventBridge Scheduler could not deliver is tried again for an hour, then dead-lettered (and pages).
RETRY_POLICY = {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}


@dataclass(frozen=True)
class SchedulerTarget:
    group: str
    function_arn: str
    role_arn: str
    dead_letter_arn: str


class EventScheduler:
    """Creates, replaces and deletes schedules; takes a boto3 `scheduler` client."""

    def __init__(self, scheduler: Any, target: SchedulerTarget) -> None:
        self._scheduler = scheduler
        self._target = target

    def put(self, name: str, expression: str, timezone: str, enabled: bool, payload: str, *, new: bool) -> None:
        """Create the schedule (`new`) or replace every setting of the one of that name; either way, the
        other call is made when the first finds the schedule in the other state."""
        request = {
            "Name": name,
            "GroupName": self._target.group,
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": timezone,
            "State": "ENABLED" if enabled else "DISABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            # An at() schedule stays after its one tick, like its record (the API lists it, with no next run).
            "ActionAfterCompletion": "NONE",
            "Target": {
                "Arn": self._target.function_arn,
                "RoleArn": self._target.role_arn,
                "Input": payload,
                "RetryPolicy": RETRY_POLICY,
                "DeadLetterConfig": {"Arn": self._target.dead_letter_arn},
            },
        }
        first, second = (
            (self._scheduler.create_schedule, self._scheduler.update_schedule)
            if new
            else (self._scheduler.update_schedule, self._scheduler.create_schedule)
        )
        try:
            first(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != ("ConflictException" if new else "ResourceNotFoundException"):
                raise
            second(**request)

    def delete(self, name: str) -> None:
        """Delete the schedule; one that is gone already is fine."""
        try:
            self._scheduler.delete_schedule(Name=name, GroupName=self._target.group)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
