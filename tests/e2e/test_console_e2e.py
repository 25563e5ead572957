"""The marketer console in headless Chromium on the local stack, found by role and label as a screen reader would.

Each test signs in in its own browser context and works on a promotion of its own (made through the API),
so the tests share the session's stack without depending on each other.
"""

import csv
import re
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.base_path_proxy import under_base_path
from tests.e2e.conftest import LocalStack
from tests.e2e.console_steps import (
    api,
    new_bulk_promotion,
    open_promotion,
    redeem,
    roll_back,
    sign_in,
    stored_codes,
)

pytest_plugins = ["tests.e2e.console_browser"]

JOB_TIMEOUT_MS = 120_000


def test_console_sign_in_keeps_the_token_in_the_tabs_session_storage_only(page: Page, stack: LocalStack) -> None:
    # Given the console, opened without a token
    page.goto(f"{stack.base_url}/console")
    # When the marketer signs in with the store and a modify token
    sign_in(page, stack)
    # Then the header names the store and what the token may do
    expect(page.get_by_text("Store demo")).to_be_visible()
    expect(page.get_by_text("modify", exact=True)).to_be_visible()
    # And the token is in sessionStorage, nowhere else: not in the URL, localStorage or a cookie
    assert stack.token in page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    assert stack.token not in page.url
    # And the stack's log of the requests the console made does not hold it either
    assert stack.log is not None
    assert stack.token not in stack.log.read_text()


def test_console_sign_in_with_an_unknown_token_says_so_beside_the_token(page: Page, stack: LocalStack) -> None:
    # Given the sign-in page
    page.goto(f"{stack.base_url}/console")
    # When the marketer signs in with a token the API does not know
    page.get_by_label("Store").fill(stack.store_hash)
    page.get_by_label("Token").fill("not-a-token-of-this-store")
    page.get_by_role("button", name="Sign in").click()
    # Then the Token field says so, and nothing is kept
    expect(page.get_by_label("Token")).to_have_accessible_description(re.compile("This token is not known"))
    assert page.evaluate("sessionStorage.length") == 0


def test_console_promotions_list_links_each_promotion_to_its_own_page(page: Page, stack: LocalStack) -> None:
    # Given a signed-in marketer
    sign_in(page, stack)
    # When the promotions page lists the store's promotions
    for name in ("Demo bulk codes", "Demo single code", "Demo automatic"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    # And the marketer opens the BULK one
    page.get_by_role("link", name="Demo bulk codes", exact=True).click()
    # Then its page opens, at a URL of its own
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo bulk codes")
    assert page.url.endswith("/console#/promotions/1")


def test_console_create_promotion_makes_a_bulk_coupon_promotion(page: Page, stack: LocalStack) -> None:
    # Given a signed-in marketer on the promotions page
    sign_in(page, stack)
    # When they create a promotion named "Console spring sale"
    page.get_by_label("Name").fill("Console spring sale")
    page.get_by_role("button", name="Create promotion").click()
    # Then its page opens
    expect(page.get_by_role("heading", level=1)).to_have_text("Console spring sale")
    promotion_id = int(page.url.rsplit("/", 1)[1])
    # And the API holds a COUPON/BULK promotion with a 10 % cart discount
    saved = api(stack, "GET", f"promotions/{promotion_id}").json()["data"]
    assert (saved["name"], saved["redemption_type"], saved["coupon_type"]) == ("Console spring sale", "COUPON", "BULK")
    assert saved["rules"] == [{"action": {"cart_value": {"discount": {"percentage_amount": "10"}}}}]


def test_console_generate_shows_the_batch_codes_in_the_format_asked(page: Page, stack: LocalStack) -> None:
    # Given a BULK promotion without codes, open in the console
    promotion_id = new_bulk_promotion(stack, "Console batch")
    sign_in(page, stack)
    open_promotion(page, stack, promotion_id)
    # When the marketer generates 5 codes with a prefix, a delimiter and limits
    page.get_by_label("Batch size").fill("5")
    page.get_by_label("Max uses", exact=True).fill("3")
    page.get_by_label("Max uses per customer").fill("2")
    page.get_by_label("Prefix").fill("SPRING")
    page.get_by_label("Delimiter").select_option("-")
    page.get_by_label("Length").fill("8")
    page.get_by_role("button", name="Generate").click()
    # Then the 5 codes are shown, and they are the promotion's stored codes
    generated = page.get_by_role("list", name="Generated 5 codes").get_by_role("listitem")
    expect(generated).to_have_count(5)
    shown = generated.all_inner_texts()
    assert all(re.fullmatch(r"SPRING-[A-Z0-9]{8}", code) for code in shown)
    assert sorted(shown) == sorted(stored_codes(stack, promotion_id))
    # And the codes table lists them with their uses out of the limit
    expect(page.get_by_role("row", name=re.compile(shown[0]))).to_contain_text("0 / 3")


def test_console_generate_offers_couponmints_formats(page: Page, stack: LocalStack) -> None:
    # Given a BULK promotion, open in the console
    promotion_id = new_bulk_promotion(stack, "Console formats")
    sign_in(page, stack)
    open_promotion(page, stack, promotion_id)
    # When the marketer generates 4 codes of a pattern, of the unambiguous charset, with a check character
    page.get_by_label("Batch size").fill("4")
    page.get_by_label("Pattern").fill("XMAS-####-####")
    page.get_by_label("Charset").select_option("unambiguous")
    page.get_by_label("Check character").select_option("true")
    page.get_by_role("button", name="Generate").click()
    # Then the codes have that shape (the check character after the last random one)
    generated = page.get_by_role("list", name="Generated 4 codes").get_by_role("listitem")
    expect(generated).to_have_count(4)
    assert all(
        re.fullmatch(r"XMAS-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{5}", c) for c in generated.all_inner_texts()
    )
    # And a pattern beside a prefix is refused, next to the Pattern field
    page.get_by_label("Prefix").fill("NO")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_label("Pattern")).to_have_attribute("aria-invalid", "true")


