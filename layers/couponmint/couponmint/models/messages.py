"""Queue messages: one model shared by the producer (API) and the consumer (generator)."""

from typing import Annotated

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json, StrictInt


class GenerateBatchMessage(BaseModel):
    """Asks the generator to complete one batch; everything else is on the batch record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store_hash: Annotated[str, Field(min_length=1, max_length=64)]
    promotion_id: StrictInt
    batch_id: Annotated[str, Field(min_length=1, max_length=64)]


class GenerateBatchRecord(SqsRecordModel):
    """An SQS record whose body is a GenerateBatchMessage (parsed by the batch processor)."""

    body: Json[GenerateBatchMessage]  # type: ignore[assignment]
