"""The handlers' repositories: built once per thread, and again when the clients or the table change."""

import threading
from collections.abc import Iterator

import pytest

from couponmint.adapters import factory
from couponmint.adapters.aws import reset_clients
from couponmint.config import get_settings

SETTINGS = {
    "COUPONMINT_TABLE_NAME": "unit-CouponTable",
    "COUPONMINT_QUEUE_URL": "http://queue.local/codegen",
    "COUPONMINT_JOB_QUEUE_URL": "http://queue.local/jobs",
    "COUPONMINT_EXPORT_BUCKET": "unit-exports",
    "COUPONMINT_IDEMPOTENCY_TABLE": "unit-Idempotency",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings and clients for a table nobody calls (building boto3 resources makes no request)."""
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_clients()
    yield
    get_settings.cache_clear()
    reset_clients()


@pytest.mark.usefixtures("configured")
def test_repositories_are_built_once_per_thread_and_again_for_new_clients_or_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the repositories this thread got
    first = factory.repositories()
    # When this thread, another thread, new clients and another table ask for them
    again = factory.repositories()
    elsewhere: list[object] = []
    thread = threading.Thread(target=lambda: elsewhere.append(factory.repositories()))
    thread.start()
    thread.join()
    reset_clients()
    after_reset = factory.repositories()
    monkeypatch.setenv("COUPONMINT_TABLE_NAME", "other-CouponTable")
    get_settings.cache_clear()
    other_table = factory.repositories()
    # Then this thread reuses its own, and gets new ones only for another thread, new clients or another table
    assert again is first
    assert elsewhere[0] is not first
    assert after_reset is not first
    assert other_table is not after_reset and other_table.tokens._table.name == "other-CouponTable"
