"""Adapters wired to the configured resources, for the Lambda handlers (tests build their own)."""

from couponmint.adapters.aws import dynamodb_resource, dynamodb_writer, s3_client, scheduler_client, sqs_client
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.queue import BatchQueue
from couponmint.adapters.repositories import Repositories
from couponmint.adapters.scheduler import EventScheduler, SchedulerTarget
from couponmint.config import get_settings


def repositories() -> Repositories:
    return Repositories.over(dynamodb_resource().Table(get_settings().table_name), dynamodb_writer())


def codegen_queue() -> BatchQueue:
    """The interactive lane: one message per codegen request's batch."""
    return BatchQueue(sqs_client(), get_settings().queue_url)


def job_queue() -> BatchQueue:
    """The job lane: bulk jobs' batches, their start and their assembly."""
    return BatchQueue(sqs_client(), get_settings().job_queue_url)


def export_store() -> ExportStore:
    return ExportStore(s3_client(), get_settings().export_bucket)


def event_scheduler() -> EventScheduler:
    """Stores' schedules in EventBridge Scheduler (ApiFunction's environment names the group and target)."""
    settings = get_settings()
    target = (
        settings.schedule_group,
        settings.schedule_target_arn,
        settings.schedule_role_arn,
        settings.schedule_dead_letter_arn,
    )
    if not all(target):
        raise RuntimeError("COUPONMINT_SCHEDULE_GROUP, _TARGET_ARN, _ROLE_ARN and _DEAD_LETTER_ARN must be set")
    return EventScheduler(scheduler_client(), SchedulerTarget(*target))  # type: ignore[arg-type]
