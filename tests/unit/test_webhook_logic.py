"""Webhooks' pure logic: scopes, signatures, where a hook may call (SSRF), when a failed delivery is retried."""

import pytest

from couponmint.logic import backoff, hook_scopes
from couponmint.logic.destinations import UnresolvableDestination, UnsafeDestination, check_destination
from couponmint.logic.signatures import new_secret, sign, verify

PUBLIC = "93.184.215.14"


def resolves_to(*addresses: str) -> object:
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    ("hook_scope", "event_scope", "expected"),
    [
        (hook_scopes.JOB_COMPLETED, hook_scopes.JOB_COMPLETED, True),
        (hook_scopes.JOB_COMPLETED, hook_scopes.JOB_FAILED, False),
        ("store/promotion/*", hook_scopes.CODE_REDEEMED, True),
        ("store/promotion/codegen/*", hook_scopes.BATCH_FAILED, True),
        ("store/promotion/codegen/*", hook_scopes.CODE_REDEEMED, False),
        ("store/promotion/code/*", hook_scopes.REDEMPTION_ROLLED_BACK, True),
        ("store/*", hook_scopes.JOB_COMPLETED, True),
    ],
)
def test_hook_scopes_match_exactly_or_by_wildcard(hook_scope: str, event_scope: str, expected: bool) -> None:
    assert hook_scopes.matches(hook_scope, event_scope) is expected


@pytest.mark.parametrize("scope", ["*", "store/product/*", "store/promotion/codegen/job", "store/promotion/code*"])
def test_hook_scopes_refuse_what_covers_no_event(scope: str) -> None:
    assert hook_scopes.scope_problem(scope) is not None


def test_signatures_verify_the_exact_body_with_the_secret() -> None:
    secret, body = new_secret(), b'{"scope":"store/promotion/codegen/job/completed"}'
    signature = sign(secret, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(secret, body, signature)
    assert not verify(secret, body + b" ", signature)
    assert not verify(new_secret(), body, signature)


def test_signatures_match_a_known_hmac() -> None:
    # HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231's well-known example
    expected = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert sign("key", b"The quick brown fox jumps over the lazy dog") == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/",
        "https://10.0.0.1/",
        "https://127.0.0.1:8443/",
        "https://[::1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://[fd00::1]/",
        "https://100.64.0.1/",
        "https://224.0.0.1/",
        "https://0.0.0.0/",
        "http://hooks.example/",
        "ftp://hooks.example/",
        "https://user:pass@hooks.example/",
        "hooks.example/in",
    ],
)
def test_destinations_refuse_what_is_not_public_https(url: str) -> None:
    with pytest.raises(UnsafeDestination):
        check_destination(url, allow_local_http=False, resolve=resolves_to(PUBLIC))


def test_destinations_refuse_a_host_any_of_whose_addresses_is_private() -> None:
    # Given a name that resolves to a public and a private address (one DNS answer may hold both)
    with pytest.raises(UnsafeDestination, match=r"10\.1\.2\.3"):
        check_destination("https://hooks.example/in", allow_local_http=False, resolve=resolves_to(PUBLIC, "10.1.2.3"))


def test_destinations_pin_the_checked_address() -> None:
    destination = check_destination(
        "https://hooks.example:8443/in?shop=7", allow_local_http=False, resolve=resolves_to(PUBLIC)
    )
    assert (destination.scheme, destination.host, destination.port) == ("https", "hooks.example", 8443)
    assert (destination.target, destination.address) == ("/in?shop=7", PUBLIC)


def test_destinations_allow_local_http_only_with_the_local_allowance() -> None:
    local = "http://127.0.0.1:8123/hook"
    assert check_destination(local, allow_local_http=True, resolve=resolves_to()).address == "127.0.0.1"
    with pytest.raises(UnsafeDestination):
        check_destination(local, allow_local_http=False, resolve=resolves_to())
    with pytest.raises(UnsafeDestination):
        check_destination("http://localhost:8123/", allow_local_http=True, resolve=resolves_to("127.0.0.1"))
    with pytest.raises(UnsafeDestination):
        check_destination("http://10.0.0.1:8123/", allow_local_http=True, resolve=resolves_to())


def test_destinations_of_a_name_that_does_not_resolve_are_unresolvable() -> None:
    with pytest.raises(UnresolvableDestination):
        check_destination("https://nowhere.example/", allow_local_http=False, resolve=resolves_to())


def test_backoff_grows_and_spans_more_than_a_day() -> None:
    middle = [backoff.delay_after(n, jitter=lambda low, high: 1.0) for n in range(1, backoff.MAX_ATTEMPTS)]
    assert middle == list(backoff.DELAYS)
    assert middle == sorted(middle) and middle[0] == 10
    assert backoff.span_seconds() > 24 * 3600
    assert max(middle) <= backoff.MAX_DELAY


def test_backoff_jitters_within_ten_percent_and_yields_to_a_fixed_delay() -> None:
    assert backoff.delay_after(4, jitter=lambda low, high: low) == 270
    assert backoff.delay_after(4, jitter=lambda low, high: high) == 330
    assert backoff.delay_after(9, fixed=1) == 1


def test_backoff_attempts_are_the_delivery_queues_receive_count() -> None:
    # The queue dead-letters a delivery after exactly the attempts the backoff schedule plans
    from couponmint_dev.local.template import load_template

    queue = load_template()["Resources"]["DeliveryQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == backoff.MAX_ATTEMPTS
    assert queue["MessageRetentionPeriod"] > backoff.span_seconds() * 1.1
