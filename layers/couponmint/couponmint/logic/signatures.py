"""Webhook signatures: `X-Couponmint-Signature: sha256=<hex>`, an HMAC-SHA256 of the exact body sent, keyed
with the hook's secret (given to its owner once, when the hook is created)."""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Couponmint-Signature"


def new_secret() -> str:
    """A hook's signing secret: 256 random bits."""
    return secrets.token_hex(32)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute, and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature)
