"""What the redemption tests do through the real ApiFunction: add a code, redeem, validate, roll back, count."""

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.integration.helpers import HttpAnswer, Store

Caller = Callable[..., HttpAnswer]


def v3(store: Store, path: str) -> str:
    return f"/stores/{store.store_hash}/v3/{path.lstrip('/')}"


def add_code(
    call_api: Caller, store: Store, code: str, max_uses: int = 0, per_customer: int = 0, promotion_id: int = 1
) -> dict[str, Any]:
    body = {"code": code, "max_uses": max_uses, "max_uses_per_customer": per_customer}
    answer = call_api("POST", v3(store, f"promotions/{promotion_id}/codes"), json.dumps(body), store.token)
    assert answer.status == 201, answer.body
    return dict(answer.body["data"])


def redeem(
    call_api: Caller, store: Store, code: str, customer: str, order_id: str, token: str | None = None
) -> HttpAnswer:
    body = json.dumps({"code": code, "customer": customer, "order_id": order_id})
    return call_api("POST", v3(store, "promotions/codes/redemptions"), body, token or store.token)


def validate(call_api: Caller, store: Store, code: str, customer: str | None = None, token: str | None = None) -> Any:
    body = json.dumps({"code": code, **({"customer": customer} if customer else {})})
    answer = call_api("POST", v3(store, "promotions/codes/validate"), body, token or store.token)
    assert answer.status == 200, answer.body
    return answer.body["data"]


def roll_back(call_api: Caller, store: Store, redemption_id: str, token: str | None = None) -> HttpAnswer:
    return call_api("DELETE", v3(store, f"promotions/codes/redemptions/{redemption_id}"), None, token or store.token)


def current_uses(call_api: Caller, store: Store, code: str) -> int:
    """The code's current_uses as find-by-text shows it."""
    found = call_api("GET", v3(store, f"promotions/codes?code={code}"), None, store.token)
    assert found.status == 200 and len(found.body["data"]) == 1, found.body
    return int(found.body["data"][0]["current_uses"])


def listed_uses(call_api: Caller, store: Store, code_id: int, promotion_id: int = 1) -> int:
    """The code's current_uses as the promotion's code list shows it."""
    listing = call_api("GET", v3(store, f"promotions/{promotion_id}/codes?limit=250"), None, store.token)
    assert listing.status == 200, listing.body
    return next(int(item["current_uses"]) for item in listing.body["data"] if item["id"] == code_id)


def in_parallel[T](clients: int, calls: Sequence[Callable[[], T]]) -> list[T]:
    """Every call, `clients` at a time, started together; their results in order."""
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(lambda call: call(), calls))
