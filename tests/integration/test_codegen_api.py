"""POST /stores/{store_hash}/v3/promotions/{promotion_id}/codegen through the real ApiFunction handler."""

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from couponmint.adapters.aws import s3_client, sqs_client
from couponmint.adapters.factory import repositories
from couponmint.config import get_settings
from couponmint.models.codegen import CodeFormat
from couponmint.models.messages import NewBatch
from couponmint.service import codegen
from couponmint_dev.local.lambdas import local_context
from tests.integration.helpers import EVENTS, HttpAnswer, Store, deliver_queued, fresh_other_store

CREATED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
FORBIDDEN_TITLE = "You don't have a required scope to access the endpoint"
BULK_ONLY = (
    "Bulk code generation is only supported for promotions with redemption_type of 'COUPON' and coupon_type of 'BULK'."
)

Caller = Callable[..., HttpAnswer]


def codegen_path(store: Store, promotion_id: int | str = 1) -> str:
    return f"/stores/{store.store_hash}/v3/promotions/{promotion_id}/codegen"


def queued_messages() -> int:
    attributes = sqs_client().get_queue_attributes(
        QueueUrl=get_settings().queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def export_rows(store: Store, batch_id: str) -> list[dict[str, str]]:
    key = f"exports/{store.store_hash}/1/batches/{batch_id}.csv"
    body = s3_client().get_object(Bucket=get_settings().export_bucket, Key=key)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_codegen_answers_201_with_the_contract_body_and_stores_every_code(
    generator_running: None, store: Store, call_api: Caller
) -> None:
    # Given a BULK promotion
    # When 5 codes are asked for with usage limits
    answer = call_api(
        "POST",
        codegen_path(store),
        json.dumps({"batch_size": 5, "max_uses": 10, "max_uses_per_customer": 5}),
        store.token,
    )
    # Then the answer is BigCommerce's 201 body, exactly
    assert answer.status == 201
    assert answer.headers["Content-Type"] == "application/json"
    assert set(answer.body) == {"data", "meta"} and answer.body["meta"] == {}
    data = answer.body["data"]
    assert set(data) == {"created", "max_uses", "max_uses_per_customer", "batch_size", "codes"}
    assert (data["max_uses"], data["max_uses_per_customer"], data["batch_size"]) == (10, 5, 5)
    assert CREATED.match(data["created"])
    codes = [entry["code"] for entry in data["codes"]]
    assert all(set(entry) == {"code"} for entry in data["codes"])
    assert len(codes) == 5 == len(set(codes))
    assert all(re.fullmatch(r"[A-Z0-9]{16}", code) for code in codes)
    # And every code is stored store-wide, for this promotion, with the limits
    stores = repositories()
    stored = [stores.codes.get(store.store_hash, code) for code in codes]
    assert all(record is not None for record in stored)
    assert {(r.promotion_id, r.max_uses, r.max_uses_per_customer) for r in stored if r} == {(1, 10, 5)}
    assert len({r.id for r in stored if r}) == 5
    # And lower-case lookups find them (uniqueness is case-insensitive)
    assert stores.codes.get(store.store_hash, codes[0].lower()) is not None
    # And the batch's CSV export in S3 holds exactly these codes
    batch_id = stored[0].batch_id if stored[0] else ""
    rows = export_rows(store, batch_id)
    assert [row["code"] for row in rows] == codes
    assert {(row["max_uses"], row["max_uses_per_customer"]) for row in rows} == {("10", "5")}


def test_codegen_makes_250_distinct_codes_in_the_requested_format(
    generator_running: None, store: Store, call_api: Caller
) -> None:
    # Given a format with prefix, suffix, delimiter, exclusions and a short random part
    excluded = list("ABCDEFGHIJ0123")
    body = {
        "batch_size": 250,
        "prefix": "SUMMER",
        "suffix": "26",
        "delimiter": "-",
        "exclude_characters": excluded,
        "code_length": 8,
    }
    # When the largest batch is asked for
    answer = call_api("POST", codegen_path(store), json.dumps(body), store.token)
    # Then 250 distinct codes come back, each in the format and none using an excluded character
    assert answer.status == 201
    codes = [entry["code"] for entry in answer.body["data"]["codes"]]
    assert len(codes) == 250 == len(set(codes))
    assert answer.body["data"]["max_uses"] == 1 and answer.body["data"]["max_uses_per_customer"] == 1
    for code in codes:
        match = re.fullmatch(r"SUMMER-([A-Z0-9]{8})-26", code)
        assert match is not None
        assert not set(match.group(1)) & set(excluded)
    # And all 250 are stored
    stores = repositories()
    assert all(stores.codes.get(store.store_hash, code) for code in codes)
    assert stores.promotions.store_code_count(store.store_hash) == 250


def test_codegen_batch_size_one_is_accepted(generator_running: None, store: Store, call_api: Caller) -> None:
    answer = call_api("POST", codegen_path(store), '{"batch_size": 1}', store.token)
    assert answer.status == 201
    assert len(answer.body["data"]["codes"]) == 1


BAD_BODIES: list[tuple[str, str | None, int]] = [
    ("batch_size zero", '{"batch_size": 0}', 422),
    ("batch_size 251", '{"batch_size": 251}', 422),
    ("batch_size float", '{"batch_size": 5.0}', 422),
    ("batch_size string", '{"batch_size": "5"}', 422),
    ("batch_size bool", '{"batch_size": true}', 422),
    ("batch_size null", '{"batch_size": null}', 422),
    ("batch_size missing", '{"max_uses": 1}', 422),
    ("max_uses negative", '{"batch_size": 1, "max_uses": -1}', 422),
    ("max_uses too large", '{"batch_size": 1, "max_uses": 100001}', 422),
    ("max_uses_per_customer too large", '{"batch_size": 1, "max_uses_per_customer": 100001}', 422),
    ("prefix lower case", '{"batch_size": 1, "prefix": "abc"}', 422),
    ("prefix too long", '{"batch_size": 1, "prefix": "' + "A" * 21 + '"}', 422),
    ("delimiter other", '{"batch_size": 1, "delimiter": "."}', 422),
    ("exclude lower", '{"batch_size": 1, "exclude_characters": ["a"]}', 422),
    ("code_length 5", '{"batch_size": 1, "code_length": 5}', 422),
    ("code_length 17", '{"batch_size": 1, "code_length": 17}', 422),
    (
        "total length 51",
        json.dumps({"batch_size": 1, "prefix": "A" * 20, "suffix": "B" * 20, "code_length": 11}),
        422,
    ),
    ("garbage", "this is not json", 400),
    ("truncated json", '{"batch_size": 5', 400),
    ("json array", "[1, 2]", 400),
    ("json string", '"batch_size"', 400),
    ("json number", "5", 400),
    ("empty body", "", 400),
    ("no body", None, 400),
]


@pytest.mark.parametrize(("case", "body", "status"), BAD_BODIES, ids=[case for case, _, _ in BAD_BODIES])
def test_codegen_refuses_bad_input_in_the_contract_shape_and_queues_nothing(
    store: Store, call_api: Caller, case: str, body: str | None, status: int
) -> None:
    # Given the queue's depth
    before = queued_messages()
    # When a bad body is sent
    answer = call_api("POST", codegen_path(store), body, store.token)
    # Then the answer has the contract's shape for its status
    assert answer.status == status, answer.body
    if status == 422:
        assert set(answer.body) == {"errors"}
        assert len(answer.body["errors"]) >= 1
        assert all(e["status"] == 422 and e["title"] for e in answer.body["errors"])
    else:
        assert set(answer.body) == {"status", "title", "type", "detail"} and answer.body["status"] == 400
    # And nothing reached the queue or the table
    assert queued_messages() == before
    assert repositories().promotions.store_code_count(store.store_hash) == 0


def test_codegen_422_title_names_the_field(store: Store, call_api: Caller) -> None:
    answer = call_api("POST", codegen_path(store), '{"batch_size": 251}', store.token)
    assert answer.body == {
        "errors": [{"status": 422, "title": "batch_size: Input should be less than or equal to 250"}]
    }


def test_codegen_refuses_a_body_over_one_mebibyte(store: Store, call_api: Caller) -> None:
    before = queued_messages()
    padding = "x" * (1024 * 1024)
    answer = call_api("POST", codegen_path(store), json.dumps({"batch_size": 1, "pad": padding}), store.token)
    assert answer.status == 413
    assert answer.body["status"] == 413
    assert queued_messages() == before


def test_codegen_refuses_formats_too_small_for_the_batch(store: Store, call_api: Caller) -> None:
    # Given a format of 2 characters and length 6: 64 possible codes
    body = {
        "batch_size": 1,
        "code_length": 6,
        "exclude_characters": list("ABCDEFGHIJKLMNOPQRSTUVWXYZ01234567"),
    }
    # When codes are asked for
    answer = call_api("POST", codegen_path(store), json.dumps(body), store.token)
    # Then it is refused with the numbers, never attempted
    assert answer.status == 422
    title = answer.body["errors"][0]["title"]
    assert (
        title.startswith("code_length, charset, exclude_characters: too few possible codes")
        and "64 possible codes" in title
    )


@pytest.mark.parametrize(
    ("token_of", "status"),
    [(None, 401), ("unknown", 401), ("readonly", 403), ("other_store", 403)],
)
def test_codegen_checks_the_token_before_the_body(
    store: Store, call_api: Caller, token_of: str | None, status: int
) -> None:
    # Given a token that may not generate codes in this store (and a body that is also bad)
    tokens = {None: None, "unknown": "not-a-token", "readonly": store.readonly_token}
    if token_of == "other_store":
        from couponmint.models.records import Scope
        from couponmint.service import accounts

        token = accounts.create_token(repositories().tokens, store.store_hash + "x", [Scope.MODIFY])
    else:
        token = tokens[token_of]
    # When it posts
    for body in ('{"batch_size": 5}', "garbage"):
        answer = call_api("POST", codegen_path(store), body, token)
        # Then authentication answers first
        assert answer.status == status
        if status == 403:
            assert answer.body["title"] == FORBIDDEN_TITLE and answer.body["status"] == 403
        else:
            assert answer.body["status"] == 401


@pytest.mark.parametrize("promotion_id", [2, 3])
def test_codegen_answers_405_for_promotions_that_are_not_bulk_coupons(
    store: Store, call_api: Caller, promotion_id: int
) -> None:
    answer = call_api("POST", codegen_path(store, promotion_id), '{"batch_size": 5}', store.token)
    assert answer.status == 405
    assert answer.body == {"status": 405, "title": "Method Not Allowed", "error": BULK_ONLY}


@pytest.mark.parametrize("promotion_id", [99, "abc", "0"])
def test_codegen_answers_404_for_unknown_promotions(store: Store, call_api: Caller, promotion_id: int | str) -> None:
    answer = call_api("POST", codegen_path(store, promotion_id), '{"batch_size": 5}', store.token)
    assert answer.status == 404
    assert answer.body["status"] == 404


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_codegen_answers_405_with_allow_for_other_methods(store: Store, call_api: Caller, method: str) -> None:
    answer = call_api(method, codegen_path(store), None, store.token)
    assert answer.status == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.body["title"] == "Method Not Allowed"


def test_codegen_answers_202_past_the_wait_budget_and_the_batch_finishes_later(
    store: Store, call_api: Caller, generator_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no generator running and a wait budget of a fraction of a second
    monkeypatch.setattr(get_settings(), "api_wait_seconds", 0.2)
    # When codes are asked for
    answer = call_api("POST", codegen_path(store), '{"batch_size": 3}', store.token)
    # Then the answer is 202 with the batch's Location, status PENDING
    assert answer.status == 202
    location = answer.headers["Location"]
    assert re.fullmatch(rf"/stores/{store.store_hash}/v3/promotions/1/codegen/batches/[0-9a-f]{{32}}", location)
    assert answer.body["data"]["status"] == "PENDING" and answer.body["data"]["codes"] == []
    pending = call_api("GET", location, None, store.readonly_token)
    assert pending.status == 200 and pending.body["data"]["status"] == "PENDING"
    # When the generator gets the queued message
    deliver_queued(generator_handler)
    # Then the batch reads DONE with 3 stored codes and a download URL
    done = call_api("GET", location, None, store.readonly_token)
    assert done.status == 200
    assert done.body["data"]["status"] == "DONE"
    codes = [entry["code"] for entry in done.body["data"]["codes"]]
    assert len(codes) == 3
    assert all(repositories().codes.get(store.store_hash, code) for code in codes)
    assert done.body["data"]["download_url"].startswith("http")


def test_codegen_batch_of_another_store_is_not_found(store: Store, call_api: Caller) -> None:
    # Given a batch of this store, and another store with the same promotion id
    batch = codegen.new_batch_record(
        store.store_hash,
        1,
        "b" * 32,
        NewBatch(
            batch_size=1, max_uses=1, max_uses_per_customer=1, code_format=CodeFormat(), created=datetime.now(UTC)
        ),
    )
    repositories().batches.put_once(batch)
    other = fresh_other_store(store)
    assert call_api("GET", codegen_path(store) + "/batches/" + "b" * 32, None, store.token).status == 200
    # When the other store asks for that batch id on its own path
    answer = call_api(
        "GET", f"/stores/{other.store_hash}/v3/promotions/1/codegen/batches/{'b' * 32}", None, other.token
    )
    # Then it is not found there (nor is an id that exists nowhere)
    assert answer.status == 404
    assert call_api("GET", codegen_path(store) + "/batches/" + "0" * 32, None, store.token).status == 404


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_codegen_reads_the_body_as_json_whatever_the_content_type(
    generator_running: None, store: Store, api_handler: Any, content_type: str | None
) -> None:
    # Given the request `curl -d '{"batch_size":2}'` sends (form-encoded by default) or another type
    event = json.loads((EVENTS / "api_codegen_post.json").read_text())
    headers = {k: v for k, v in event["headers"].items() if k != "Content-Type"}
    if content_type:
        headers["Content-Type"] = content_type
    headers["X-Auth-Token"] = store.token
    event.update(
        path=codegen_path(store),
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
        body='{"batch_size": 2}',
    )
    # When it reaches the API
    raw = api_handler(event, local_context("ApiFunction"))
    # Then the body is read as JSON
    assert raw["statusCode"] == 201, raw["body"]
    assert len(json.loads(raw["body"])["data"]["codes"]) == 2


@pytest.mark.parametrize(
    ("fields", "shape"),
    [
        ({"charset": "unambiguous"}, r"[0-9ABCDEFGHJKMNPQRSTVWXYZ]{16}"),
        ({"charset": "numeric", "code_length": 12}, r"[0-9]{12}"),
        ({"charset": "alphabetic", "prefix": "GIFT", "delimiter": "-"}, r"GIFT-[A-Z]{16}"),
        ({"pattern": "XMAS-####-####"}, r"XMAS-[A-Z0-9]{4}-[A-Z0-9]{4}"),
        (
            {"pattern": "XMAS-####-####", "charset": "unambiguous", "check_character": True},
            r"XMAS-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{5}",
        ),
    ],
)
def test_codegen_makes_codes_in_the_format_asked(
    generator_running: None, store: Store, call_api: Caller, fields: dict[str, Any], shape: str
) -> None:
    # When a batch is asked for in a format of couponmint's extension
    answer = call_api("POST", codegen_path(store), json.dumps({"batch_size": 50, **fields}), store.token)
    # Then every code has exactly that shape
    assert answer.status == 201, answer.body
    codes = [code["code"] for code in answer.body["data"]["codes"]]
    assert len(set(codes)) == 50 and all(re.fullmatch(shape, code) for code in codes)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pattern": "XMAS-####", "prefix": "A"}, "pattern"),
        ({"pattern": "XMAS-####", "code_length": 8}, "pattern"),
        ({"pattern": "X###"}, "pattern"),
        ({"pattern": "xmas-####"}, "pattern"),
        ({"charset": "emoji"}, "charset"),
        ({"check_character": "yes"}, "check_character"),
        ({"charset": "numeric", "exclude_characters": list("012345678")}, "exclude_characters"),
    ],
)
def test_codegen_refuses_format_combinations_the_contract_refuses(
    store: Store, call_api: Caller, fields: dict[str, Any], field: str
) -> None:
    answer = call_api("POST", codegen_path(store), json.dumps({"batch_size": 1, **fields}), store.token)
    assert answer.status == 422
    assert answer.body["errors"][0]["title"].startswith(f"{field}:"), answer.body


def test_find_by_text_reads_unambiguous_look_alikes(generator_running: None, store: Store, call_api: Caller) -> None:
    # Given codes of the unambiguous charset, some with a 0 or a 1 in them
    body = {"batch_size": 100, "charset": "unambiguous", "pattern": "GOLD-########"}
    made = call_api("POST", codegen_path(store), json.dumps(body), store.token).body["data"]["codes"]
    code = next(c["code"] for c in made if "0" in c["code"][5:] or "1" in c["code"][5:])
    # When a person types it in lower case with O for 0 and I or L for 1
    typed = "gold-" + code[5:].replace("0", "o").replace("1", "l")
    found = call_api("GET", f"/stores/{store.store_hash}/v3/promotions/codes?code={typed}", None, store.token)
    # Then the code is found
    assert found.status == 200 and [c["code"] for c in found.body["data"]] == [code]
