"""Tokens: created by an operator (the CLI, the local stack's seed), checked on every request."""

import hashlib
import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from couponmint.errors import Conflict, Forbidden, Unauthenticated
from couponmint.logic.expiring import ExpiringCache
from couponmint.models.records import Scope, TokenRecord
from couponmint.service.ports import Monotonic, TokenStore


def hash_token(token: str) -> str:
    """Tokens are stored and looked up only by this hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    tokens: TokenStore, store_hash: str, scopes: Iterable[Scope], *, token: str | None = None, label: str = ""
) -> str:
    """Store a new token for `store_hash` and return it (the only time it is seen in clear).

    Raises Conflict when the given `token` exists already.
    """
    # A recognisable prefix (for secret scanners), which also keeps a token from starting with "-".
    token = token or f"cm_{secrets.token_urlsafe(32)}"
    record = TokenRecord(
        token_hash=hash_token(token), store_hash=store_hash, scopes=frozenset(scopes), label=label, created=_now()
    )
    if not tokens.put(record):
        raise Conflict("this token exists already")
    return token


# Each process reads a known token's record at most once per this many seconds (as API Gateway's authorizer
# cache does, for 300 s by default): a revoked token stops working within that time.
TOKEN_CACHE_SECONDS = 10.0
# An unknown token is remembered as unknown for a shorter time, so a client (or an attacker) repeating a bad
# token costs one read per process per this many seconds; a token created just after it was tried works
# within that time.
UNKNOWN_TOKEN_CACHE_SECONDS = 2.0
_known_tokens: ExpiringCache[str, TokenRecord] = ExpiringCache(TOKEN_CACHE_SECONDS)
_unknown_tokens: ExpiringCache[str, bool] = ExpiringCache(UNKNOWN_TOKEN_CACHE_SECONDS)


def _token_record(tokens: TokenStore, token_hash: str, clock: Monotonic) -> TokenRecord | None:
    now = clock()
    record = _known_tokens.get(token_hash, now)
    if record is not None or _unknown_tokens.get(token_hash, now):
        return record
    record = tokens.get(token_hash)
    if record is None:
        _known_tokens.forget(token_hash)
        _unknown_tokens.put(token_hash, True, now)
    else:
        _known_tokens.put(token_hash, record, now)
    return record


def authorize(
    tokens: TokenStore, token: str | None, store_hash: str, *, modifies: bool, clock: Monotonic = time.monotonic
) -> TokenRecord:
    """The token's record, if it may act on `store_hash` (modify scope for writes), else an error."""
    record = _token_record(tokens, hash_token(token), clock) if token else None
    if record is None:
        raise Unauthenticated("missing or unknown X-Auth-Token")
    needed = {Scope.MODIFY} if modifies else {Scope.MODIFY, Scope.READ_ONLY}
    if record.store_hash != store_hash or not (record.scopes & needed):
        raise Forbidden("the token is not valid for this store or lacks the store_v2_marketing scope")
    return record


def _now() -> datetime:
    return datetime.now(UTC)
