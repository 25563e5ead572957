"""Webhooks (couponmint's extension, in BigCommerce's `/v3/hooks` shape): register, list, read, change, delete."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from couponmint.adapters.factory import repositories
from couponmint.adapters.webhooks import resolve_host
from couponmint.api.idempotency import answered_once
from couponmint.api.openapi import READ_ERRORS, WRITE_ERRORS, answers
from couponmint.api.paths import HOOK, HOOKS, hook_id_of
from couponmint.api.views import json_response
from couponmint.config import get_settings
from couponmint.logic.pagination import MAX_LIMIT
from couponmint.models.hooks import (
    CreatedHookResponse,
    CreatedHookView,
    HookCollection,
    HookPatch,
    HookRequest,
    HookResponse,
    HookView,
)
from couponmint.service import accounts, hooks

router = Router()


@router.post(
    HOOKS,
    summary="Create a webhook; its signing secret is in the answer, this once (couponmint extension)",
    responses=answers(200, CreatedHookResponse, *WRITE_ERRORS),
)
def create_hook(store_hash: str, body: Annotated[HookRequest, Body()]) -> Response[Any]:
    def create() -> Response[Any]:
        hook = hooks.create_hook(
            repositories().hooks,
            store_hash,
            _client_id(),
            body,
            allow_local_http=get_settings().hook_allow_local_http,
            resolve=resolve_host,
        )
        created = CreatedHookView(**HookView.of(hook).model_dump(), secret=hook.secret)
        return json_response(200, CreatedHookResponse(data=created))

    return answered_once(router.current_event, create)


@router.get(HOOKS, summary="List webhooks (couponmint extension)", responses=answers(200, HookCollection, *READ_ERRORS))
def list_hooks(
    store_hash: str,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    is_active: Annotated[bool | None, Query()] = None,
    scope: Annotated[str | None, Query()] = None,
    destination: Annotated[str | None, Query()] = None,
) -> Response[Any]:
    shown, meta = hooks.list_hooks(
        repositories().hooks,
        store_hash,
        page=page,
        limit=limit,
        is_active=is_active,
        scope=scope,
        destination=destination,
    )
    return json_response(200, HookCollection(data=[HookView.of(hook) for hook in shown], meta=meta))


@router.get(HOOK, summary="Get a webhook (couponmint extension)", responses=answers(200, HookResponse, *READ_ERRORS))
def get_hook(store_hash: str, hook_id: str) -> Response[Any]:
    hook = hooks.find_hook(repositories().hooks, store_hash, hook_id_of(hook_id))
    return json_response(200, HookResponse(data=HookView.of(hook)))


@router.put(
    HOOK,
    summary="Change a webhook: the fields given replace its own (couponmint extension)",
    responses=answers(200, HookResponse, *WRITE_ERRORS),
)
def change_hook(store_hash: str, hook_id: str, body: Annotated[HookPatch, Body()]) -> Response[Any]:
    hook = hooks.change_hook(
        repositories().hooks,
        store_hash,
        hook_id_of(hook_id),
        body.changes(),
        allow_local_http=get_settings().hook_allow_local_http,
        resolve=resolve_host,
    )
    return json_response(200, HookResponse(data=HookView.of(hook)))


@router.delete(
    HOOK,
    summary="Delete a webhook; answers it as it was (couponmint extension)",
    responses=answers(200, HookResponse, *READ_ERRORS[:-1]),
)
def delete_hook(store_hash: str, hook_id: str) -> Response[Any]:
    hook = hooks.delete_hook(repositories().hooks, store_hash, hook_id_of(hook_id))
    return json_response(200, HookResponse(data=HookView.of(hook)))


def _client_id() -> str:
    """Who registered the hook: the first characters of the token's hash (what `couponmint tokens list` shows)."""
    return accounts.hash_token(router.current_event.headers.get("X-Auth-Token") or "")[:12]
