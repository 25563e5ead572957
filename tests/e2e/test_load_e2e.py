"""Load on one store: 50 concurrent codegen requests of 250, and what the stack's own log says about them."""

import hashlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import requests

from tests.e2e.conftest import LocalStack


def slot_intervals(log_text: str, kind: str) -> list[tuple[float, float]]:
    """(taken, given back) of every concurrency slot of `kind`, from the stack's structured log."""
    taken: dict[str, float] = {}
    intervals = []
    decoder = json.JSONDecoder()
    # Threads write whole records, but two may share a line: read every record wherever it starts.
    for start in (m.start() for m in re.finditer(r'\{"level"', log_text)):
        try:
            entry, _ = decoder.raw_decode(log_text, start)
        except json.JSONDecodeError:
            continue
        if entry.get("kind") != kind:
            continue
        moment = datetime.strptime(entry["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
        if entry["message"] == "concurrency slot taken":
            taken[entry["holder"]] = moment
        elif entry["message"] == "concurrency slot given back":
            intervals.append((taken.pop(entry["holder"]), moment))
    assert not taken, f"slots never given back: {taken}"
    return intervals


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    # A slot given back at the moment another is taken counts once (ends sort before starts).
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def finished_batch(stack: LocalStack, location: str, headers: dict[str, str]) -> dict[str, Any]:
    """A 202's batch, read from its Location until DONE."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        batch = requests.get(f"{stack.base_url}{location}", headers=headers, timeout=30).json()["data"]
        if batch["status"] == "DONE":
            return dict(batch)
        time.sleep(0.5)
    raise AssertionError(f"{location} not DONE after 120 s")


def test_e2e_fifty_concurrent_batches_hold_the_limit_and_lose_nothing(own_stack: LocalStack) -> None:
    # Given 50 clients asking for 250 codes each at the same moment
    headers = {"X-Auth-Token": own_stack.token, "Content-Type": "application/json"}

    def generate(_: int) -> requests.Response:
        return requests.post(
            own_stack.v3_url("promotions/1/codegen"), data='{"batch_size": 250}', headers=headers, timeout=60
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(generate, range(50)))
    # Then every answer is 201, 429, or (on a machine too busy to finish a batch within the API's wait) 202 with
    # its batch's Location; each with the four rate headers (and X-Retry-After on a 429)
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 202, 429}, statuses
    assert statuses.count(201) + statuses.count(202) >= 10
    for answer in answers:
        assert {h for h in answer.headers if h.startswith("X-Rate-Limit-")} == {
            "X-Rate-Limit-Time-Window-Ms",
            "X-Rate-Limit-Time-Reset-Ms",
            "X-Rate-Limit-Requests-Quota",
            "X-Rate-Limit-Requests-Left",
        }
        if answer.status_code == 429:
            assert int(answer.headers["X-Retry-After"]) >= 1
    # And the stack never held more than 10 codegen slots of the store at once, one per 201
    held = slot_intervals(own_stack.log.read_text(), "codegen")  # type: ignore[union-attr]
    assert len(held) == statuses.count(201) + statuses.count(202)
    assert most_at_once(held) <= 10
    # And every code returned (by a 201, or by a 202's batch once DONE) is stored (listed by the API), none repeats
    returned = [e["code"] for a in answers if a.status_code == 201 for e in a.json()["data"]["codes"]]
    for later in (a for a in answers if a.status_code == 202):
        returned += [e["code"] for e in finished_batch(own_stack, later.headers["Location"], headers)["codes"]]
    assert len(returned) == 250 * (statuses.count(201) + statuses.count(202)) == len(set(returned))
    listed: set[str] = set()
    query = "?limit=250"
    while query:
        page = requests.get(own_stack.v3_url("promotions/1/codes") + query, headers=headers, timeout=30).json()
        listed |= {item["code"] for item in page["data"]}
        query = page["meta"]["cursor_pagination"]["links"].get("next")
    assert listed == set(returned)


def test_e2e_no_token_or_token_hash_appears_in_the_logs(own_stack: LocalStack) -> None:
    # Given requests with good, bad and read-only tokens (after the load above)
    for token in (own_stack.token, own_stack.readonly_token, "a-wrong-token-for-the-logs"):
        requests.post(
            own_stack.v3_url("promotions/1/codegen"),
            data=json.dumps({"batch_size": 1}),
            headers={"X-Auth-Token": token},
            timeout=30,
        )
    # Then the stack's whole log holds none of the tokens, nor their SHA-256
    log = own_stack.log.read_text()  # type: ignore[union-attr]
    assert "POST /stores/demo/v3/promotions/1/codegen" in log
    for token in (own_stack.token, own_stack.readonly_token, "a-wrong-token-for-the-logs"):
        assert token not in log
        assert hashlib.sha256(token.encode()).hexdigest() not in log
