"""The demo data the local stack starts with: store `demo`, two tokens, three promotions."""

import logging
from dataclasses import dataclass

from couponmint.adapters.aws import dynamodb_resource
from couponmint.adapters.repositories import Repositories
from couponmint.errors import Conflict
from couponmint.models.promotions import PromotionDraft
from couponmint.models.records import CouponType, RedemptionType, Scope
from couponmint.service.accounts import create_token, hash_token
from couponmint.service.promotions import create_promotion
from couponmint_dev.settings import get_local_settings

logger = logging.getLogger(__name__)

DEMO_STORE = "demo"
BULK_PROMOTION_ID = 1


@dataclass(frozen=True)
class DemoSeed:
    store_hash: str
    token: str
    readonly_token: str
    bulk_promotion_id: int = BULK_PROMOTION_ID


def seed_demo(table_name: str) -> DemoSeed:
    """Seed store `demo` in `table_name`; safe to run again on a table that survived a restart.

    Tokens come from COUPONMINT_DEMO_TOKEN / COUPONMINT_DEMO_READONLY_TOKEN when set (so scripts know
    them), random otherwise. Promotions 1 (COUPON/BULK), 2 (COUPON/SINGLE) and 3 (AUTOMATIC) are
    written with fixed ids, overwriting earlier copies.
    """
    settings = get_local_settings()
    stores = Repositories.over(dynamodb_resource().Table(table_name))
    token = _ensure_token(stores, [Scope.MODIFY], settings.demo_token, "local demo (modify)")
    readonly = _ensure_token(stores, [Scope.READ_ONLY], settings.demo_readonly_token, "local demo (read-only)")
    for promotion_id, draft in (
        (BULK_PROMOTION_ID, PromotionDraft.named("Demo bulk codes", RedemptionType.COUPON, CouponType.BULK)),
        (2, PromotionDraft.named("Demo single code", RedemptionType.COUPON, CouponType.SINGLE)),
        (3, PromotionDraft.named("Demo automatic", RedemptionType.AUTOMATIC)),
    ):
        create_promotion(stores.promotions, DEMO_STORE, draft, promotion_id=promotion_id)
    logger.info("seeded store %s with two tokens and promotions 1, 2, 3", DEMO_STORE)
    return DemoSeed(store_hash=DEMO_STORE, token=token, readonly_token=readonly)


def _ensure_token(stores: Repositories, scopes: list[Scope], wanted: str | None, label: str) -> str:
    try:
        return create_token(stores.tokens, DEMO_STORE, scopes, token=wanted, label=label)
    except Conflict:
        if wanted is None:
            raise
    # The fixed token is there from an earlier run on the same data: fine if it is still the demo's.
    existing = stores.tokens.get(hash_token(wanted))
    if existing is None or existing.store_hash != DEMO_STORE or existing.scopes != frozenset(scopes):
        raise ValueError(f"the configured {label} token exists already for another store or scope")
    return wanted
