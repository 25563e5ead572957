"""Every key of couponmint's single DynamoDB table, in one place (docs/data-model.md shows them all).

The table has a partition key `pk`, a sort key `sk` and two global secondary indexes: `gsi1` (`gsi1pk`, numeric
`gsi1sk`), which lists a promotion's codes and jobs newest first, and the sparse `gsi2` (`gsi2pk`, numeric `gsi2sk`),
which lists work not yet finished and the tokens. Each repository in this package says which items it owns.
"""

import hashlib
from typing import Any

Key = dict[str, str]

# Attributes that address an item rather than describe it (left out of the records read back).
KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"})
# gsi2's partitions: each is one short list read whole by an operator or the sweeper.
OPEN_JOBS = "OPEN_JOBS"
OPEN_BATCHES = "OPEN_BATCHES"
TOKENS = "TOKENS"
SCHEDULES = "SCHEDULES"


def store_pk(store_hash: str) -> str:
    """The partition of a store's small items: promotions, counters, statistics, limits, leases."""
    return f"STORE#{store_hash}"


def token_key(token_hash: str) -> Key:
    return {"pk": f"TOKEN#{token_hash}", "sk": "TOKEN"}


def promotion_key(store_hash: str, promotion_id: int) -> Key:
    # Zero-padded, so the store's promotions sort by id in one query.
    return {"pk": store_pk(store_hash), "sk": f"PROMOTION#{promotion_id:012d}"}


PROMOTION_SK_PREFIX = "PROMOTION#"


def counter_key(store_hash: str, counter: str) -> Key:
    """A per-store integer id counter (`code`, `promotion`); code ids are reserved in blocks."""
    return {"pk": store_pk(store_hash), "sk": f"COUNTER#{counter}"}


def store_stats_key(store_hash: str) -> Key:
    """The store's number of codes, which the capacity guard reads."""
    return {"pk": store_pk(store_hash), "sk": "STATS"}


def store_formats_key(store_hash: str) -> Key:
    """The store's code formats that a typed code is read through (check characters, look-alikes)."""
    return {"pk": store_pk(store_hash), "sk": "FORMATS"}


def store_limits_key(store_hash: str) -> Key:
    return {"pk": store_pk(store_hash), "sk": "LIMITS"}


def quota_window_key(store_hash: str, window_start_ms: int, lane: str = "") -> Key:
    """A request quota window; redemption and validation (`lane` "redemption") are counted in their own."""
    window = f"{lane}#{window_start_ms}" if lane else str(window_start_ms)
    return {"pk": store_pk(store_hash), "sk": f"WINDOW#{window}"}


def leases_key(store_hash: str, kind: str) -> Key:
    return {"pk": store_pk(store_hash), "sk": f"LEASES#{kind}"}


def code_key(store_hash: str, code: str) -> Key:
    """One item per code, keyed by its upper-cased text: store-wide case-insensitive uniqueness is a
    conditional put."""
    return {"pk": f"STORE#{store_hash}#CODE#{code.upper()}", "sk": "CODE"}


def promotion_codes_pk(store_hash: str, promotion_id: int) -> str:
    """gsi1: a promotion's codes, by integer id."""
    return f"STORE#{store_hash}#PROMOTION#{promotion_id}"


def batch_key(store_hash: str, batch_id: str) -> Key:
    return {"pk": f"STORE#{store_hash}#BATCH#{batch_id}", "sk": "BATCH"}


def job_key(store_hash: str, job_id: str) -> Key:
    return {"pk": f"STORE#{store_hash}#JOB#{job_id}", "sk": "JOB"}


def promotion_jobs_pk(store_hash: str, promotion_id: int) -> str:
    """gsi1: a promotion's jobs, by creation time."""
    return f"STORE#{store_hash}#PROMOTION#{promotion_id}#JOBS"


# ---------------------------------------------------------------- redemption (adapters/redemptions.py, uses.py)
# Keyed by the code's integer id, which is never reused: a code deleted and made again is a new count.
def redemption_key(store_hash: str, redemption_id: str) -> Key:
    """One redemption of a code for an order; its id names the code and the order (`<code id>-<order hash>`),
    so "once per code and order" is a conditional put and a redemption id finds its item without a scan."""
    return {"pk": f"STORE#{store_hash}#REDEMPTION#{redemption_id}", "sk": "REDEMPTION"}


def code_redemptions_pk(store_hash: str, code_id: int) -> str:
    """gsi1: a code's redemptions, newest first."""
    return f"STORE#{store_hash}#CODEID#{code_id}#REDEMPTIONS"


def promotion_gate_key(store_hash: str, promotion_id: int, gate: int) -> Key:
    """One of a promotion's gates: a copy of its status and dates that redemptions check (gates.py)."""
    return {"pk": f"STORE#{store_hash}#PROMOTION#{promotion_id}#GATE#{gate}", "sk": "GATE"}


def use_shard_key(store_hash: str, code_id: int, shard: int) -> Key:
    """One of the counters an unlimited code's uses are spread over (summed on read)."""
    return {"pk": f"STORE#{store_hash}#CODEID#{code_id}#USES#{shard}", "sk": "USES"}


def customer_uses_key(store_hash: str, code_id: int, customer: str) -> Key:
    """A customer's uses of a code that limits them; the customer is keyed by a hash (an e-mail is no key)."""
    digest = hashlib.sha256(customer.encode("utf-8")).hexdigest()[:32]
    return {"pk": f"STORE#{store_hash}#CODEID#{code_id}#CUSTOMER#{digest}", "sk": "USES"}


def schedule_key(store_hash: str, promotion_id: int, schedule_id: str) -> Key:
    """A store's schedule, in the store's partition: one query lists a promotion's schedules."""
    return {"pk": store_pk(store_hash), "sk": f"{promotion_schedules_prefix(promotion_id)}{schedule_id}"}


def promotion_schedules_prefix(promotion_id: int) -> str:
    return f"SCHEDULE#{promotion_id:012d}#"


def hook_key(store_hash: str, hook_id: int) -> Key:
    """A store's webhook, in the store's partition: one query lists them (a store has a few)."""
    return {"pk": store_pk(store_hash), "sk": f"{HOOK_SK_PREFIX}{hook_id:012d}"}


HOOK_SK_PREFIX = "HOOK#"


def event_key(event_id: str) -> Key:
    """An event fanned out to its hooks (expires by TTL): the same event published again goes to none."""
    return {"pk": f"EVENT#{event_id}", "sk": "EVENT"}


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item's own attributes (what its record holds)."""
    return {name: value for name, value in item.items() if name not in KEY_ATTRIBUTES}
