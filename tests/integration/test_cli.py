"""The `couponmint` command: tokens (create, list, revoke) and promotions, against the template's table."""

import time
from typing import Any

import pytest
from botocore.client import BaseClient

from couponmint.adapters.factory import repositories
from couponmint.config import get_settings
from couponmint.errors import Unauthenticated
from couponmint.models.records import Scope
from couponmint.service import accounts
from couponmint_dev.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    main(["--table", get_settings().table_name, *argv])
    return capsys.readouterr().out


def test_cli_tokens_create_list_and_revoke(
    resources: Any, fresh_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # When a read-only token is created
    token = run(
        capsys, "tokens", "create", "--store", fresh_store, "--scope", "read-only", "--label", "reports"
    ).strip()
    # Then it is printed once, stored by hash only, and works for reading this store only
    stores = repositories()
    record = accounts.authorize(stores.tokens, token, fresh_store, modifies=False)
    assert record.scopes == {Scope.READ_ONLY} and record.label == "reports"
    # And the listing shows its hash prefix, never the token
    listing = run(capsys, "tokens", "list", "--store", fresh_store)
    assert token not in listing
    assert record.token_hash[:12] in listing and "store_v2_marketing_read_only" in listing
    # When it is revoked by its hash prefix
    assert "revoked" in run(capsys, "tokens", "revoke", record.token_hash[:16])
    # Then it is gone, and it no longer authenticates once the API's cache of it has expired
    assert stores.tokens.get(record.token_hash) is None
    later = time.monotonic() + accounts.TOKEN_CACHE_SECONDS + 1
    with pytest.raises(Unauthenticated):
        accounts.authorize(stores.tokens, token, fresh_store, modifies=False, clock=lambda: later)


def test_cli_revoked_token_stops_working_within_the_cache_time(
    resources: Any, fresh_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a token the API has just accepted (and so remembers)
    token = run(capsys, "tokens", "create", "--store", fresh_store).strip()
    stores = repositories()
    now = [1000.0]
    record = accounts.authorize(stores.tokens, token, fresh_store, modifies=True, clock=lambda: now[0])
    # When it is revoked
    run(capsys, "tokens", "revoke", record.token_hash[:16])
    # Then it may still pass until the cache time is over, and never after
    now[0] += accounts.TOKEN_CACHE_SECONDS - 0.5
    assert accounts.authorize(stores.tokens, token, fresh_store, modifies=True, clock=lambda: now[0]) == record
    now[0] += 1.0
    with pytest.raises(Unauthenticated):
        accounts.authorize(stores.tokens, token, fresh_store, modifies=True, clock=lambda: now[0])


def test_cli_tokens_create_defaults_to_the_modify_scope(
    resources: Any, fresh_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token = run(capsys, "tokens", "create", "--store", fresh_store).strip()
    assert accounts.authorize(repositories().tokens, token, fresh_store, modifies=True).scopes == {Scope.MODIFY}


def test_cli_promotions_create_gives_the_next_id(
    resources: Any, fresh_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run(capsys, "promotions", "create", "--store", fresh_store, "--name", "A")
    second = run(capsys, "promotions", "create", "--store", fresh_store, "--name", "B", "--coupon-type", "SINGLE")
    assert '"id": 1' in first and '"coupon_type": "BULK"' in first
    assert '"id": 2' in second and '"coupon_type": "SINGLE"' in second


def test_cli_refuses_to_revoke_an_ambiguous_prefix(resources: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="give a longer prefix"):
        run(capsys, "tokens", "revoke", "")


def test_cli_stores_limits_sets_the_quota(resources: Any, fresh_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "stores", "limits", "--store", fresh_store, "--requests", "99", "--window-ms", "1000")
    assert repositories().limits.store_limits(fresh_store) == {"request_quota": 99, "window_ms": 1000}


def test_cli_tokens_list_and_revoke_read_an_index_not_the_table(
    resources: Any, fresh_store: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a token, and every DynamoDB call the CLI makes recorded
    token = run(capsys, "tokens", "create", "--store", fresh_store).strip()
    record = accounts.authorize(repositories().tokens, token, fresh_store, modifies=True)
    calls: list[tuple[str, Any]] = []
    real = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, params.get("IndexName")))
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    # When tokens are listed and one is revoked
    run(capsys, "tokens", "list")
    run(capsys, "tokens", "revoke", record.token_hash[:16])
    # Then the CLI queried gsi2 and never scanned the table (which holds every code)
    assert ("Query", "gsi2") in calls
    assert all(operation != "Scan" for operation, _ in calls)


def test_cli_stores_limits_sets_the_redemption_quota_and_keeps_the_other(
    resources: Any, fresh_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a store with a management quota
    run(capsys, "stores", "limits", "--store", fresh_store, "--requests", "99", "--window-ms", "1000")
    # When its redemption quota is set
    out = run(capsys, "stores", "limits", "--store", fresh_store, "--redemption-requests", "7000")
    # Then both are kept
    assert "7000 validations and redemptions per 30000 ms" in out
    assert repositories().limits.store_limits(fresh_store) == {
        "request_quota": 99,
        "window_ms": 1000,
        "redemption_quota": 7000,
        "redemption_window_ms": 30_000,
    }
