"""Powertools' idempotency, on the idempotency table: a POST retried with the same Idempotency-Key within
24 hours gets the first answer back and creates nothing."""

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from couponmint.adapters.aws import dynamodb_client
from couponmint.config import get_settings

REMEMBER_SECONDS = 24 * 3600
# The key is the request's path (store, promotion, operation) and the client's Idempotency-Key; the body
# must be the same on a retry (payload validation), or the retry is refused.
CONFIG = IdempotencyConfig(
    event_key_jmespath="[path, key]",
    payload_validation_jmespath="body",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=REMEMBER_SECONDS,
)

Answer = dict[str, Any]


class AnswerNotKept(Exception):
    """An answer not to replay (429, 5xx): the client's retry should run again."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer["status"])
        self.answer = answer


def first_answer(request: dict[str, Any], produce: Callable[[], Answer]) -> Answer:
    """The answer given to the first `request` with its key, produced now if this is the first.

    Raises AnswerNotKept (carrying the answer) when the answer is one a retry should not get again.
    """
    return _answer_once()(request=request, produce=produce)


@cache
def _answer_once() -> Callable[..., Answer]:
    store = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table, boto3_client=dynamodb_client())

    @idempotent_function(data_keyword_argument="request", persistence_store=store, config=CONFIG)
    def run(request: dict[str, Any], produce: Callable[[], Answer]) -> Answer:
        answer = produce()
        if answer["status"] == 429 or answer["status"] >= 500:
            raise AnswerNotKept(answer)
        return answer

    return run
