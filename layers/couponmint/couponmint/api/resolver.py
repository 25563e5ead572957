"""The API's resolver: Powertools' REST resolver, with each invocation's state kept per thread.

Powertools keeps the current event on the `BaseRouter` class, shared by every resolver of the process. Lambda
runs one invocation per process at a time, so that is safe there; the local stack runs concurrent invocations
on threads of one process, where it is not. Here the event, the Lambda context and the route context belong
to the thread that resolves them, so the routers (module-level, as Powertools intends) see their own request.
"""

import base64
import threading
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from couponmint.adapters import idempotency

_invocation = threading.local()


class CouponmintResolver(APIGatewayRestResolver):
    def __init__(self) -> None:
        super().__init__(enable_validation=True)

    @property  # type: ignore[override]
    def current_event(self) -> BaseProxyEvent:
        return _invocation.event  # type: ignore[no-any-return]

    @current_event.setter
    def current_event(self, value: BaseProxyEvent) -> None:
        _invocation.event = value

    @property  # type: ignore[override]
    def lambda_context(self) -> LambdaContext:
        return _invocation.lambda_context  # type: ignore[no-any-return]

    @lambda_context.setter
    def lambda_context(self, value: LambdaContext) -> None:
        _invocation.lambda_context = value

    @property  # type: ignore[override]
    def context(self) -> dict[str, Any]:
        if not hasattr(_invocation, "context"):
            _invocation.context = {}
        return _invocation.context  # type: ignore[no-any-return]

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        _invocation.context = value

    def resolve(self, event: Any, context: LambdaContext) -> dict[str, Any]:
        """Answer one API Gateway proxy event (its body read as JSON whatever its Content-Type)."""
        event = as_json_request(event)
        self.current_event = self._to_proxy_event(event)
        self.lambda_context = context
        idempotency.CONFIG.register_lambda_context(context)
        return super().resolve(event, context)


def as_json_request(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body as JSON text, whatever Content-Type or encoding the client sent.

    Every body this API takes is JSON, as on BigCommerce: `curl -d` alone says form-encoded, and Powertools
    would parse such a body as a form. A body API Gateway passed as base64 (binary) is decoded here; bytes
    that are not UTF-8 cannot be JSON, and their replacement characters make the body answer 400.
    """

    def declared_json(headers: dict[str, Any] | None, value: Any) -> dict[str, Any]:
        kept = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
        return {**kept, "Content-Type": value}

    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return {
        **event,
        "body": body,
        "isBase64Encoded": False,
        "headers": declared_json(event.get("headers"), "application/json"),
        "multiValueHeaders": declared_json(event.get("multiValueHeaders"), ["application/json"]),
    }
