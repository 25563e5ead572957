"""Webhooks a store registers (BigCommerce's `/hooks`): create, list, read, change, delete.

A destination is checked when a hook is saved (and again at each delivery: service/deliveries.py).
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

from couponmint.errors import InvalidRequest, NotFound
from couponmint.logic import signatures
from couponmint.logic.destinations import Resolver, UnresolvableDestination, UnsafeDestination, check_destination
from couponmint.logic.pagination import offset_page
from couponmint.models.hooks import HookRecord, HookRequest
from couponmint.service.ports import HookStore

Clock = Callable[[], float]


def create_hook(
    hooks: HookStore,
    store_hash: str,
    client_id: str,
    request: HookRequest,
    *,
    allow_local_http: bool,
    resolve: Resolver,
    clock: Clock = time.time,
) -> HookRecord:
    """Save a new hook with a new signing secret (shown to its owner this once)."""
    _check(request.destination, allow_local_http=allow_local_http, resolve=resolve)
    now = int(clock())
    hook = HookRecord(
        store_hash=store_hash,
        hook_id=hooks.next_id(store_hash),
        client_id=client_id,
        scope=request.scope,
        destination=request.destination,
        is_active=request.is_active,
        headers=request.headers or {},
        secret=signatures.new_secret(),
        created_at=now,
        updated_at=now,
    )
    hooks.put(hook)
    return hook


def change_hook(
    hooks: HookStore,
    store_hash: str,
    hook_id: int,
    changes: Mapping[str, Any],
    *,
    allow_local_http: bool,
    resolve: Resolver,
    clock: Clock = time.time,
) -> HookRecord:
    current = find_hook(hooks, store_hash, hook_id)
    if "destination" in changes and changes["destination"] is not None:
        _check(changes["destination"], allow_local_http=allow_local_http, resolve=resolve)
    kept = {name: value for name, value in changes.items() if value is not None}
    changed = current.model_copy(update={**kept, "updated_at": int(clock())})
    hooks.put(changed)
    return changed


def delete_hook(hooks: HookStore, store_hash: str, hook_id: int) -> HookRecord:
    """Delete a hook; returns it as it was (BigCommerce answers the deleted hook)."""
    hook = find_hook(hooks, store_hash, hook_id)
    hooks.delete(store_hash, hook_id)
    return hook


def find_hook(hooks: HookStore, store_hash: str, hook_id: int) -> HookRecord:
    hook = hooks.get(store_hash, hook_id)
    if hook is None:
        raise NotFound(f"hook {hook_id} does not exist")
    return hook


def list_hooks(
    hooks: HookStore,
    store_hash: str,
    *,
    page: int,
    limit: int,
    is_active: bool | None = None,
    scope: str | None = None,
    destination: str | None = None,
) -> tuple[list[HookRecord], dict[str, Any]]:
    matching = [
        hook
        for hook in hooks.of_store(store_hash)
        if (is_active is None or hook.is_active is is_active)
        and (scope is None or hook.scope == scope)
        and (destination is None or hook.destination == destination)
    ]
    return offset_page(matching, page, limit)


def _check(destination: str, *, allow_local_http: bool, resolve: Resolver) -> None:
    try:
        check_destination(destination, allow_local_http=allow_local_http, resolve=resolve)
    except (UnsafeDestination, UnresolvableDestination) as refused:
        raise InvalidRequest(f"destination: {refused}") from None
