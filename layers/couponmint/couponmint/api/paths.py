"""The API's paths, as BigCommerce's promotions v3 API names them (couponmint's extensions under codegen/)."""

import re

from couponmint import console
from couponmint.errors import NotFound
from couponmint.logic.pagination import integer_id

PROMOTIONS = "/stores/<store_hash>/v3/promotions"
CODES_BY_TEXT = f"{PROMOTIONS}/codes"
PROMOTION = f"{PROMOTIONS}/<promotion_id>"
CODES = f"{PROMOTION}/codes"
CODE = f"{CODES}/<code_id>"
CODEGEN = f"{PROMOTION}/codegen"
BATCH = f"{CODEGEN}/batches/<batch_id>"
JOBS = f"{CODEGEN}/jobs"
JOB = f"{JOBS}/<job_id>"
# Redemption (EXT): before CODES and PROMOTION in the resolver, whose `<promotion_id>` would read `codes`.
VALIDATE = f"{CODES_BY_TEXT}/validate"
REDEMPTIONS = f"{CODES_BY_TEXT}/redemptions"
REDEMPTION = f"{REDEMPTIONS}/<redemption_id>"
CODE_REDEMPTIONS = f"{CODE}/redemptions"
SCHEDULES = f"{CODEGEN}/schedules"
SCHEDULE = f"{SCHEDULES}/<schedule_id>"
HOOKS = "/stores/<store_hash>/v3/hooks"
HOOK = f"{HOOKS}/<hook_id>"

# What needs no token: the API's own description, and the console's pages (which call the API with one).
OPEN_PATHS = frozenset({"/openapi.json", "/swagger", *console.PATHS})
STORE_IN_PATH = re.compile(r"^/stores/([^/]+)/")
# Validation, redemption and rollback: counted against the store's redemption quota, not the management API's.
REDEMPTION_LANE = re.compile(r"^/stores/[^/]+/v3/promotions/codes/(validate|redemptions(/[^/]+)?)$")
# The one POST that changes nothing, which a read-only token may therefore send.
READING_POSTS = re.compile(r"^/stores/[^/]+/v3/promotions/codes/validate$")


def store_of(path: str) -> str | None:
    """The store hash a request path names, if any."""
    match = STORE_IN_PATH.match(path)
    return match.group(1) if match else None


def batch_location(store_hash: str, promotion_id: int, batch_id: str) -> str:
    return f"/stores/{store_hash}/v3/promotions/{promotion_id}/codegen/batches/{batch_id}"


def job_location(store_hash: str, promotion_id: int, job_id: str) -> str:
    return f"/stores/{store_hash}/v3/promotions/{promotion_id}/codegen/jobs/{job_id}"


def schedule_location(store_hash: str, promotion_id: int, schedule_id: str) -> str:
    return f"/stores/{store_hash}/v3/promotions/{promotion_id}/codegen/schedules/{schedule_id}"


def hook_id_of(raw: str) -> int:
    hook_id = integer_id(raw)
    if hook_id is None:
        raise NotFound(f"hook {raw} does not exist")
    return hook_id


def promotion_id_of(raw: str) -> int:
    """A promotion id from the path; one that is not a plain number names no promotion."""
    promotion_id = integer_id(raw)
    if promotion_id is None:
        raise NotFound(f"promotion {raw} does not exist")
    return promotion_id
