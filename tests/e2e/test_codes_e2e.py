"""Coupon codes end to end with the public `bigcommerce` client: generate, walk, delete, find."""

from typing import Any

from bigcommerce.connection import OAuthConnection

from tests.e2e.conftest import LocalStack

RULES = [{"action": {"cart_value": {"discount": {"percentage_amount": "15"}}}}]


def walk_cursors(bc_client: OAuthConnection, url: str, limit: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    answer = bc_client.get(url, limit=limit)
    while True:
        seen += answer["data"]
        following = answer["meta"]["cursor_pagination"]["links"].get("next")
        if following is None:
            return seen
        answer = bc_client.get(url + following)


def test_e2e_codes_generate_walk_delete_and_find(stack: LocalStack, bc_client: OAuthConnection) -> None:
    # Given a new BULK promotion with three generated batches
    promotion = bc_client.post(
        stack.v3_url("promotions"),
        {"name": "E2E walk", "redemption_type": "COUPON", "coupon_type": "BULK", "rules": RULES},
    )["data"]
    codegen_url = stack.v3_url(f"promotions/{promotion['id']}/codegen")
    made = [
        entry["code"]
        for size in (50, 70, 30)
        for entry in bc_client.post(codegen_url, {"batch_size": size})["data"]["codes"]
    ]
    codes_url = stack.v3_url(f"promotions/{promotion['id']}/codes")
    # When every code is walked with cursors, 40 a page
    by_cursor = walk_cursors(bc_client, codes_url, 40)
    # Then the walk holds exactly the 150 generated codes, each once, newest first
    assert sorted(item["code"] for item in by_cursor) == sorted(made)
    ids = [item["id"] for item in by_cursor]
    assert len(set(ids)) == 150 and ids == sorted(ids, reverse=True)
    # When walked with pages
    by_page: list[dict[str, Any]] = []
    first = bc_client.get(codes_url, page=1, limit=40)
    assert first["meta"]["pagination"]["total"] == 150 and first["meta"]["pagination"]["total_pages"] == 4
    for page in range(1, 5):
        by_page += bc_client.get(codes_url, page=page, limit=40)["data"]
    # Then the pages show the same codes in the same order
    assert by_page == by_cursor
    # When ten codes are deleted by id
    doomed = ids[:10]
    bc_client.delete(codes_url + "?id:in=" + ",".join(map(str, doomed)))
    assert bc_client._last_response.status_code == 204
    # Then they are gone from the walk and the total
    remaining = walk_cursors(bc_client, codes_url, 250)
    assert len(remaining) == 140
    assert not {item["id"] for item in remaining} & set(doomed)
    assert bc_client.get(codes_url, page=1, limit=1)["meta"]["pagination"]["total"] == 140
    # And a remaining code is found by its text, in any case
    wanted = remaining[7]["code"]
    found = bc_client.get(stack.v3_url("promotions/codes"), code=wanted.lower())
    assert [item["id"] for item in found["data"]] == [remaining[7]["id"]]
