"""The console's page and assets, served by ApiFunction without a token, with their security headers."""

from collections.abc import Callable

import pytest

from couponmint import console
from tests.integration.helpers import HttpAnswer

Caller = Callable[..., HttpAnswer]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def test_console_page_is_served_without_a_token_with_its_security_headers(call_api: Caller) -> None:
    # When the console's page is asked for without a token
    answer = call_api("GET", "/console")
    # Then it is the page, with a policy that allows only its own scripts, styles and the API
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="console/app.js"></script>' in answer.body
    assert answer.headers["Content-Security-Policy"] == CSP
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.headers["ETag"].startswith('"')


@pytest.mark.parametrize("path", sorted(console.PATHS - {console.PAGE_PATH}))
def test_console_assets_are_served_with_their_type_and_policy(call_api: Caller, path: str) -> None:
    # When an asset is asked for without a token
    answer = call_api("GET", path)
    # Then it is served with its content type, and the same headers as the page
    assert answer.status == 200
    assert answer.headers["Content-Type"] == console.CONTENT_TYPES[path[path.rfind(".") :]]
    assert answer.headers["Content-Security-Policy"] == CSP
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_console_answers_304_while_the_browsers_copy_is_current(call_api: Caller) -> None:
    # Given the ETag of the page the browser holds
    etag = call_api("GET", "/console/app.js").headers["ETag"]
    # When the browser asks again with it
    answer = call_api("GET", "/console/app.js", headers={"If-None-Match": etag})
    # Then the answer is 304 without a body, still with the policy
    assert (answer.status, answer.body) == (304, None)
    assert answer.headers["Content-Security-Policy"] == CSP


@pytest.mark.parametrize("path", ["/console/missing.js", "/console/", "/console/index.html", "/consolex"])
def test_console_unknown_paths_are_404(call_api: Caller, path: str) -> None:
    # When a path that is not one of the console's files is asked for
    answer = call_api("GET", path)
    # Then it is not found (the page itself is only /console, so its relative URLs resolve beside it)
    assert answer.status == 404


def test_console_opens_no_api_route_to_callers_without_a_token(call_api: Caller) -> None:
    # When the API is called without a token after the console was served
    call_api("GET", "/console")
    answer = call_api("GET", "/stores/demo/v3/promotions")
    # Then it still answers 401
    assert answer.status == 401
