"""Redemption end to end over HTTP against `couponmint local run`: limits exact under load, retries, rollbacks,
refusals, and the `couponmint codes` commands."""

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LocalStack


class Checkout:
    """A client of one store's API, as a checkout and a marketer call it."""

    def __init__(self, stack: LocalStack, token: str | None = None) -> None:
        self.stack = stack
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = token or stack.token

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.session.request(method, self.stack.v3_url(path), json=body, timeout=60)

    def promotion(self, **fields: Any) -> int:
        body = {"name": "E2E redemption", "redemption_type": "COUPON", "coupon_type": "BULK", "rules": [{"action": {}}]}
        answer = self.call("POST", "promotions", body | fields)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["data"]["id"])

    def code(self, promotion_id: int, code: str, max_uses: int = 0, per_customer: int = 0) -> dict[str, Any]:
        body = {"code": code, "max_uses": max_uses, "max_uses_per_customer": per_customer}
        answer = self.call("POST", f"promotions/{promotion_id}/codes", body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json()["data"])

    def redeem(self, code: str, customer: str, order_id: str) -> requests.Response:
        return self.call(
            "POST", "promotions/codes/redemptions", {"code": code, "customer": customer, "order_id": order_id}
        )

    def validate(self, code: str, customer: str | None = None) -> dict[str, Any]:
        answer = self.call(
            "POST", "promotions/codes/validate", {"code": code, "customer": customer} if customer else {"code": code}
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["data"])

    def uses(self, code: str) -> int:
        return int(self.call("GET", f"promotions/codes?code={code}").json()["data"][0]["current_uses"])


def at_once[T](clients: int, calls: list[Callable[[], T]]) -> list[T]:
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(lambda call: call(), calls))


@pytest.fixture(scope="module")
def checkout(stack: LocalStack) -> Checkout:
    return Checkout(stack)


@pytest.fixture(scope="module")
def promotion_id(checkout: Checkout) -> int:
    return checkout.promotion()


def test_e2e_200_concurrent_orders_of_a_code_of_50_uses(checkout: Checkout, promotion_id: int) -> None:
    # Given a code of 50 uses
    made = checkout.code(promotion_id, "E2E-FIFTY", max_uses=50)
    # When 20 clients redeem it for 200 distinct orders at once
    answers = at_once(20, [lambda n=n: checkout.redeem("E2E-FIFTY", f"c{n}", f"o{n}") for n in range(200)])
    # Then exactly 50 are 201 and 150 are 409 EXHAUSTED, none 5xx, and the code lists 50 uses
    assert Counter(a.status_code for a in answers) == {201: 50, 409: 150}
    assert {a.json()["reason"] for a in answers if a.status_code == 409} == {"EXHAUSTED"}
    listing = checkout.call("GET", f"promotions/{promotion_id}/codes?limit=250").json()["data"]
    assert next(c["current_uses"] for c in listing if c["id"] == made["id"]) == 50
    assert checkout.uses("E2E-FIFTY") == 50


def test_e2e_customer_limit_and_the_same_order_sent_five_times(checkout: Checkout, promotion_id: int) -> None:
    checkout.code(promotion_id, "E2E-TWICE", max_uses=100, per_customer=2)
    # The same order, 5 times at once: counted once
    same = at_once(5, [lambda: checkout.redeem("E2E-TWICE", "ann", "a1")] * 5)
    assert sorted(a.status_code for a in same) == [200, 200, 200, 200, 201]
    assert len({a.json()["data"]["id"] for a in same}) == 1
    # A customer limited to 2: the third order refused, other customers still redeem
    assert checkout.redeem("E2E-TWICE", "ann", "a2").status_code == 201
    third = checkout.redeem("E2E-TWICE", "ann", "a3")
    assert (third.status_code, third.json()["reason"]) == (409, "CUSTOMER_LIMIT")
    assert checkout.redeem("E2E-TWICE", "bob", "b1").status_code == 201
    assert checkout.uses("E2E-TWICE") == 3


