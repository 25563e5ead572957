"""Calling a webhook's destination: resolve its host, and POST to the address that was checked.

The connection goes to `Destination.address` (checked by `logic.destinations`), not to what the host name
resolves to at connect time; TLS still verifies the certificate against the host name. Redirects are not
followed. Every socket operation has `timeout_seconds`.
"""

import http.client
import socket
import ssl

from couponmint.logic.destinations import Destination, UnresolvableDestination


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnresolvableDestination(f"{host} does not resolve: {error}") from None
    return list(dict.fromkeys(str(entry[4][0]) for entry in found))


class _PinnedHttps(http.client.HTTPSConnection):
    """HTTPS to `host` (SNI, certificate, Host header) over a connection to the checked `address`."""

    def __init__(self, destination: Destination, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout, context=context)
        self._address = destination.address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class WebhookSender:
    def __init__(self, timeout_seconds: float = 10.0, context: ssl.SSLContext | None = None) -> None:
        self._timeout = timeout_seconds
        self._context = context or ssl.create_default_context()

    def post(self, destination: Destination, headers: dict[str, str], body: bytes) -> int:
        """POST `body`; the answer's status. OSError (refused, reset, timed out) is the caller's to judge."""
        connection: http.client.HTTPConnection
        if destination.scheme == "https":
            connection = _PinnedHttps(destination, self._timeout, self._context)
        else:
            connection = http.client.HTTPConnection(destination.address, destination.port, timeout=self._timeout)
        try:
            connection.request("POST", destination.target, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read(64 * 1024)  # what a receiver says is not kept; read a little so it sees a clean close
            return answer.status
        finally:
            connection.close()
