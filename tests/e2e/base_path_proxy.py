"""A reverse proxy that puts the local stack under a base path, as API Gateway's stage `/v1` does when deployed."""

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

HOP_BY_HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}


class _Forward(BaseHTTPRequestHandler):
    server: "_ProxyServer"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._forward
        raise AttributeError(name)

    def _forward(self) -> None:
        prefix = self.server.prefix
        if not self.path.startswith(f"{prefix}/"):
            self._send(404, [], b"outside the base path")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = requests.request(
            self.command,
            self.server.upstream + self.path.removeprefix(prefix),
            headers=headers,
            data=body or None,
            timeout=60,
            allow_redirects=False,
        )
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
        self._send(answer.status_code, kept, answer.content)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests carry tokens in headers only, but nothing here needs a log."""


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, prefix: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream
        self.prefix = prefix


@contextlib.contextmanager
def under_base_path(upstream: str, prefix: str = "/v1") -> Iterator[str]:
    """Serve `upstream` at http://127.0.0.1:<port><prefix>; yields that URL."""
    server = _ProxyServer(upstream, prefix)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
