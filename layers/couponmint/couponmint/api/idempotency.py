"""Idempotency-Key on every POST: a retry with the same key and body gets the first answer, and creates nothing."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from couponmint.adapters import idempotency


def answered_once(event: BaseProxyEvent, produce: Callable[[], Response[Any]]) -> Response[Any]:
    """`produce()`'s answer, or, for a request whose Idempotency-Key was seen, the answer it got then."""
    key = event.headers.get("Idempotency-Key")
    if not key:
        return produce()

    def produce_answer() -> dict[str, Any]:
        response = produce()
        return {"status": response.status_code, "body": response.body, "headers": dict(response.headers)}

    request = {"path": event.path, "key": key, "body": event.json_body}
    try:
        answered = idempotency.first_answer(request, produce_answer)
    except idempotency.AnswerNotKept as passing:
        answered = passing.answer
    return Response(answered["status"], None, answered["body"], answered["headers"])
