"""The partition model's token buckets (couponmint_dev.local.partition_model.ThroughputModel), on a fake clock."""

import json
import threading

import pytest

from couponmint_dev.local.capacity import Charge
from couponmint_dev.local.partition_model import (
    TABLE_THROTTLED_MESSAGE,
    Admission,
    ModelLimits,
    ThroughputModel,
    hottest_keys,
    limits_from,
    throttled_requests,
    throttling_exception,
    transaction_canceled,
)
from couponmint_dev.local.stack import build_parser
from couponmint_dev.settings import get_local_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def model(clock: Clock, **limits: float) -> ThroughputModel:
    # At the default scale (0.1): 100 units a second per key, 400 per table, 1 s of burst.
    return ThroughputModel(ModelLimits(**limits), clock=clock)  # type: ignore[arg-type]


def put(key: str, units: int = 1, index: str | None = None) -> list[Charge]:
    return [Charge("t", index, key, units)]


def test_limits_state_their_scale() -> None:
    limits = ModelLimits()
    assert (limits.scale, limits.key_rate, limits.table_rate, limits.burst_seconds) == (0.1, 100, 400, 1.0)
    assert ModelLimits(scale=1, table_wru=40_000).describe()["table_wru_per_second"] == 40_000
    with pytest.raises(ValueError):
        ModelLimits(scale=0)


def test_one_key_takes_its_limit_then_throttles_until_it_refills(clock: Clock) -> None:
    m = model(clock)
    assert all(m.admit([put("hot")]).admitted for _ in range(100))
    refused = m.admit([put("hot")])
    assert not refused.admitted and refused.exhausted == (("t", None, "hot"),)
    clock.now += 0.25  # 25 units come back
    assert sum(m.admit([put("hot")]).admitted for _ in range(40)) == 25


def test_concurrent_writers_never_overdraw_a_key(clock: Clock) -> None:
    m = model(clock)  # the clock stands still: exactly the bucket's 100 units can pass
    admitted: list[bool] = []
    lock = threading.Lock()

    def write() -> None:
        for _ in range(50):
            result = m.admit([put("hot"), put("elsewhere", index="gsi1")]).admitted
            with lock:
                admitted.append(result)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 100 and len(admitted) == 400
    (hot,) = hottest_keys(m.stats(), index=None, n=1)
    assert (hot.wcu, hot.throttled_requests) == (100, 300)


def test_the_same_rate_over_many_keys_is_not_throttled_below_the_table_limit(clock: Clock) -> None:
    m = model(clock)
    assert all(m.admit([put(f"k{i % 40}")]).admitted for i in range(400))


def test_the_table_total_caps_the_sum_of_the_keys(clock: Clock) -> None:
    m = model(clock)
    admitted = sum(m.admit([put(f"k{i}")]).admitted for i in range(1000))
    assert admitted == 400
    assert m.admit([put("fresh")]).exhausted == (("t", None, None),)
    stats = m.stats()
    (table,) = stats["resources"]
    assert (table["wcu"], table["throttled_requests"], table["key_throttled_requests"]) == (400, 601, 0)


def test_a_warm_throughput_raises_the_table_total(clock: Clock) -> None:
    m = model(clock, table_wru=40_000)
    assert all(m.admit([put(f"k{i}")]).admitted for i in range(1000))


def test_a_group_is_admitted_whole_or_not_at_all(clock: Clock) -> None:
    m = model(clock)
    assert m.admit([put("a", 60)]).admitted
    refused = m.admit([put("b", 10), put("a", 50), put("c", 1, index="gsi1")])
    assert not refused.admitted and refused.throttled_items == {1}
    # Nothing of the refused group was charged: b and c still have their whole bucket
    assert m.admit([put("b", 100), put("c", 100, index="gsi1")]).admitted


def test_index_keys_have_buckets_of_their_own(clock: Clock) -> None:
    m = model(clock)
    # 150 items with distinct table keys, all under one index key: the index key throttles
    results = [m.admit([[Charge("t", None, f"code{i}", 2), Charge("t", "gsi1", "PROMO", 1)]]) for i in range(150)]
    assert sum(r.admitted for r in results) == 100
    assert {r.exhausted for r in results if not r.admitted} == {(("t", "gsi1", "PROMO"),)}
    stats = m.stats()
    (hot,) = hottest_keys(stats, n=1)
    assert (hot.index, hot.key, hot.wcu, hot.throttled_requests) == ("gsi1", "PROMO", 100, 50)
    assert throttled_requests(stats, index="gsi1") == 50
    assert throttled_requests(stats, index=None) == 0


