"""The `couponmint` command: tokens, promotions, jobs, codes (redemption), schedules, hooks, and the local stack.

Against a deployed stack, point it at the stack's table (`--table` or COUPONMINT_TABLE_NAME) with AWS
credentials as usual; against the local stack, `couponmint local env` prints the variables to export.
"""

import argparse
import json
import sys
from collections.abc import Sequence

from couponmint.adapters.aws import dynamodb_resource
from couponmint.adapters.repositories import Repositories
from couponmint.models.promotions import PromotionDraft
from couponmint.models.records import CouponType, RedemptionType, Scope
from couponmint.service import accounts, promotions
from couponmint_dev import cli_codes, cli_events
from couponmint_dev.settings import CliSettings

SCOPE_NAMES = {"modify": Scope.MODIFY, "read-only": Scope.READ_ONLY}


def _stores(args: argparse.Namespace) -> Repositories:
    name = args.table or CliSettings().table_name
    if not name:
        raise SystemExit("couponmint: give --table or set COUPONMINT_TABLE_NAME (the stack's CouponTableName)")
    return Repositories.over(dynamodb_resource().Table(name))


def tokens_create(args: argparse.Namespace) -> None:
    scopes = [SCOPE_NAMES[s] for s in args.scope]
    token = accounts.create_token(_stores(args).tokens, args.store, scopes, label=args.label)
    # The token is printed once and never stored: only its SHA-256 is.
    print(token)


def tokens_list(args: argparse.Namespace) -> None:
    for record in _stores(args).tokens.all():
        if args.store and record.store_hash != args.store:
            continue
        scopes = ",".join(sorted(s.value for s in record.scopes))
        print(f"{record.token_hash[:12]}  {record.store_hash}  {scopes}  {record.label}")


def tokens_revoke(args: argparse.Namespace) -> None:
    if len(args.hash_prefix) < 8:
        raise SystemExit("couponmint: give at least 8 characters of the token's hash; give a longer prefix")
    tokens = _stores(args).tokens
    matches = [t for t in tokens.all() if t.token_hash.startswith(args.hash_prefix)]
    if len(matches) != 1:
        raise SystemExit(f"couponmint: {len(matches)} tokens match {args.hash_prefix!r}; give a longer prefix")
    tokens.delete(matches[0].token_hash)
    print(f"revoked {matches[0].token_hash[:12]}")


def promotions_create(args: argparse.Namespace) -> None:
    draft = PromotionDraft.named(args.name, RedemptionType(args.redemption_type), CouponType(args.coupon_type))
    promotion = promotions.create_promotion(_stores(args).promotions, args.store, draft, promotion_id=args.id)
    print(json.dumps(promotion.model_dump(mode="json")))


def print_openapi(_: argparse.Namespace) -> None:
    from couponmint_dev.local.http_api import build_proxy_event
    from couponmint_dev.local.lambdas import load_handler, local_context

    api = load_handler(None, "ApiFunction")
    answer = api(build_proxy_event("GET", "/openapi.json", {}, b"", "127.0.0.1"), local_context("ApiFunction"))
    print(json.dumps(json.loads(answer["body"]), indent=2, sort_keys=True))


def stores_limits(args: argparse.Namespace) -> None:
    if args.requests is None and args.redemption_requests is None:
        raise SystemExit("couponmint: give --requests, --redemption-requests or both")
    _stores(args).limits.set_store_limits(
        args.store,
        request_quota=args.requests,
        window_ms=args.window_ms if args.requests is not None else None,
        redemption_quota=args.redemption_requests,
        redemption_window_ms=args.redemption_window_ms if args.redemption_requests is not None else None,
    )
    if args.requests is not None:
        print(f"{args.store}: {args.requests} requests per {args.window_ms} ms")
    if args.redemption_requests is not None:
        print(
            f"{args.store}: {args.redemption_requests} validations and redemptions per {args.redemption_window_ms} ms"
        )


