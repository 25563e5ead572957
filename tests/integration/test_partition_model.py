"""A bulk job of the current code, through the handlers, with the functions' DynamoDB endpoint pointed at the
partition model (couponmint_dev.local.partition_model) at 1/10 of AWS's limits: 100 write units a second per
partition key, one second of burst; the table's own limit out of reach, so that only partition keys can
throttle. Beside it, the contrast the partition model exists to show: the per-code index of before (every code
an entry under its promotion's one key), written at the same pace, throttles on that key.
"""

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from couponmint.adapters import idempotency
from couponmint.adapters.aws import reset_clients, sqs_client
from couponmint.adapters.claims import CALLS_AT_ONCE, STATEMENTS_PER_CALL
from couponmint.adapters.dynamo import attribute_value
from couponmint.adapters.factory import repositories
from couponmint.adapters.keys import code_key, promotion_codes_pk
from couponmint.logic.codes import BASE_ALPHABET, make_codes
from couponmint.models.codegen import MAX_BATCH_SIZE
from couponmint.models.records import CodeRecord
from couponmint_dev.local.lambdas import load_handler
from couponmint_dev.local.partition_model import (
    ModelLimits,
    PartitionModelProxy,
    hottest_keys,
    start_partition_model,
    throttled_requests,
)
from couponmint_dev.local.poller import SqsPoller
from couponmint_dev.local.resources import LocalResources
from couponmint_dev.local.services import LocalAws
from tests.integration.helpers import TEMPLATE, HttpAnswer, Store
from tests.integration.partition_model_support import client_for

# Only partition keys can throttle: the table's limit is 400,000 units a second (40,000 at this scale).
KEYS_ONLY = ModelLimits(table_wru=400_000)


@pytest.fixture(scope="module")
def proxy(local_aws: LocalAws) -> Iterator[PartitionModelProxy]:
    running = start_partition_model(local_aws.dynamodb.endpoint)
    yield running
    running.stop()


# ---------------------------------------------------------------------------------------- a bulk job, current code
Caller = Callable[..., HttpAnswer]

JOB_CODES = 2_500
JOB_SECONDS = 90


@pytest.fixture
def behind_model(proxy: PartitionModelProxy, resources: LocalResources) -> Iterator[PartitionModelProxy]:
    """The functions' DynamoDB endpoint is the model's for this test (their clients are rebuilt on either side)."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
        reset_clients()
        idempotency._answer_once.cache_clear()
        try:
            yield proxy
        finally:
            reset_clients()
            idempotency._answer_once.cache_clear()
    reset_clients()
    idempotency._answer_once.cache_clear()


def run_job(call_api: Caller, store: Store, quantity: int, seconds: float) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    path = f"/stores/{store.store_hash}/v3/promotions/1/codegen/jobs"
    answer = call_api("POST", path, json.dumps({"quantity": quantity}), store.token)
    assert answer.status == 202, answer.body
    location = answer.headers["Location"]
    job: dict[str, Any] = answer.body["data"]
    while time.monotonic() - started < seconds and job["status"] not in ("COMPLETED", "FAILED"):
        time.sleep(0.5)
        job = call_api("GET", location, None, store.readonly_token).body["data"]
    elapsed = time.monotonic() - started
    if job["status"] not in ("COMPLETED", "FAILED"):
        call_api("DELETE", location, None, store.token)  # stop what is left
    return job, elapsed


def drain(resources: LocalResources, seconds: float = 60) -> None:
    """Wait for the generator queue to empty (a cancelled job's batches end at once), so no test inherits them."""
    url = resources.queues["JobQueue"].url
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        attributes = sqs_client().get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        if not int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        ):
            return
        time.sleep(0.5)


