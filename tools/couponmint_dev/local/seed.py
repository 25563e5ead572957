"""The demo data the local stack starts with: store `demo`, two tokens, three promotions."""

import logging
from dataclasses import dataclass

from botocore.exceptions import ClientError

from couponmint.adapters.aws import dynamodb_resource
from couponmint.adapters.table import CouponTable
from couponmint.models.records import CouponType, RedemptionType, Scope
from couponmint.service.accounts import create_promotion, create_token, hash_token
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
    table = CouponTable(dynamodb_resource().Table(table_name))
    token = _ensure_token(table, [Scope.MODIFY], settings.demo_token, "local demo (modify)")
    readonly = _ensure_token(table, [Scope.READ_ONLY], settings.demo_readonly_token, "local demo (read-only)")
    create_promotion(
        table, DEMO_STORE, "Demo bulk codes", RedemptionType.COUPON, CouponType.BULK, promotion_id=BULK_PROMOTION_ID
    )
    create_promotion(table, DEMO_STORE, "Demo single code", RedemptionType.COUPON, CouponType.SINGLE, promotion_id=2)
    create_promotion(table, DEMO_STORE, "Demo automatic", RedemptionType.AUTOMATIC, promotion_id=3)
    logger.info("seeded store %s with two tokens and promotions 1, 2, 3", DEMO_STORE)
    return DemoSeed(store_hash=DEMO_STORE, token=token, readonly_token=readonly)


def _ensure_token(table: CouponTable, scopes: list[Scope], wanted: str | None, label: str) -> str:
    try:
        return create_token(table, DEMO_STORE, scopes, token=wanted, label=label)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException" or wanted is None:
            raise
    # The fixed token is there from an earlier run on the same data: fine if it is still the demo's.
    existing = table.get_token(hash_token(wanted))
    if existing is None or existing.store_hash != DEMO_STORE or existing.scopes != frozenset(scopes):
        raise ValueError(f"the configured {label} token exists already for another store or scope")
    return wanted
