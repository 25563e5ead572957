"""The generation queue (SQS)."""

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

# SQS takes at most 10 messages per SendMessageBatch.
SEND_BATCH = 10


class BatchQueue:
    """Sends batch messages to the generator; takes a boto3 SQS client."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, message: BaseModel) -> str:
        result = self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=message.model_dump_json())
        return str(result["MessageId"])

    def send_many(self, messages: Sequence[BaseModel]) -> None:
        """Send messages ten at a time; raises if SQS refused any (the caller's retry sends them again)."""
        for start in range(0, len(messages), SEND_BATCH):
            chunk = messages[start : start + SEND_BATCH]
            result = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)],
            )
            if result.get("Failed"):
                raise RuntimeError(f"SQS refused {len(result['Failed'])} messages: {result['Failed'][0]}")


class DeliveryQueue(BatchQueue):
    """The webhook delivery queue: deliveries are sent like batches; a failed one waits its backoff there."""

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again after `seconds` (its handler then reports it failed)."""
        self._sqs.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