def test_a_bulk_job_into_one_promotion_finds_no_hot_key(
    behind_model: PartitionModelProxy, store: Store, call_api: Caller, resources: LocalResources
) -> None:
    """A promotion's code index holds one entry per batch (code_index.py): a job writes 1 index entry per
    250 codes under the promotion's key, not 250, so under the model's per-key limits it does not throttle on
    gsi1 and finishes with every code. Beside it, the per-code index of before, written at the job's own pace
    (each batch's 250 claims sent as the job sends them, one batch after another as fast as the job made
    them), throttles on that one key.
    """
    # Given the model at a tenth of AWS's limits per key, the table's out of reach
    behind_model.reset(KEYS_ONLY)
    job_lane = load_handler(TEMPLATE, "JobFunction")
    poller = SqsPoller.from_template(
        TEMPLATE, job_lane, resources, function_id="JobFunction", retry_visibility_seconds=1
    )
    poller.start()
    # When a job of the current code runs
    try:
        job, elapsed = run_job(call_api, store, JOB_CODES, JOB_SECONDS)
        stats = behind_model.stats()
        drain(resources)
    finally:
        poller.stop()
    hottest = hottest_keys(stats, index="gsi1", n=3)
    print(  # the measured figures (pytest -s shows them)
        f"\njob of {JOB_CODES} codes behind the model ({stats['limits']}): {job['status']} after {elapsed:.1f} s, "
        f"{job['generated']} codes; throttled requests: {throttled_requests(stats)} "
        f"({throttled_requests(stats, index='gsi1')} on gsi1); hottest gsi1 keys: {hottest}; "
        f"operations: {stats['operations']}"
    )
    # Then nothing throttled on its index, its claims were all charged, and it made every code
    assert throttled_requests(stats, index="gsi1") == 0, hottest
    assert stats["operations"]["BatchExecuteStatement"]["items"] >= JOB_CODES and stats["unmodelled"] == 0
    assert (job["status"], job["generated"]) == ("COMPLETED", JOB_CODES)
    assert repositories().promotions.store_code_count(store.store_hash) == JOB_CODES

    # And when codes carrying the per-code index entry of before are claimed at the same pace
    behind_model.reset(KEYS_ONLY)
    batch_seconds = elapsed / (JOB_CODES / MAX_BATCH_SIZE)
    throttled = per_code_index_claims(behind_model, resources, store.store_hash, batches=4, every=batch_seconds)
    # Then the promotion's one index key throttles them, the throttle DynamoDB would answer
    old = behind_model.stats()
    (hot,) = hottest_keys(old, index="gsi1", n=1)
    print(f"the per-code index at {batch_seconds:.2f} s a batch: {throttled} of 1,000 claims throttled; {hot}")
    assert hot.key == promotion_codes_pk(store.store_hash, 1) and hot.throttled_requests > 0
    assert throttled > 0 and throttled_requests(old, index=None) == 0


def per_code_index_claims(
    proxy: PartitionModelProxy, resources: LocalResources, store_hash: str, *, batches: int, every: float
) -> int:
    """Claim `batches` x 250 codes as a job's batch claims them (INSERTs, 25 a call, 4 calls at once), each code
    also an entry of its promotion's index as the per-code index made it, a batch every `every` seconds, through
    a client that does not retry. Returns the claims throttled."""
    client = client_for(proxy.url)
    table = resources.tables["CouponTable"]
    now = datetime.now(UTC)
    texts = make_codes(BASE_ALPHABET, 16, batches * MAX_BATCH_SIZE)
    throttled = 0

    def claim(items: list[dict[str, Any]]) -> int:
        statements = [
            {
                "Statement": f'INSERT INTO "{table}" VALUE {{{", ".join(f"'{name}': ?" for name in entry)}}}',
                "Parameters": [attribute_value(value) for value in entry.values()],
            }
            for entry in items
        ]
        try:
            answer = client.batch_execute_statement(Statements=statements)
        except ClientError as error:  # none of the call's statements fit
            assert error.response["Error"]["Code"] == "ThrottlingException"
            return len(statements)
        return sum(1 for response in answer["Responses"] if response.get("Error", {}).get("Code") == "ThrottlingError")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CALLS_AT_ONCE) as calls:
        for batch in range(batches):
            time.sleep(max(0.0, started + batch * every - time.monotonic()))
            items = [
                {
                    **code_key(store_hash, text),
                    "gsi1pk": promotion_codes_pk(store_hash, 1),
                    "gsi1sk": batch * MAX_BATCH_SIZE + position,
                    **CodeRecord(
                        store_hash=store_hash,
                        promotion_id=1,
                        id=batch * MAX_BATCH_SIZE + position,
                        code=text,
                        max_uses=1,
                        max_uses_per_customer=1,
                        created=now,
                        batch_id=f"per-code-{batch}",
                    ).model_dump(mode="json", exclude_none=True),
                }
                for position, text in enumerate(texts[batch * MAX_BATCH_SIZE : (batch + 1) * MAX_BATCH_SIZE])
            ]
            chunks = [items[i : i + STATEMENTS_PER_CALL] for i in range(0, len(items), STATEMENTS_PER_CALL)]
            throttled += sum(calls.map(claim, chunks))
    return throttled
