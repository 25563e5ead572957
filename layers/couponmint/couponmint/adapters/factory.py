"""Adapters wired to the configured resources, for the Lambda handlers (tests build their own)."""

from couponmint.adapters.aws import dynamodb_resource, dynamodb_writer, s3_client, sqs_client
from couponmint.adapters.exports import ExportStore
from couponmint.adapters.queue import BatchQueue
from couponmint.adapters.repositories import Repositories
from couponmint.config import get_settings


def repositories() -> Repositories:
    return Repositories.over(dynamodb_resource().Table(get_settings().table_name), dynamodb_writer())


def batch_queue() -> BatchQueue:
    return BatchQueue(sqs_client(), get_settings().queue_url)


def export_store() -> ExportStore:
    return ExportStore(s3_client(), get_settings().export_bucket)
