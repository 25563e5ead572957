"""The proxy's HTTP side: a threading server that keeps connections alive, hands each DynamoDB request to the
proxy, and serves the model's own routes (`GET /_model/stats[?top=N]`, `POST /_model/reset`)."""

import http.client
import logging
import socket
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from couponmint_dev.local.partition_model.errors import Answer, json_answer

logger = logging.getLogger(__name__)


class Proxy(Protocol):
    """What the server needs of the proxy behind it."""

    def handle(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Answer: ...

    def stats(self, top: int = 50) -> dict[str, Any]: ...

    def reset(self) -> None: ...


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: Proxy

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class ModelRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    server: ModelServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the stack's output

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, answer: Answer) -> None:
        self.send_response(answer.status)  # with this server's own Date and Server headers
        for name, value in answer.headers:
            if name.lower() not in ("date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _serve(self, method: str) -> None:
        body = self._body()
        proxy = self.server.proxy
        route = urllib.parse.urlsplit(self.path)
        if route.path == "/_model/stats" and method == "GET":
            top = int(urllib.parse.parse_qs(route.query).get("top", ["50"])[0])
            self._answer(json_answer(200, proxy.stats(top)))
            return
        if route.path == "/_model/reset" and method == "POST":
            proxy.reset()
            self._answer(json_answer(200, {"reset": True}))
            return
        try:
            answer = proxy.handle(method, self.path, list(self.headers.items()), body)
        except (OSError, http.client.HTTPException) as error:
            logger.warning("partition model: DynamoDB Local did not answer: %r", error)
            answer = json_answer(500, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"})
        self._answer(answer)

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")
