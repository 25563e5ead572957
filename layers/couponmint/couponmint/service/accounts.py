"""Tokens and promotions: what an operator creates with the CLI and the local stack seeds."""

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from couponmint.adapters.table import CouponTable
from couponmint.errors import Forbidden, Unauthenticated
from couponmint.logic.expiring import ExpiringCache
from couponmint.models.records import CouponType, PromotionRecord, RedemptionType, Scope, TokenRecord


def hash_token(token: str) -> str:
    """Tokens are stored and looked up only by this hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    table: CouponTable, store_hash: str, scopes: Iterable[Scope], *, token: str | None = None, label: str = ""
) -> str:
    """Store a new token for `store_hash` and return it (the only time it is seen in clear)."""
    # A recognisable prefix (for secret scanners), which also keeps a token from starting with "-".
    token = token or f"cm_{secrets.token_urlsafe(32)}"
    table.put_token(
        TokenRecord(
            token_hash=hash_token(token),
            store_hash=store_hash,
            scopes=frozenset(scopes),
            label=label,
            created=datetime.now(UTC),
        )
    )
    return token


# Each process reads a known token's record at most once per this many seconds (as API Gateway's authorizer
# cache does, for 300 s by default): a revoked token stops working within that time. Unknown tokens are
# looked up every time, so a new token works at once.
TOKEN_CACHE_SECONDS = 10.0
_known_tokens: ExpiringCache[str, TokenRecord] = ExpiringCache(TOKEN_CACHE_SECONDS)


def _token_record(table: CouponTable, token_hash: str, clock: Callable[[], float]) -> TokenRecord | None:
    now = clock()
    record = _known_tokens.get(token_hash, now)
    if record is None:
        record = table.get_token(token_hash)
        if record is None:
            _known_tokens.forget(token_hash)
        else:
            _known_tokens.put(token_hash, record, now)
    return record


def authorize(
    table: CouponTable,
    token: str | None,
    store_hash: str,
    *,
    modifies: bool,
    clock: Callable[[], float] = time.monotonic,
) -> TokenRecord:
    """The token's record, if it may act on `store_hash` (modify scope for writes), else an error."""
    record = _token_record(table, hash_token(token), clock) if token else None
    if record is None:
        raise Unauthenticated("missing or unknown X-Auth-Token")
    needed = {Scope.MODIFY} if modifies else {Scope.MODIFY, Scope.READ_ONLY}
    if record.store_hash != store_hash or not (record.scopes & needed):
        raise Forbidden("the token is not valid for this store or lacks the store_v2_marketing scope")
    return record


def create_promotion(
    table: CouponTable,
    store_hash: str,
    name: str,
    redemption_type: RedemptionType,
    coupon_type: CouponType | None = None,
    *,
    promotion_id: int | None = None,
) -> PromotionRecord:
    """Store a promotion; its id comes from the store's counter unless given.

    With an explicit id that already exists, the existing promotion is kept and returned (seeding is
    idempotent and never resets a promotion's code count).
    """
    promotion = PromotionRecord(
        store_hash=store_hash,
        id=promotion_id if promotion_id is not None else table.reserve_ids(store_hash, "promotion", 1),
        name=name,
        redemption_type=redemption_type,
        coupon_type=coupon_type if redemption_type is RedemptionType.COUPON else None,
        created=datetime.now(UTC),
    )
    if promotion_id is not None:
        table.raise_counter(store_hash, "promotion", promotion_id)
        if existing := table.get_promotion(store_hash, promotion_id):
            return existing
    table.put_promotion(promotion)
    return promotion
