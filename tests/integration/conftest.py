"""Integration fixtures: the real handlers, loaded as template.yaml names them, against the local services."""

import json
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from couponmint_dev.local.lambdas import load_handler, local_context
from couponmint_dev.local.poller import start_pollers
from tests.integration.helpers import EVENTS, TEMPLATE, HttpAnswer, Store, make_store


@pytest.fixture(scope="session")
def api_handler(resources: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    return load_handler(TEMPLATE, "ApiFunction")


@pytest.fixture(scope="session")
def generator_handler(resources: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    return load_handler(TEMPLATE, "GeneratorFunction")


@pytest.fixture(scope="session")
def job_handler(resources: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The job lane: the same handler as the generator's, with JobFunction's role."""
    return load_handler(TEMPLATE, "JobFunction")


@pytest.fixture
def store(fresh_store: str, resources: Any) -> Store:
    return make_store(fresh_store)


@pytest.fixture
def call_api(api_handler: Callable[..., dict[str, Any]]) -> Callable[..., HttpAnswer]:
    """Invoke ApiFunction with the recorded API Gateway event, changed to this request."""
    template = json.loads((EVENTS / "api_codegen_post.json").read_text())

    def call(
        method: str,
        path: str,
        body: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        handler: Callable[..., dict[str, Any]] | None = None,
    ) -> HttpAnswer:
        extra = headers or {}
        path, _, query = path.partition("?")
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        headers = {k: v for k, v in template["headers"].items() if k != "X-Auth-Token"} | extra
        if token is not None:
            headers["X-Auth-Token"] = token
        event = {
            **template,
            "httpMethod": method,
            "path": path,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "pathParameters": {"proxy": path.lstrip("/")},
            "requestContext": {**template["requestContext"], "httpMethod": method, "path": f"/v1{path}"},
            "body": body,
            # API Gateway gives the last value of each name, and every value in the multi-value form.
            "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
            "multiValueQueryStringParameters": multi or None,
        }
        raw = (handler or api_handler)(event, local_context("ApiFunction"))
        merged = {k: v[-1] for k, v in (raw.get("multiValueHeaders") or {}).items()}
        merged.update(raw.get("headers") or {})
        text = raw.get("body") or ""
        is_json = merged.get("Content-Type", "").startswith("application/json")
        return HttpAnswer(raw["statusCode"], merged, (json.loads(text) if is_json else text) if text else None)

    return call


@pytest.fixture
def generator_running(resources: Any) -> Iterator[None]:
    """Both lanes (GeneratorFunction, JobFunction) fed from their queues, as Lambda's event source mappings."""
    pollers = start_pollers(resources, wait_seconds=1)
    yield
    for poller in pollers:
        poller.stop()