def test_console_job_progress_reaches_100_and_its_csv_holds_the_codes(page: Page, stack: LocalStack) -> None:
    # Given a BULK promotion, open in the console
    promotion_id = new_bulk_promotion(stack, "Console job")
    sign_in(page, stack)
    open_promotion(page, stack, promotion_id)
    # When the marketer starts a job of 2,000 codes
    page.get_by_label("Quantity").fill("2000")
    page.get_by_role("button", name="Start job").click()
    # Then the job has a page of its own, whose progress bar reaches 100
    expect(page).to_have_url(re.compile(rf"/console#/promotions/{promotion_id}/jobs/\w+$"))
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100", timeout=JOB_TIMEOUT_MS)
    # And its CSV, downloaded by the link, holds exactly the promotion's 2,000 codes
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    with Path(download.value.path()).open() as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["code", "max_uses", "max_uses_per_customer", "created"]
    assert sorted(row["code"] for row in rows) == sorted(stored_codes(stack, promotion_id))
    assert len(rows) == 2000


def test_console_codes_pages_newest_first_with_next_and_previous(page: Page, stack: LocalStack) -> None:
    # Given a promotion with 120 codes (the console shows 50 a page)
    promotion_id = new_bulk_promotion(stack, "Console pages", codes=120)
    newest_first = stored_codes(stack, promotion_id)
    sign_in(page, stack)
    # When its page opens
    open_promotion(page, stack, promotion_id)
    codes = page.get_by_role("table").get_by_role("code")
    # Then the first 50 codes are listed newest first, under Code and Uses headers
    expect(page.get_by_role("columnheader", name="Code", exact=True)).to_be_visible()
    expect(page.get_by_role("columnheader", name="Uses", exact=True)).to_be_visible()
    expect(codes).to_have_text(newest_first[:50])
    # When the marketer turns to the next pages, then back
    page.get_by_role("button", name="Next page").click()
    expect(codes).to_have_text(newest_first[50:100])
    page.get_by_role("button", name="Next page").click()
    expect(codes).to_have_text(newest_first[100:])
    expect(page.get_by_role("button", name="Next page")).to_have_count(0)
    page.get_by_role("button", name="Previous page").click()
    # Then each page holds the next codes in order, and Previous goes back
    expect(codes).to_have_text(newest_first[50:100])


