"""Steps the console's end-to-end tests share: signing in, opening a page, arranging and checking by the API."""

from typing import Any

import requests
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalStack


def sign_in(page: Page, stack: LocalStack, token: str | None = None) -> None:
    """Open the console and sign in to the demo store (with the modify token unless told)."""
    page.goto(f"{stack.base_url}/console")
    page.get_by_label("Store").fill(stack.store_hash)
    page.get_by_label("Token").fill(token or stack.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Promotions", exact=True)).to_be_visible()


def open_promotion(page: Page, stack: LocalStack, promotion_id: int) -> None:
    """Go to a promotion's own URL in the signed-in console."""
    page.goto(f"{stack.base_url}/console#/promotions/{promotion_id}")
    expect(page.get_by_role("link", name="All promotions")).to_be_visible()


# ---------------------------------------------------------------- the API directly, to arrange and to check
def api(stack: LocalStack, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"X-Auth-Token": stack.token}
    return requests.request(method, stack.v3_url(path), headers=headers, timeout=60, **kwargs)


def new_bulk_promotion(stack: LocalStack, name: str, codes: int = 0, **codegen: Any) -> int:
    """A new COUPON/BULK promotion, with `codes` codes generated (at most 250), of codegen's fields if given."""
    body = {"name": name, "redemption_type": "COUPON", "coupon_type": "BULK", "rules": [{"action": {}}]}
    answer = api(stack, "POST", "promotions", json=body)
    assert answer.status_code == 201, answer.text
    promotion_id = int(answer.json()["data"]["id"])
    if codes:
        made = api(stack, "POST", f"promotions/{promotion_id}/codegen", json={"batch_size": codes, **codegen})
        assert made.status_code == 201, made.text
    return promotion_id


def stored_codes(stack: LocalStack, promotion_id: int) -> list[str]:
    """Every code of a promotion as the API lists them: newest first."""
    codes: list[str] = []
    query = "?limit=250"
    while query:
        page = api(stack, "GET", f"promotions/{promotion_id}/codes{query}").json()
        codes += [item["code"] for item in page["data"]]
        query = page["meta"]["cursor_pagination"]["links"].get("next")
    return codes


def redeem(stack: LocalStack, code: str, customer: str, order_id: str) -> dict[str, Any]:
    """Redeem a code for an order, as a checkout would; the redemption made."""
    body = {"code": code, "customer": customer, "order_id": order_id}
    answer = api(stack, "POST", "promotions/codes/redemptions", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["data"])


def roll_back(stack: LocalStack, redemption_id: str) -> None:
    """Roll a redemption back, as a cancelled order would."""
    answer = api(stack, "DELETE", f"promotions/codes/redemptions/{redemption_id}")
    assert answer.status_code == 204, answer.text
