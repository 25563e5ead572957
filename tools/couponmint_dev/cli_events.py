"""`couponmint schedules ...` and `couponmint hooks ...`: a store's schedules and webhooks, through the API."""

import argparse
import json
import sys

from couponmint_dev.client import ApiClient
from couponmint_dev.settings import CliSettings


def _client(args: argparse.Namespace) -> ApiClient:
    settings = CliSettings()
    token = args.token or settings.token
    if not token:
        raise SystemExit("couponmint: give --token or set COUPONMINT_TOKEN")
    return ApiClient(args.url or settings.url, args.store or settings.store, token)


def schedules_create(args: argparse.Namespace) -> None:
    body = {
        "expression": args.expression,
        "timezone": args.timezone,
        "quantity": args.quantity,
        "state": "DISABLED" if args.disabled else "ENABLED",
        **json.loads(args.format or "{}"),
    }
    print(json.dumps(_client(args).call("POST", f"promotions/{args.promotion}/codegen/schedules", body)))


def schedules_list(args: argparse.Namespace) -> None:
    for schedule in _client(args).call("GET", f"promotions/{args.promotion}/codegen/schedules?limit=250"):
        fields = ("id", "state", "expression", "timezone", "quantity", "next_run", "last_job_id")
        print("  ".join(str(schedule[name]) for name in fields))


def schedules_delete(args: argparse.Namespace) -> None:
    _client(args).call("DELETE", f"promotions/{args.promotion}/codegen/schedules/{args.schedule_id}")
    print(f"deleted schedule {args.schedule_id}", file=sys.stderr)


def hooks_create(args: argparse.Namespace) -> None:
    headers = dict(header.split(":", 1) for header in args.header or [])
    body = {
        "scope": args.scope,
        "destination": args.destination,
        "is_active": not args.inactive,
        "headers": {name.strip(): value.strip() for name, value in headers.items()},
    }
    hook = _client(args).call("POST", "hooks", body)
    print("the secret is shown this once; keep it to verify X-Couponmint-Signature", file=sys.stderr)
    print(json.dumps(hook))


def hooks_list(args: argparse.Namespace) -> None:
    for hook in _client(args).call("GET", "hooks?limit=250"):
        print(f"{hook['id']}  {'active' if hook['is_active'] else 'inactive'}  {hook['scope']}  {hook['destination']}")


def hooks_delete(args: argparse.Namespace) -> None:
    _client(args).call("DELETE", f"hooks/{args.hook_id}")
    print(f"deleted hook {args.hook_id}", file=sys.stderr)


def _api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="API base URL (default COUPONMINT_URL or http://127.0.0.1:3000)")
    parser.add_argument("--token", help="X-Auth-Token (default COUPONMINT_TOKEN)")
    parser.add_argument("--store", help="store hash (default COUPONMINT_STORE or demo)")


def add_commands(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    schedules = groups.add_parser("schedules", help="a promotion's schedules, through the API")
    actions = schedules.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="start a bulk job at each tick of an EventBridge Scheduler expression")
    create.add_argument("--promotion", type=int, required=True)
    create.add_argument("--expression", required=True, help="rate(1 day), cron(0 9 ? * MON *), at(2026-12-24T09:00:00)")
    create.add_argument("--timezone", default="UTC", help="IANA time zone of the expression (default UTC)")
    create.add_argument("--quantity", type=int, required=True)
    create.add_argument("--format", help='format fields as JSON, e.g. \'{"prefix": "MON", "delimiter": "-"}\'')
    create.add_argument("--disabled", action="store_true", help="create it DISABLED")
    create.set_defaults(handler=schedules_create)
    listing = actions.add_parser("list", help="id, state, expression, time zone, quantity, next run, last job")
    listing.add_argument("--promotion", type=int, required=True)
    listing.set_defaults(handler=schedules_list)
    delete = actions.add_parser("delete", help="delete a schedule")
    delete.add_argument("--promotion", type=int, required=True)
    delete.add_argument("schedule_id")
    delete.set_defaults(handler=schedules_delete)

    hooks = groups.add_parser("hooks", help="webhooks, through the API")
    hook_actions = hooks.add_subparsers(dest="action", required=True)
    hook = hook_actions.add_parser("create", help="register a webhook (prints its secret once)")
    hook.add_argument("--scope", required=True, help="e.g. store/promotion/codegen/job/completed or store/promotion/*")
    hook.add_argument("--destination", required=True, help="https:// URL (the local stack also takes http://127.0.0.1)")
    hook.add_argument("--header", action="append", help="a header of the hook's, NAME:VALUE (repeatable)")
    hook.add_argument("--inactive", action="store_true", help="create it inactive")
    hook.set_defaults(handler=hooks_create)
    hook_list = hook_actions.add_parser("list", help="id, state, scope, destination")
    hook_list.set_defaults(handler=hooks_list)
    hook_delete = hook_actions.add_parser("delete", help="delete a webhook")
    hook_delete.add_argument("hook_id", type=int)
    hook_delete.set_defaults(handler=hooks_delete)
    for parser in (create, listing, delete, hook, hook_list, hook_delete):
        _api_arguments(parser)