def test_a_request_larger_than_the_bucket_passes_when_it_is_full_and_overdraws_it(clock: Clock) -> None:
    m = model(clock)
    assert m.admit([put("big", 250)]).admitted
    clock.now += 1.0  # 100 back: still 50 short
    assert not m.admit([put("big", 1)]).admitted
    clock.now += 1.5
    assert m.admit([put("big", 1)]).admitted


def test_idle_keys_are_folded_into_their_tables_totals(clock: Clock) -> None:
    m = ThroughputModel(ModelLimits(max_tracked_keys=10), clock=clock)
    for i in range(10):
        m.admit([put(f"k{i}")])
    for _ in range(150):
        m.admit([put("hot")])
    clock.now += 5  # the k buckets are full again
    for i in range(12):
        m.admit([put(f"n{i}")])
    stats = m.stats()
    keys = {entry["key"] for entry in stats["keys"]}
    assert "hot" in keys and not any(key.startswith("k") for key in keys)
    (table,) = stats["resources"]
    assert (table["untracked_keys_wcu"], table["wcu"], table["keys"]) == (10, 10 + 100 + 12, 10 + 1 + 12)
    assert hottest_keys(stats, n=1)[0].throttled_requests == 50


def test_reset_refills_and_forgets(clock: Clock) -> None:
    m = model(clock)
    for _ in range(101):
        m.admit([put("hot")])
    m.reset()
    assert m.admit([put("hot", 100)]).admitted
    assert m.stats()["resources"][0]["key_throttled_requests"] == 0


def test_errors_are_dynamodbs() -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
    answer = throttling_exception([("t", "gsi1", "PROMO")], lambda table: arn)
    body = json.loads(answer.body)
    assert answer.status == 400 and ("Content-Type", "application/x-amz-json-1.0") in answer.headers
    assert body["__type"] == "com.amazon.coral.availability#ThrottlingException"
    assert body["message"].startswith("Throughput exceeds the current capacity for one or more global secondary")
    reason = {"reason": "IndexWriteKeyRangeThroughputExceeded", "resource": f"{arn}/index/gsi1"}
    assert body["throttlingReasons"] == [reason]
    cancelled = json.loads(transaction_canceled(3, Admission(False, frozenset({1}), (("t", None, "k"),))).body)
    assert cancelled["__type"] == "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
    assert cancelled["Message"].endswith("[None, ThrottlingError, None]")
    assert cancelled["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ThrottlingError", "Message": TABLE_THROTTLED_MESSAGE},
        {"Code": "None"},
    ]


# ------------------------------------------------------------------ turning it on
@pytest.mark.parametrize(
    ("setting", "table_wru", "expected"),
    [
        (None, None, None),
        ("", None, None),
        ("off", None, None),
        ("0", None, None),
        ("on", None, ModelLimits()),
        ("TRUE", None, ModelLimits()),
        ("0.5", None, ModelLimits(scale=0.5)),
        ("1", 40_000, ModelLimits(scale=1, table_wru=40_000)),
    ],
)
def test_limits_from_a_setting(setting: str | None, table_wru: float | None, expected: ModelLimits | None) -> None:
    assert limits_from(setting, table_wru) == expected


def test_the_local_run_command_takes_the_model_as_a_flag_or_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parser = build_parser()
    assert parser.parse_args(["run"]).partition_model is None
    assert parser.parse_args(["run", "--partition-model"]).partition_model == "on"
    assert parser.parse_args(["run", "--partition-model=0.2", "--warm-throughput", "40000"]).warm_throughput == 40_000
    monkeypatch.setenv("COUPONMINT_PARTITION_MODEL", "0.25")
    monkeypatch.setenv("COUPONMINT_PARTITION_MODEL_TABLE_WRU", "40000")
    settings = get_local_settings()
    assert limits_from(settings.partition_model, settings.partition_model_table_wru) == ModelLimits(
        scale=0.25, table_wru=40_000
    )
