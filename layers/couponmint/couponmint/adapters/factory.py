"""Adapters wired to the configured resources, for the Lambda handlers (tests build their own)."""

from couponmint.adapters.aws import dynamodb_resource, dynamodb_writer, s3_client, sqs_client
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.queue import BatchQueue
from couponmint.adapters.repositories import Repositories
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
