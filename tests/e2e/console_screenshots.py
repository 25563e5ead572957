"""`make screenshots`: the console's main pages in headless Chromium, written to docs/img/console-*.png.

Not collected by a plain `pytest` run (the file name does not start with test_); `make screenshots` names it.
"""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalStack
from tests.e2e.console_steps import new_bulk_promotion, open_promotion, redeem, roll_back, sign_in, stored_codes

pytest_plugins = ["tests.e2e.console_browser"]

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
JOB_TIMEOUT_MS = 300_000


def shoot(page: Page, name: str) -> None:
    page.mouse.move(0, 0)  # no hover effect in the picture
    page.screenshot(path=IMAGES / f"console-{name}.png", full_page=True, animations="disabled")


def test_console_screenshots_of_each_main_page(page: Page, stack: LocalStack) -> None:
    # Given a promotion with codes
    promotion_id = new_bulk_promotion(stack, "Summer sale", codes=0)
    page.set_viewport_size({"width": 1100, "height": 760})
    # The sign-in page
    page.goto(f"{stack.base_url}/console")
    page.get_by_label("Store").fill(stack.store_hash)
    shoot(page, "signin")
    # The promotions
    sign_in(page, stack)
    shoot(page, "promotions")
    # A promotion with a batch just generated and its codes (a short page of them)
    open_promotion(page, stack, promotion_id)
    page.get_by_label("Batch size").fill("8")
    page.get_by_label("Prefix").fill("SUMMER")
    page.get_by_label("Delimiter").select_option("-")
    page.get_by_label("Length").fill("10")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_role("list", name="Generated 8 codes")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("code")).to_have_count(8)
    shoot(page, "promotion")
    # A job in progress, then completed
    page.get_by_label("Quantity").fill("20000")
    page.get_by_role("button", name="Start job").click()
    expect(page.get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", re.compile(r"^[1-9]\d?$"), timeout=JOB_TIMEOUT_MS
    )
    page.get_by_role("heading", name="Bulk job progress").scroll_into_view_if_needed()
    page.screenshot(path=IMAGES / "console-job-running.png", animations="disabled")
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    page.get_by_role("heading", name="Bulk job progress").scroll_into_view_if_needed()
    page.screenshot(path=IMAGES / "console-job-completed.png", animations="disabled")


def test_console_screenshot_of_a_codes_redemptions(page: Page, stack: LocalStack) -> None:
    # Given a promotion's codes, one of them redeemed, rolled back (a cancelled order) and redeemed again
    promotion_id = new_bulk_promotion(stack, "Spring sale", codes=6, max_uses=3, prefix="SPRING", delimiter="-")
    code = stored_codes(stack, promotion_id)[1]
    cancelled = redeem(stack, code, "ann@example.com", "100231")
    roll_back(stack, cancelled["id"])
    redeem(stack, code, "ann@example.com", "100245")
    redeem(stack, code, "bob@example.com", "100262")
    page.set_viewport_size({"width": 1100, "height": 760})
    sign_in(page, stack)
    # The promotion's codes and that code's redemptions
    open_promotion(page, stack, promotion_id)
    page.get_by_role("button", name=f"Redemptions of {code}").click()
    expect(page.get_by_text("3 shown, newest first.")).to_be_visible()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.mouse.move(0, 0)
    page.screenshot(path=IMAGES / "console-redemptions.png", animations="disabled")
