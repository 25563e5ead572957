"""Adapters wired to the configured resources, for the Lambda handlers (tests build their own)."""

import threading

from couponmint.adapters.aws import (
    dynamodb_resource,
    dynamodb_writer,
    events_client,
    s3_client,
    scheduler_client,
    sqs_client,
)
from couponmint.adapters.events import EventBus
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.queue import BatchQueue, DeliveryQueue
from couponmint.adapters.repositories import Repositories
from couponmint.adapters.scheduler import EventScheduler, SchedulerTarget
from couponmint.config import get_settings

# Each thread's repositories, with the clients and table name they were built for.
_built = threading.local()


def repositories() -> Repositories:
    """The table's repositories, built once per thread while the clients and table stay the same: boto3 builds a
    `Table` resource's class anew each time one is made (milliseconds, twice a request), and asks that a resource
    not be shared between threads (a Lambda environment runs one request at a time on one thread)."""
    resource, writer, name = dynamodb_resource(), dynamodb_writer(), get_settings().table_name
    built = getattr(_built, "repositories", None)
    if built is None or built[0] is not resource or built[1] is not writer or built[2] != name:
        built = (resource, writer, name, Repositories.over(resource.Table(name), writer))
        _built.repositories = built
    return built[3]


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


def event_bus() -> EventBus:
    """The deployment's EventBridge bus (every function that publishes domain events has it in its environment)."""
    name = get_settings().event_bus_name
    if not name:
        raise RuntimeError("COUPONMINT_EVENT_BUS_NAME must be set")
    return EventBus(events_client(), name)


def delivery_queue() -> DeliveryQueue:
    """The delivery function's queue: events from the bus, and one delivery per hook."""
    url = get_settings().delivery_queue_url
    if not url:
        raise RuntimeError("COUPONMINT_DELIVERY_QUEUE_URL must be set")
    return DeliveryQueue(sqs_client(), url)