def jobs_create(args: argparse.Namespace) -> None:
    """Start a bulk job through the API; with --wait, show its progress and save its CSV."""
    from couponmint_dev.client import JobClient

    settings = CliSettings()
    token = args.token or settings.token
    if not token:
        raise SystemExit("couponmint: give --token or set COUPONMINT_TOKEN")
    client = JobClient(args.url or settings.url, args.store or settings.store, token)
    body = {
        "quantity": args.quantity,
        "max_uses": args.max_uses,
        "max_uses_per_customer": args.max_uses_per_customer,
        "code_length": args.code_length,
        "exclude_characters": list(args.exclude or ""),
        **{k: v for k, v in (("prefix", args.prefix), ("suffix", args.suffix), ("delimiter", args.delimiter)) if v},
    }
    job = client.start(args.promotion, body)
    print(f"job {job['id']} {job['status']}: {job['quantity']} codes", file=sys.stderr)
    if not args.wait:
        print(json.dumps(job))
        return
    job = client.wait(args.promotion, job["id"])
    if job["status"] != "COMPLETED":
        raise SystemExit(f"couponmint: job {job['id']} ended {job['status']}: {job.get('error')}")
    if args.output:
        rows = client.download(job["download_url"], args.output)
        print(f"saved {rows} codes to {args.output}", file=sys.stderr)
    print(json.dumps(job))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="couponmint", description=__doc__)
    parser.add_argument("--table", help="DynamoDB table name (default: COUPONMINT_TABLE_NAME)")
    groups = parser.add_subparsers(dest="group", required=True)

    tokens = groups.add_parser("tokens", help="API tokens").add_subparsers(dest="action", required=True)
    create = tokens.add_parser("create", help="create a token and print it once")
    create.add_argument("--store", required=True, help="store hash the token belongs to")
    create.add_argument("--scope", choices=sorted(SCOPE_NAMES), action="append", default=None)
    create.add_argument("--label", default="", help="who or what the token is for")
    create.set_defaults(handler=tokens_create)
    listing = tokens.add_parser("list", help="list tokens (hash prefix, store, scopes, label)")
    listing.add_argument("--store")
    listing.set_defaults(handler=tokens_list)
    revoke = tokens.add_parser("revoke", help="revoke a token by the prefix of its hash")
    revoke.add_argument("hash_prefix")
    revoke.set_defaults(handler=tokens_revoke)

    promotions = groups.add_parser("promotions", help="promotions").add_subparsers(dest="action", required=True)
    promo = promotions.add_parser("create", help="create a promotion")
    promo.add_argument("--store", required=True)
    promo.add_argument("--name", required=True)
    promo.add_argument("--redemption-type", choices=[t.value for t in RedemptionType], default="COUPON")
    promo.add_argument("--coupon-type", choices=[t.value for t in CouponType], default="BULK")
    promo.add_argument("--id", type=int, help="the promotion id (default: the store's next id)")
    promo.set_defaults(handler=promotions_create)

    stores = groups.add_parser("stores", help="per-store settings").add_subparsers(dest="action", required=True)
    store_limits = stores.add_parser(
        "limits",
        help="set a store's request quotas (management API: 450 per 30,000 ms; validation and redemption: 6,000)",
    )
    store_limits.add_argument("--store", required=True)
    store_limits.add_argument("--requests", type=int)
    store_limits.add_argument("--window-ms", type=int, default=30_000)
    store_limits.add_argument("--redemption-requests", type=int, help="validations and redemptions per window")
    store_limits.add_argument("--redemption-window-ms", type=int, default=30_000)
    store_limits.set_defaults(handler=stores_limits)

    cli_codes.add_commands(groups)

    jobs = groups.add_parser("jobs", help="bulk jobs, through the API").add_subparsers(dest="action", required=True)
    start = jobs.add_parser("create", help="start a job of up to 1,000,000 codes")
    start.add_argument("--url", help="API base URL (default COUPONMINT_URL or http://127.0.0.1:3000)")
    start.add_argument("--token", help="X-Auth-Token (default COUPONMINT_TOKEN)")
    start.add_argument("--store", help="store hash (default COUPONMINT_STORE or demo)")
    start.add_argument("--promotion", type=int, required=True)
    start.add_argument("--quantity", type=int, required=True)
    start.add_argument("--prefix")
    start.add_argument("--suffix")
    start.add_argument("--delimiter", choices=["_", "-"])
    start.add_argument("--exclude", help="characters to leave out, e.g. O0I1")
    start.add_argument("--code-length", type=int, default=16)
    start.add_argument("--max-uses", type=int, default=1)
    start.add_argument("--max-uses-per-customer", type=int, default=1)
    start.add_argument("--wait", action="store_true", help="show progress until the job ends")
    start.add_argument("--output", help="with --wait: save the job's CSV here")
    start.set_defaults(handler=jobs_create)

    cli_events.add_commands(groups)

    openapi = groups.add_parser("openapi", help="print the API's OpenAPI document (as GET /openapi.json serves it)")
    openapi.set_defaults(handler=print_openapi)

    groups.add_parser("local", help="the local stack: `couponmint local run`", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["local"]:
        from couponmint_dev.local.stack import main as local_main

        local_main(argv[1:])
        return
    args = build_parser().parse_args(argv)
    if getattr(args, "scope", None) is None and args.handler is tokens_create:
        args.scope = ["modify"]
    args.handler(args)


if __name__ == "__main__":
    main()
