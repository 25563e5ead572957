"""Where a webhook may call: no server-side request forgery.

Deployed, a destination is `https://` to a host whose every address is public: no private, loopback,
link-local (169.254.169.254 is the instance metadata service), multicast, reserved, unspecified or shared
(100.64/10) address, nor an IPv6 address that wraps one (IPv4-mapped, 6to4, Teredo, NAT64). The host is
resolved once, checked, and the delivery connects to the checked address (TLS still verifies the host name),
so a DNS answer that changes between the check and the call (rebinding) changes nothing. It is checked when a
hook is saved and again at every delivery.

The local stack also allows `http://127.0.0.1:<port>` (`Settings.hook_allow_local_http`), so that tests and
demos can receive.
"""

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
"""A host name and port → the addresses they resolve to (raises UnresolvableDestination)."""

MAX_URL_LENGTH = 2048
LOCAL_HOST = "127.0.0.1"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeDestination(ValueError):
    """A destination couponmint never calls; the message says why."""


class UnresolvableDestination(ValueError):
    """The destination's host did not resolve (now: it may later)."""


@dataclass(frozen=True)
class Destination:
    """A checked destination: connect to `address`, speak to `host`."""

    scheme: str
    host: str
    port: int
    # The path and query string, as the request line carries them.
    target: str
    address: str


def is_public(address: IpAddress) -> bool:
    """Whether `address` is on the public internet, also when an IPv6 address wraps an IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_destination(url: str, *, allow_local_http: bool, resolve: Resolver) -> Destination:
    """The destination `url` names, with the address to connect to; UnsafeDestination if it may not be called."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeDestination(f"is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeDestination(f"is not a URL: {error}") from None
    host = parts.hostname or ""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.username is not None or parts.password is not None:
        raise UnsafeDestination("may not carry a user name or password")
    if allow_local_http and parts.scheme == "http" and host == LOCAL_HOST and port is not None:
        return Destination("http", host, port, target, LOCAL_HOST)
    if parts.scheme != "https" or not host:
        raise UnsafeDestination("must be an https:// URL")
    port = port or 443
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = [ipaddress.ip_address(found) for found in resolve(host, port)]
    if not addresses:
        raise UnresolvableDestination(f"{host} has no address")
    for address in addresses:
        if not is_public(address):
            raise UnsafeDestination(f"{host} is {address}, which is not a public address")
    return Destination("https", host, port, target, str(addresses[0]))
