"""`couponmint local run --partition-model`: the functions reach DynamoDB Local through the partition model."""

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from couponmint_dev.local.partition_model import throttled_requests
from tests.e2e.conftest import CLIENT_TIMEOUT_SECONDS, LocalStack, running_stack


@pytest.fixture(scope="module")
def modelled_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # At AWS's own limits (scale 1): one 250-code request writes 250 index entries under one key in well
    # under a second, which a partition's 1,000 units a second take (at 0.1 they would not).
    with running_stack(tmp_path_factory.mktemp("modelled-stack"), "--partition-model=1") as running:
        yield running


def stats_url(log: Path) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = re.search(r"stats: (http://\S+/_model/stats)", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError("the stack did not print the partition model's stats URL")


def test_e2e_the_local_stack_runs_behind_the_partition_model(modelled_stack: LocalStack) -> None:
    assert modelled_stack.log is not None
    url = stats_url(modelled_stack.log)
    before = requests.get(url, timeout=5).json()
    assert before["limits"]["scale"] == 1 and before["limits"]["key_wcu_per_second"] == 1000
    # When a client asks for 250 codes
    answer = requests.post(
        modelled_stack.v3_url("promotions/1/codegen"),
        json={"batch_size": 250},
        headers={"X-Auth-Token": modelled_stack.token},
        timeout=CLIENT_TIMEOUT_SECONDS,
    )
    assert answer.status_code == 201, answer.text
    # Then the model charged their writes, and the batch's one index entry (~5 KB: its 250 codes) on gsi1
    # rather than 250 entries of one code each; it throttled none of them
    stats = requests.get(url, timeout=5).json()
    assert stats["operations"]["TransactWriteItems"]["requests"] >= 3

    def gsi1_wcu(document: dict[str, Any]) -> float:
        return sum(
            r["wcu"] for r in document["resources"] if r["table"].endswith("CouponTable") and r["index"] == "gsi1"
        )

    assert 1 <= gsi1_wcu(stats) - gsi1_wcu(before) <= 10
    assert throttled_requests(stats) == 0
