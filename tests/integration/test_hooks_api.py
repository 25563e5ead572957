"""Webhooks through the real ApiFunction: BigCommerce's /v3/hooks shape, and where a hook may call."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from couponmint.config import get_settings
from tests.integration.helpers import HttpAnswer, Store

Api = Callable[..., HttpAnswer]
COMPLETED = "store/promotion/codegen/job/completed"


def hooks_path(store: Store) -> str:
    return f"/stores/{store.store_hash}/v3/hooks"


def create(call_api: Api, store: Store, **body: Any) -> HttpAnswer:
    return call_api("POST", hooks_path(store), json.dumps(body), store.token)


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As deployed: the local stack's allowance of http://127.0.0.1 is off."""
    monkeypatch.setenv("COUPONMINT_HOOK_ALLOW_LOCAL_HTTP", "false")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_hooks_create_answers_the_hook_and_its_secret_once(call_api: Api, store: Store) -> None:
    # When a store registers a hook
    answer = create(call_api, store, scope=COMPLETED, destination="http://127.0.0.1:9/in", headers={"X-Shop": "7"})
    # Then it is answered 200 in BigCommerce's shape, with its signing secret
    assert answer.status == 200, answer.body
    data = answer.body["data"]
    assert {k: data[k] for k in ("scope", "destination", "is_active", "headers", "store_hash")} == {
        "scope": COMPLETED,
        "destination": "http://127.0.0.1:9/in",
        "is_active": True,
        "headers": {"X-Shop": "7"},
        "store_hash": store.store_hash,
    }
    assert isinstance(data["id"], int) and len(data["secret"]) == 64 and len(data["client_id"]) == 12
    assert data["created_at"] == data["updated_at"] and answer.body["meta"] == {}
    # And the secret is never shown again
    shown = call_api("GET", f"{hooks_path(store)}/{data['id']}", token=store.readonly_token).body["data"]
    assert "secret" not in shown and shown == {k: v for k, v in data.items() if k != "secret"}


def test_hooks_list_filters_change_and_delete(call_api: Api, store: Store) -> None:
    # Given three hooks, one inactive
    first = create(call_api, store, scope=COMPLETED, destination="http://127.0.0.1:9/a").body["data"]
    second = create(call_api, store, scope="store/promotion/*", destination="http://127.0.0.1:9/b").body["data"]
    create(call_api, store, scope=COMPLETED, destination="http://127.0.0.1:9/c", is_active=False)

    # When they are listed with filters
    def ids(query: str) -> list[int]:
        answer = call_api("GET", f"{hooks_path(store)}{query}", token=store.readonly_token)
        assert answer.status == 200, answer.body
        return [hook["id"] for hook in answer.body["data"]]

    # Then each filter keeps what it names
    assert len(ids("")) == 3
    assert ids("?is_active=true") == [first["id"], second["id"]]
    assert ids(f"?scope={COMPLETED}&is_active=true") == [first["id"]]
    assert ids("?destination=http://127.0.0.1:9/b") == [second["id"]]
    assert ids("?limit=1&page=2") == [second["id"]]
    # When one is deactivated, then only that changes
    changed = call_api("PUT", f"{hooks_path(store)}/{first['id']}", json.dumps({"is_active": False}), store.token)
    assert changed.status == 200 and changed.body["data"]["is_active"] is False
    assert changed.body["data"]["destination"] == first["destination"]
    # When one is deleted, then the answer is the hook, and it is gone
    deleted = call_api("DELETE", f"{hooks_path(store)}/{second['id']}", token=store.token)
    assert deleted.status == 200 and deleted.body["data"]["id"] == second["id"]
    assert call_api("GET", f"{hooks_path(store)}/{second['id']}", token=store.token).status == 404
    assert call_api("DELETE", f"{hooks_path(store)}/{second['id']}", token=store.token).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "store/product/*", "destination": "http://127.0.0.1:9/"}, "scope"),
        ({"scope": "*", "destination": "http://127.0.0.1:9/"}, "scope"),
        ({"scope": COMPLETED, "destination": "http://127.0.0.1:9/", "headers": {"Host": "x"}}, "headers"),
        ({"scope": COMPLETED, "destination": "http://127.0.0.1:9/", "is_active": "yes"}, "is_active"),
        ({"scope": COMPLETED}, "destination"),
        ({"scope": COMPLETED, "destination": "http://10.0.0.1:9/"}, "destination"),
    ],
)
def test_hooks_refuse_a_bad_field_with_422_naming_it(
    call_api: Api, store: Store, body: dict[str, Any], field: str
) -> None:
    answer = call_api("POST", hooks_path(store), json.dumps(body), store.token)
    assert answer.status == 422, answer.body
    assert answer.body["errors"][0]["title"].startswith(f"{field}:"), answer.body


@pytest.mark.parametrize(
    "destination", ["http://169.254.169.254/", "https://10.0.0.1/", "https://[::1]/", "http://127.0.0.1:9/in"]
)
def test_hooks_deployed_refuse_destinations_that_are_not_public_https(
    call_api: Api, store: Store, deployed: None, destination: str
) -> None:
    answer = create(call_api, store, scope=COMPLETED, destination=destination)
    assert answer.status == 422, answer.body
    assert answer.body["errors"][0]["title"].startswith("destination:")
    # And a change to such a destination is refused the same way
    public = create(call_api, store, scope=COMPLETED, destination="https://93.184.215.14/in")
    assert public.status == 200, public.body
    path = f"{hooks_path(store)}/{public.body['data']['id']}"
    assert call_api("PUT", path, json.dumps({"destination": destination}), store.token).status == 422


def test_hooks_read_only_token_may_list_not_change(call_api: Api, store: Store) -> None:
    made = create(call_api, store, scope=COMPLETED, destination="http://127.0.0.1:9/a").body["data"]
    body = json.dumps({"scope": COMPLETED, "destination": "http://127.0.0.1:9/b"})
    assert call_api("POST", hooks_path(store), body, store.readonly_token).status == 403
    assert call_api("PUT", f"{hooks_path(store)}/{made['id']}", "{}", store.readonly_token).status == 403
    assert call_api("DELETE", f"{hooks_path(store)}/{made['id']}", token=store.readonly_token).status == 403
    assert call_api("GET", hooks_path(store), token=store.readonly_token).status == 200


def test_hooks_of_another_store_are_not_found(call_api: Api, store: Store) -> None:
    made = create(call_api, store, scope=COMPLETED, destination="http://127.0.0.1:9/a").body["data"]
    other = f"/stores/{store.store_hash}x/v3/hooks/{made['id']}"
    assert call_api("GET", other, token=store.token).status == 403
    assert call_api("GET", f"{hooks_path(store)}/999999", token=store.token).status == 404
    assert call_api("GET", f"{hooks_path(store)}/abc", token=store.token).status == 404
