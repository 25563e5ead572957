"""The model's HTTP connections to DynamoDB Local: requests forwarded as they came, and reads of its own."""

import http.client
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from couponmint_dev.local.partition_model.errors import JSON_CONTENT_TYPE, Answer
from couponmint_dev.local.processes import LOCALHOST
from couponmint_dev.local.services import DUMMY_ACCESS_KEY, REGION

TARGET_PREFIX = "DynamoDB_20120810."
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade", "content-length"}
)
# DynamoDB Local reads the region from the credential scope and verifies no signature.
_INTERNAL_HEADERS = {
    "Content-Type": JSON_CONTENT_TYPE,
    "Authorization": (
        f"AWS4-HMAC-SHA256 Credential={DUMMY_ACCESS_KEY}/20250101/{REGION}/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=0"
    ),
}


class UpstreamError(RuntimeError):
    """DynamoDB Local refused one of the model's own reads."""


class Upstream:
    """Keep-alive HTTP connections to DynamoDB Local, one per thread."""

    def __init__(self, endpoint: str, timeout: float = 60.0) -> None:
        parsed = urllib.parse.urlsplit(endpoint)
        self.host, self.port = parsed.hostname or LOCALHOST, parsed.port or 80
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            connection.connect()
            assert connection.sock is not None
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def send(self, method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes) -> Answer:
        """Forward one request; a connection the server closed meanwhile is reopened once."""
        outgoing = {name: value for name, value in headers if name.lower() not in _HOP_BY_HOP}
        outgoing["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            try:
                connection = self._connection()
                connection.request(method, path, body=body, headers=outgoing)
                response = connection.getresponse()
                content = response.read()
                kept = [(name, value) for name, value in response.getheaders() if name.lower() not in _HOP_BY_HOP]
                if response.will_close:
                    self._drop()
                return Answer(response.status, kept, content)
            except (http.client.HTTPException, ConnectionError, TimeoutError, OSError):
                self._drop()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def call(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """One DynamoDB call of the model's own (not charged)."""
        headers = [*_INTERNAL_HEADERS.items(), ("X-Amz-Target", TARGET_PREFIX + operation)]
        answer = self.send("POST", "/", headers, json.dumps(payload).encode())
        document: dict[str, Any] = json.loads(answer.body or b"{}")
        if answer.status != 200:
            raise UpstreamError(f"{operation}: {answer.status} {document}")
        return document
