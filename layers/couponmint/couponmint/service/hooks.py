"""Webhooks a store registers (BigCommerce's `/hooks`): create, list, read, change, delete.

A destination is checked when a hook is saved (and again at each delivery: service/deliveries.py).
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

from couponmint.errors import InvalidRequest, NotFound
from couponmint.logic import signatures
from couponmint.logic.destinations import Resolver, UnresolvableDestination, UnsafeDestination, check_destination
from couponmint.logic.expiring import ExpiringCache
from couponmint.logic.hook_scopes import matches
from couponmint.logic.pagination import offset_page
from couponmint.models.events import DomainEvent
from couponmint.models.hooks import HookRecord, HookRequest
from couponmint.service.ports import EventPublisher, HookStore, Monotonic

Clock = Callable[[], float]

# Each process reads a store's hooks at most once per this many seconds to decide whether anyone listens to its
# redemptions. A hook saved in this process is seen at once (`_forget_listeners`); one saved in another process
# gets the redemptions made from at most this long after it was saved.
LISTENERS_CACHE_SECONDS = 5.0
_listeners: ExpiringCache[str, frozenset[str]] = ExpiringCache(LISTENERS_CACHE_SECONDS)


def listening_scopes(hooks: HookStore, store_hash: str, clock: Monotonic = time.monotonic) -> frozenset[str]:
    """The scopes of the store's active hooks (read at most once per LISTENERS_CACHE_SECONDS)."""
    now = clock()
    scopes = _listeners.get(store_hash, now)
    if scopes is None:
        scopes = frozenset(hook.scope for hook in hooks.of_store(store_hash) if hook.is_active)
        _listeners.put(store_hash, scopes, now)
    return scopes


class Listened:
    """An EventPublisher that publishes an event only when an active hook of its store matches its scope: an
    event nobody listens to would cost its publisher a PutEvents and the delivery function a fan-out to nobody."""

    def __init__(self, events: EventPublisher, hooks: HookStore, clock: Monotonic = time.monotonic) -> None:
        self._events = events
        self._hooks = hooks
        self._clock = clock

    def publish(self, event: DomainEvent) -> None:
        if any(matches(scope, event.scope) for scope in listening_scopes(self._hooks, event.store_hash, self._clock)):
            self._events.publish(event)


def _forget_listeners(store_hash: str) -> None:
    _listeners.forget(store_hash)


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
    _forget_listeners(store_hash)
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
    _forget_listeners(store_hash)
    return changed


def delete_hook(hooks: HookStore, store_hash: str, hook_id: int) -> HookRecord:
    """Delete a hook; returns it as it was (BigCommerce answers the deleted hook)."""
    hook = find_hook(hooks, store_hash, hook_id)
    hooks.delete(store_hash, hook_id)
    _forget_listeners(store_hash)
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