def test_console_search_finds_a_code_by_its_text(page: Page, stack: LocalStack) -> None:
    # Given a promotion with 3 codes, open in the console
    promotion_id = new_bulk_promotion(stack, "Console search", codes=3)
    wanted = stored_codes(stack, promotion_id)[1]
    sign_in(page, stack)
    open_promotion(page, stack, promotion_id)
    # When the marketer searches one code, typed in lower case
    page.get_by_label("Search").fill(wanted.lower())
    page.get_by_role("button", name="Search", exact=True).click()
    # Then only that code is listed
    expect(page.get_by_role("table").get_by_role("code")).to_have_text([wanted])
    # And a code that does not exist is said not to
    page.get_by_label("Search").fill("NOSUCHCODE")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("No code NOSUCHCODE in this promotion.")).to_be_visible()


def test_console_delete_removes_the_selected_code(page: Page, stack: LocalStack) -> None:
    # Given a promotion with 3 codes, open in the console
    promotion_id = new_bulk_promotion(stack, "Console delete", codes=3)
    before = stored_codes(stack, promotion_id)
    sign_in(page, stack)
    open_promotion(page, stack, promotion_id)
    # When the marketer selects one code and deletes it
    page.get_by_role("checkbox", name=f"Select {before[0]}").check()
    page.get_by_role("button", name="Delete", exact=True).click()
    # Then it leaves the table and the store; the others stay
    expect(page.get_by_role("table").get_by_role("code")).to_have_text(before[1:])
    assert stored_codes(stack, promotion_id) == before[1:]


def test_console_redemptions_of_a_code_show_each_order_and_its_status(page: Page, stack: LocalStack) -> None:
    # Given a code redeemed over the API for two orders, the first of them rolled back
    promotion_id = new_bulk_promotion(stack, "Console redemptions", codes=2, max_uses=5)
    code = stored_codes(stack, promotion_id)[0]
    first = redeem(stack, code, "ann@example.com", "order-1001")
    redeem(stack, code, "bob@example.com", "order-1002")
    roll_back(stack, first["id"])
    sign_in(page, stack)
    # When the marketer opens the promotion
    open_promotion(page, stack, promotion_id)
    codes = page.get_by_role("table", name="Codes of Console redemptions")
    row = codes.get_by_role("row", name=re.compile(code))
    # Then the codes table shows the code used once (the rolled back use given back), out of its 5
    expect(row).to_contain_text("1 / 5")
    # When they click Redemptions for that code
    row.get_by_role("button", name="Redemptions").click()
    # Then both orders are listed newest first, with their customers and statuses
    expect(page.get_by_role("heading", name=f"Redemptions of {code}")).to_be_focused()
    redemptions = page.get_by_role("table", name=re.compile(f"^Redemptions of {code}"))
    listed = redemptions.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text(re.compile(r"bob@example\.com\s*order-1002\s*REDEEMED"))
    expect(listed.nth(1)).to_contain_text(re.compile(r"ann@example\.com\s*order-1001\s*ROLLED_BACK"))
    # And there is no more to show
    expect(page.get_by_role("button", name="More", exact=True)).to_be_hidden()
    # And another code, never redeemed, says so
    other = stored_codes(stack, promotion_id)[1]
    codes.get_by_role("row", name=re.compile(other)).get_by_role("button", name="Redemptions").click()
    expect(page.get_by_text("Not redeemed yet.")).to_be_visible()
    # And Close puts the list away, back to the codes
    page.get_by_role("button", name="Close", exact=True).click()
    expect(page.get_by_role("heading", name="Codes", exact=True)).to_be_focused()
    expect(page.get_by_text("Not redeemed yet.")).to_have_count(0)


