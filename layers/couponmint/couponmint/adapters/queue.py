"""The generation queue (SQS)."""

from typing import Any

from couponmint.models.messages import GenerateBatchMessage


class BatchQueue:
    """Sends batch messages to the generator; takes a boto3 SQS client."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, message: GenerateBatchMessage) -> str:
        result = self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=message.model_dump_json())
        return str(result["MessageId"])