def test_e2e_rollback_gives_exactly_one_use_back_even_sent_at_once(checkout: Checkout, promotion_id: int) -> None:
    checkout.code(promotion_id, "E2E-BACK", max_uses=3)
    redemption = checkout.redeem("E2E-BACK", "ann", "o1").json()["data"]
    assert checkout.redeem("E2E-BACK", "bob", "o2").status_code == 201
    answers = at_once(10, [lambda: checkout.call("DELETE", f"promotions/codes/redemptions/{redemption['id']}")] * 10)
    assert {a.status_code for a in answers} == {204}
    assert checkout.uses("E2E-BACK") == 1
    assert checkout.call("DELETE", "promotions/codes/redemptions/1-" + "f" * 32).status_code == 404


def test_e2e_validate_changes_nothing_unknown_is_404_read_only_cannot_redeem(
    stack: LocalStack, checkout: Checkout, promotion_id: int
) -> None:
    checkout.code(promotion_id, "E2E-LOOK", max_uses=1)
    reader = Checkout(stack, stack.readonly_token)
    assert [reader.validate("e2e-look")["valid"] for _ in range(3)] == [True] * 3
    assert checkout.uses("E2E-LOOK") == 0
    assert reader.redeem("E2E-LOOK", "ann", "o1").status_code == 403
    assert checkout.redeem("E2E-NO-SUCH-CODE", "ann", "o1").status_code == 404
    assert checkout.validate("E2E-NO-SUCH-CODE")["reason"] == "NOT_FOUND"
    assert checkout.uses("E2E-LOOK") == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": "DISABLED"}, "PROMOTION_DISABLED"),
        ({"end_date": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, "EXPIRED"),
    ],
)
def test_e2e_disabled_or_expired_promotion_refuses_with_its_reason(
    checkout: Checkout, fields: dict[str, str], reason: str
) -> None:
    own = checkout.promotion(**fields)
    checkout.code(own, f"E2E-{reason}", max_uses=5)
    refused = checkout.redeem(f"E2E-{reason}", "ann", "o1")
    assert (refused.status_code, refused.json()["reason"]) == (409, reason)


def test_e2e_mistyped_check_character_code_is_malformed(checkout: Checkout, promotion_id: int) -> None:
    made = checkout.call("POST", f"promotions/{promotion_id}/codegen", {"batch_size": 1, "check_character": True})
    assert made.status_code == 201, made.text
    good = made.json()["data"]["codes"][0]["code"]
    typo = ("B" if good[0] != "B" else "C") + good[1:]
    refused = checkout.redeem(typo, "ann", "o1")
    assert (refused.status_code, refused.json()["reason"]) == (409, "MALFORMED")
    assert checkout.redeem(good, "ann", "o1").status_code == 201


def test_e2e_couponmint_codes_commands(stack: LocalStack, checkout: Checkout, promotion_id: int) -> None:
    checkout.code(promotion_id, "E2E-CLI", max_uses=2)

    def couponmint(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [str(Path(sys.executable).with_name("couponmint")), "codes", *argv, "--url", stack.base_url]
        env = {**os.environ, "COUPONMINT_TOKEN": stack.token, "COUPONMINT_STORE": stack.store_hash}
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=env)

    checked = couponmint("validate", "e2e-cli", "--customer", "ann")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["valid"] is True
    redeemed = couponmint("redeem", "E2E-CLI", "--customer", "ann", "--order", "cli-1")
    assert redeemed.returncode == 0, redeemed.stderr
    redemption = json.loads(redeemed.stdout)
    assert redemption["meta"] == {"current_uses": 1, "uses_left": 1}
    rolled = couponmint("rollback", redemption["data"]["id"])
    assert rolled.returncode == 0 and "rolled back" in rolled.stdout
    assert checkout.uses("E2E-CLI") == 0
    missing = couponmint("validate", "E2E-NOTHING")
    assert missing.returncode == 1 and json.loads(missing.stdout)["reason"] == "NOT_FOUND"
