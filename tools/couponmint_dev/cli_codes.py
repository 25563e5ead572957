"""`couponmint codes validate|redeem|rollback`: a checkout's calls, through the API (local or deployed)."""

import argparse
import json
import uuid
from typing import Any

import requests

from couponmint_dev.settings import CliSettings


class RedemptionClient:
    """The redemption endpoints (contract.md, "Redemption (EXT)"), as a checkout calls them."""

    def __init__(self, base_url: str, store_hash: str, token: str) -> None:
        self._base = f"{base_url.rstrip('/')}/stores/{store_hash}/v3/promotions/codes"
        self._session = requests.Session()
        self._session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})

    def validate(self, code: str, customer: str | None) -> dict[str, Any]:
        body = {"code": code, **({"customer": customer} if customer else {})}
        return self._answer(self._session.post(f"{self._base}/validate", json=body, timeout=30), 200)

    def redeem(self, code: str, customer: str, order_id: str) -> dict[str, Any]:
        # The order makes a retried redemption count once; an Idempotency-Key makes it answer the same too.
        answer = self._session.post(
            f"{self._base}/redemptions",
            json={"code": code, "customer": customer, "order_id": order_id},
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        return self._answer(answer, 201, 200)

    def roll_back(self, redemption_id: str) -> None:
        self._answer(self._session.delete(f"{self._base}/redemptions/{redemption_id}", timeout=30), 204)

    @staticmethod
    def _answer(answer: requests.Response, *expected: int) -> dict[str, Any]:
        if answer.status_code not in expected:
            try:
                reason = answer.json().get("reason")
            except ValueError:
                reason = None
            text = f" {reason}" if reason else ""
            raise SystemExit(f"couponmint: the API answered {answer.status_code}{text}: {answer.text}")
        return dict(answer.json()) if answer.content else {}


def _client(args: argparse.Namespace) -> RedemptionClient:
    settings = CliSettings()
    token = args.token or settings.token
    if not token:
        raise SystemExit("couponmint: give --token or set COUPONMINT_TOKEN")
    return RedemptionClient(args.url or settings.url, args.store or settings.store, token)


def codes_validate(args: argparse.Namespace) -> None:
    """Print the validation; exit 1 when the code cannot be used now (the reason is printed)."""
    data = _client(args).validate(args.code, args.customer)["data"]
    print(json.dumps(data))
    if not data["valid"]:
        raise SystemExit(1)


def codes_redeem(args: argparse.Namespace) -> None:
    print(json.dumps(_client(args).redeem(args.code, args.customer, args.order)))


def codes_rollback(args: argparse.Namespace) -> None:
    _client(args).roll_back(args.redemption_id)
    print(f"rolled back {args.redemption_id}")


def add_commands(groups: Any) -> None:
    """The `codes` group of the `couponmint` command."""
    codes = groups.add_parser("codes", help="use codes, through the API").add_subparsers(dest="action", required=True)
    validate = codes.add_parser("validate", help="whether a code can be redeemed now (changes nothing)")
    validate.add_argument("code")
    validate.add_argument("--customer", help="check this customer's limit too")
    redeem = codes.add_parser("redeem", help="redeem a code for an order (again for the same order: counted once)")
    redeem.add_argument("code")
    redeem.add_argument("--customer", required=True, help="the buyer (customer id or e-mail)")
    redeem.add_argument("--order", required=True, help="the order id")
    rollback = codes.add_parser("rollback", help="give a redemption's use back (once, however often asked)")
    rollback.add_argument("redemption_id")
    for command, handler in ((validate, codes_validate), (redeem, codes_redeem), (rollback, codes_rollback)):
        command.add_argument("--url", help="API base URL (default COUPONMINT_URL or http://127.0.0.1:3000)")
        command.add_argument("--token", help="X-Auth-Token (default COUPONMINT_TOKEN)")
        command.add_argument("--store", help="store hash (default COUPONMINT_STORE or demo)")
        command.set_defaults(handler=handler)