def test_console_redemptions_beyond_50_come_with_more(page: Page, stack: LocalStack) -> None:
    # Given a code redeemed for 51 orders
    promotion_id = new_bulk_promotion(stack, "Console many redemptions", codes=1, max_uses=0)
    [code] = stored_codes(stack, promotion_id)
    for order in range(51):
        redeem(stack, code, f"customer-{order}", f"order-{order}")
    sign_in(page, stack)
    open_promotion(page, stack, promotion_id)
    # When the marketer lists its redemptions
    page.get_by_role("button", name=f"Redemptions of {code}").click()
    listed = page.get_by_role("table", name=re.compile(f"^Redemptions of {code}")).get_by_role("cell", name="REDEEMED")
    # Then the newest 50 are shown, and More shows the last one
    expect(listed).to_have_count(50)
    page.get_by_role("button", name="More", exact=True).click()
    expect(listed).to_have_count(51)
    expect(page.get_by_role("button", name="More", exact=True)).to_be_hidden()
    expect(page.get_by_text("51 shown, newest first.")).to_be_visible()


def test_console_read_only_token_sees_the_pages_without_write_actions(page: Page, stack: LocalStack) -> None:
    # Given a marketer signed in with a read-only token
    sign_in(page, stack, token=stack.readonly_token)
    expect(page.get_by_text("read-only", exact=True)).to_be_visible()
    # Then the promotions page offers no creation
    expect(page.get_by_role("link", name="Demo bulk codes", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Create promotion")).to_have_count(0)
    # And the BULK promotion's page lists its codes but offers no write action
    promotion_id = new_bulk_promotion(stack, "Console read-only", codes=2)
    open_promotion(page, stack, promotion_id)
    expect(page.get_by_role("columnheader", name="Code", exact=True)).to_be_visible()
    for name in ("Generate", "Start job", "Delete"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)


def test_console_promotion_named_with_markup_shows_as_text(page: Page, stack: LocalStack) -> None:
    # Given a promotion whose name is an HTML injection attempt
    name = "<img src=x onerror=alert(1)>"
    promotion_id = new_bulk_promotion(stack, name, codes=1)
    sign_in(page, stack)
    # When the promotions page and the promotion's page show it
    link = page.get_by_role("link", name=name, exact=True)
    expect(link).to_be_visible()
    link.click()
    # Then the name is text, no element was made of it (the page fixture also fails on any alert or CSP refusal)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert page.url.endswith(f"#/promotions/{promotion_id}")
    assert page.locator("img").count() == 0


def test_console_api_422_errors_show_beside_their_fields(page: Page, stack: LocalStack) -> None:
    # Given a BULK promotion, open in the console
    promotion_id = new_bulk_promotion(stack, "Console errors")
    sign_in(page, stack)
    open_promotion(page, stack, promotion_id)
    # When the marketer asks for 300 codes with a prefix the API refuses
    page.get_by_label("Batch size").fill("300")
    page.get_by_label("Prefix").fill("not valid!")
    page.get_by_role("button", name="Generate").click()
    # Then each of the API's 422 problems is said beside its own field
    batch_size = page.get_by_label("Batch size")
    expect(batch_size).to_have_accessible_description(re.compile("less than or equal to 250"))
    expect(batch_size).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Prefix")).to_have_accessible_description(re.compile("should match pattern"))
    # And nothing was generated
    assert stored_codes(stack, promotion_id) == []


def test_console_sign_out_clears_session_storage(page: Page, stack: LocalStack) -> None:
    # Given a signed-in marketer
    sign_in(page, stack)
    assert page.evaluate("sessionStorage.length") > 0
    # When they sign out
    page.get_by_role("button", name="Sign out").click()
    # Then the tab holds nothing of the session, and the console asks to sign in again
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(f"{stack.base_url}/console#/promotions/1")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_console_works_under_an_api_gateway_stage_prefix(page: Page, stack: LocalStack) -> None:
    # Given the API behind a base path, as API Gateway serves it under its stage /v1
    promotion_id = new_bulk_promotion(stack, "Console under a stage")
    with under_base_path(stack.base_url, "/v1") as base_url:
        # When the marketer opens /v1/console, signs in and generates codes
        sign_in(page, replace(stack, base_url=base_url))
        page.goto(f"{base_url}/console#/promotions/{promotion_id}")
        page.get_by_label("Batch size").fill("3")
        page.get_by_role("button", name="Generate").click()
        # Then every asset and API call went through the base path, and the codes are made
        expect(page.get_by_role("list", name="Generated 3 codes").get_by_role("listitem")).to_have_count(3)
    assert len(stored_codes(stack, promotion_id)) == 3
