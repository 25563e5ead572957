"""A local API Gateway: each HTTP request becomes the REST API's proxy event for ApiFunction.

The event is what API Gateway (REST, `/{proxy+}`, stage v1, Lambda proxy integration) sends; the handler's
answer (statusCode, headers, multiValueHeaders, body, isBase64Encoded) is written back as HTTP. Like API
Gateway, bodies over 10 MiB are refused with 413 before the function runs, and a handler that fails or
answers nonsense becomes 502.

`GET /health` is answered here, not by the function: 200 {"status": "ok"} once `ready()` says every local
part is up (the stack starts this server last), 503 before. `GET /_local/env` answers the variables that point
the CLI and boto3 at this stack (local endpoints and dummy credentials, no secret), for `couponmint local env`.

Request bodies and X-Auth-Token are never logged.
"""

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from couponmint_dev.local.lambdas import HandlerPool, LocalFunction
from couponmint_dev.local.processes import LOCALHOST
from couponmint_dev.local.services import ACCOUNT_ID

logger = logging.getLogger(__name__)

# API Gateway's payload limit for REST APIs.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
STAGE = "v1"
PROXY_RESOURCE = "/{proxy+}"
LOCAL_API_ID = "local"
HEALTH_PATH = "/health"
# What `couponmint local env` reads: the variables that point the CLI and boto3 at this stack.
ENV_PATH = "/_local/env"


def build_proxy_event(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    *,
    request_id: str | None = None,
    request_time: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event for one request (`target` is the path with its query string)."""
    request_id = request_id or str(uuid.uuid4())
    request_time = request_time or datetime.now(UTC)
    url = urlsplit(target)
    path = unquote(url.path) or "/"

    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)

    text: str | None
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode("ascii"), True
    user_agent = multi_headers.get("User-Agent", [None])[-1]
    return {
        "resource": PROXY_RESOURCE,
        "path": path,
        "httpMethod": method,
        # API Gateway keeps the last value of a repeated header or parameter in the single-value maps,
        # and gives None (not {}) when there are none.
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": PROXY_RESOURCE,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": request_time.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(request_time.timestamp() * 1000),
            "accountId": ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "protocol": "HTTP/1.1",
            "domainName": multi_headers.get("Host", [LOCALHOST])[-1],
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        },
        "body": text if body else None,
        "isBase64Encoded": is_base64 if body else False,
    }


def response_headers(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """The handler's headers and multiValueHeaders as HTTP header lines (multi-value ones win a clash)."""
    multi = answer.get("multiValueHeaders") or {}
    lines = [(name, str(value)) for name, value in (answer.get("headers") or {}).items() if name not in multi]
    lines += [(name, str(value)) for name, values in multi.items() for value in values]
    return lines


def response_body(answer: dict[str, Any]) -> bytes:
    body = answer.get("body") or ""
    return base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode("utf-8")


class _RequestTooLarge(Exception):
    pass


class _ProxyRequestHandler(BaseHTTPRequestHandler):
    """One HTTP request → one invocation. The server carries the function pool and readiness check."""

    server: "LocalApiServer"
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway offers; every answer has Content-Length
    # Headers and body go out as two writes: with Nagle's algorithm on, the body would wait for the client's
    # delayed ACK of the headers (up to 40 ms on Linux) on every kept-alive connection.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == HEALTH_PATH:
            self._health()
        elif path == ENV_PATH:
            self._send(HTTPStatus.OK, [], json.dumps(self.server.environment).encode())
        else:
            self._invoke()

    def __getattr__(self, name: str) -> Any:
        # Every other method (POST, PUT, DELETE, ..., TRACE, QUERY) goes to the function, as API Gateway's
        # ANY route would.
        if name.startswith("do_"):
            return self._invoke
        raise AttributeError(name)

    def _health(self) -> None:
        ready = self.server.ready()
        body = {"status": "ok"} if ready else {"status": "starting"}
        self._send(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, [], json.dumps(body).encode())

    def _invoke(self) -> None:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            body = self._read_body()
        except _RequestTooLarge:
            self.close_connection = True  # the rest of the body is not read
            self._send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Too Long"}, request_id)
            return
        event = build_proxy_event(
            self.command, self.path, self.headers.items(), body, self.client_address[0], request_id=request_id
        )
        try:
            with self.server.functions.acquire() as function:
                answer = function(event, function.context(request_id))
            status = int(answer["statusCode"])
            lines, payload = response_headers(answer), response_body(answer)
        except Exception:  # as API Gateway does when the integration fails or answers malformed
            logger.exception("ApiFunction failed", extra={"request_id": request_id})
            self._send_json(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"}, request_id)
            return
        self._send(status, [*lines, ("x-amzn-RequestId", request_id)], payload)
        logger.info(
            "%s %s → %s in %.0f ms", self.command, urlsplit(self.path).path, status, (time.monotonic() - started) * 1000
        )

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            raise _RequestTooLarge
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_PAYLOAD_BYTES:
                raise _RequestTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send_json(self, status: int, body: dict[str, Any], request_id: str) -> None:
        self._send(
            status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)], json.dumps(body).encode()
        )

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if body and not any(name.lower() == "content-type" for name, _ in headers):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default access log (it prints the raw request line); `_invoke` logs instead."""


class LocalApiServer(ThreadingHTTPServer):
    """The local API on 127.0.0.1; `start()` serves in a background thread, `stop()` ends it."""

    daemon_threads = True
    # socketserver listens with a backlog of 5; bursts of clients (a load test, a retry storm) need more.
    request_queue_size = 128

    def __init__(
        self,
        function: LocalFunction,
        ready: Callable[[], bool] = lambda: True,
        *,
        port: int = 0,
        host: str = LOCALHOST,
        max_concurrency: int = 16,
        environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__((host, port), _ProxyRequestHandler)
        self.functions = HandlerPool(function, max_concurrency)
        self.ready = ready
        self.environment = dict(environment or {})
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        logger.info("local API listening on %s", self.url)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(5)
