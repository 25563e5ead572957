"""Request benchmark: a 250-code codegen request end to end, against the floor of its own writes.

The request: `POST /stores/demo/v3/promotions/1/codegen {"batch_size": 250}` over HTTP to the local stack
(API → SQS → generator → DynamoDB Local + S3 → API), timed at the client until the 201 with 250 codes.

The floor: the conditional writes those 250 codes need and nothing else, made from this process straight to
the stack's DynamoDB Local with the generator's own adapter (`BatchRepository.claim` of a codegen request's
batch: TransactWriteItems of up to 100 Puts, `attribute_not_exists(pk) OR batch_id = :batch`, the same item
shape), fresh codes each time.

Both run at the same concurrency (clients each making requests one after another), in alternating rounds, so
both see the same machine; the ratio of the medians is taken per round.
"""

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psutil
import requests

from bench.stack import BULK_PROMOTION_ID, DEMO_STORE, LocalStackProcess
from bench.stats import Spread, percentile
from couponmint.adapters.repositories import Repositories
from couponmint.logic.codes import BASE_ALPHABET, make_codes
from couponmint.models.codegen import CodeFormat
from couponmint.models.records import BatchRecord, BatchStatus, CodeRecord

BATCH_SIZE = 250
CODE_LENGTH = 16
# The floor writes into its own store, so its codes never collide with the requests' (different keys).
FLOOR_STORE = "bench-floor"
REQUEST_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class RequestSettings:
    concurrency_levels: tuple[int, ...]
    rounds: int
    # Requests (or floor claims) each client makes per round.
    requests_per_client: dict[int, int]
    warmup_requests_per_client: int = 2


@dataclass
class LevelResult:
    """Every latency measured at one concurrency, in seconds, and the per-round ratios."""

    concurrency: int
    request_latencies: list[float] = field(default_factory=list)
    floor_latencies: list[float] = field(default_factory=list)
    request_codes_per_s: list[float] = field(default_factory=list)
    floor_codes_per_s: list[float] = field(default_factory=list)
    p50_ratios: list[float] = field(default_factory=list)
    # CPU seconds each process spent per request (or per floor claim), summed over the rounds.
    request_cpu_seconds: dict[str, float] = field(default_factory=dict)
    floor_cpu_seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        return {
            "concurrency": self.concurrency,
            "samples": len(self.request_latencies),
            "request_p50_ms": round(percentile(self.request_latencies, 0.50) * 1000, 1),
            "request_p99_ms": round(percentile(self.request_latencies, 0.99) * 1000, 1),
            "floor_p50_ms": round(percentile(self.floor_latencies, 0.50) * 1000, 1),
            "floor_p99_ms": round(percentile(self.floor_latencies, 0.99) * 1000, 1),
            "request_vs_floor": Spread.of(self.p50_ratios).as_dict(),
            "request_codes_per_s": Spread.of(self.request_codes_per_s).as_dict(1),
            "floor_codes_per_s": Spread.of(self.floor_codes_per_s).as_dict(1),
            "request_cpu_ms": _per_call_ms(self.request_cpu_seconds, len(self.request_latencies)),
            "floor_cpu_ms": _per_call_ms(self.floor_cpu_seconds, len(self.floor_latencies)),
        }


def _per_call_ms(cpu_seconds: dict[str, float], calls: int) -> dict[str, float]:
    return {name: round(seconds * 1000 / calls, 1) for name, seconds in cpu_seconds.items()}


class CpuMeter:
    """CPU seconds (user + system) that each process spends between `__enter__` and `__exit__`."""

    def __init__(self, pids: dict[str, int], into: dict[str, float]) -> None:
        self._processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._into = into
        self._before: dict[str, float] = {}

    @staticmethod
    def _cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    def __enter__(self) -> "CpuMeter":
        self._before = {name: self._cpu(process) for name, process in self._processes.items()}
        return self

    def __exit__(self, *exc_info: object) -> None:
        for name, process in self._processes.items():
            spent = self._cpu(process) - self._before[name]
            self._into[name] = self._into.get(name, 0.0) + spent


# A client is made once per thread (before the clock starts); each call of it prepares one call, untimed,
# and returns the call, which is timed.
Client = Callable[[], Callable[[], None]]


def run_clients(
    concurrency: int, calls_per_client: int, make_client: Callable[[], Client]
) -> tuple[list[float], float]:
    """Start `concurrency` clients together; each makes `calls_per_client` calls one after another.

    Returns every call's latency and the wall time of the whole round, in seconds.
    """
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    ready = threading.Barrier(concurrency + 1)

    def run_client() -> None:
        try:
            client = make_client()
        except BaseException as error:
            errors.append(error)
            ready.abort()
            return
        mine: list[float] = []
        try:
            ready.wait()
            for _ in range(calls_per_client):
                call = client()
                started = time.perf_counter()
                call()
                mine.append(time.perf_counter() - started)
        except BaseException as error:
            errors.append(error)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run_client, name=f"bench-client-{n}") for n in range(concurrency)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed; first: {errors[0]!r}") from errors[0]
    return latencies, wall


def codegen_client(stack: LocalStackProcess) -> Client:
    """A keep-alive HTTP session making 250-code codegen requests."""
    session = requests.Session()
    url = f"{stack.url}/stores/{DEMO_STORE}/v3/promotions/{BULK_PROMOTION_ID}/codegen"
    headers = {"X-Auth-Token": stack.token, "Content-Type": "application/json"}
    body = {"batch_size": BATCH_SIZE}

    def request() -> None:
        answer = session.post(url, json=body, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS)
        if answer.status_code != 201:
            raise RuntimeError(f"codegen answered {answer.status_code}: {answer.text[:300]}")
        codes = answer.json()["data"]["codes"]
        if len(codes) != BATCH_SIZE:
            raise RuntimeError(f"codegen returned {len(codes)} codes")

    return lambda: request


def floor_batch(store_hash: str = FLOOR_STORE) -> tuple[BatchRecord, list[CodeRecord]]:
    """A fresh batch and its 250 code records, as the generator would claim them."""
    now = datetime.now(UTC)
    batch = BatchRecord(
        store_hash=store_hash,
        promotion_id=BULK_PROMOTION_ID,
        batch_id=uuid.uuid4().hex,
        status=BatchStatus.CLAIMING,
        batch_size=BATCH_SIZE,
        max_uses=1,
        max_uses_per_customer=1,
        code_format=CodeFormat(),
        created=now,
    )
    records = [
        CodeRecord(
            store_hash=store_hash,
            promotion_id=BULK_PROMOTION_ID,
            id=position,
            code=code,
            max_uses=1,
            max_uses_per_customer=1,
            created=now,
            batch_id=batch.batch_id,
        )
        for position, code in enumerate(make_codes(BASE_ALPHABET, CODE_LENGTH, BATCH_SIZE))
    ]
    return batch, records


def floor_client(stack: LocalStackProcess, table_name: str) -> Client:
    """Its own boto3 resource, claiming 250 fresh codes per call with the generator's adapter."""
    resource = stack.dynamodb().Table(table_name)  # type: ignore[attr-defined]
    batches = Repositories.over(resource, stack.dynamodb_writer()).batches

    def prepare() -> Callable[[], None]:
        batch, records = floor_batch()

        def claim() -> None:
            taken = batches.claim(batch, records)
            if taken:
                raise RuntimeError(f"the floor's fresh codes collided: {sorted(taken)[:3]}")

        return claim

    return prepare


def run_level(
    stack: LocalStackProcess, table_name: str, concurrency: int, settings: RequestSettings, log: Callable[[str], None]
) -> LevelResult:
    """Warm up, then alternate floor and request rounds at one concurrency."""
    calls = settings.requests_per_client[concurrency]
    # Warm-up (not measured): the API and generator load their handler copies (cold starts) and connect.
    run_clients(concurrency, settings.warmup_requests_per_client, lambda: codegen_client(stack))
    run_clients(concurrency, 1, lambda: floor_client(stack, table_name))
    result = LevelResult(concurrency)
    processes = {"bench": os.getpid(), **stack.pids}
    for round_number in range(1, settings.rounds + 1):
        with CpuMeter(processes, result.floor_cpu_seconds):
            floor, floor_wall = run_clients(concurrency, calls, lambda: floor_client(stack, table_name))
        with CpuMeter(processes, result.request_cpu_seconds):
            request, request_wall = run_clients(concurrency, calls, lambda: codegen_client(stack))
        result.floor_latencies += floor
        result.request_latencies += request
        result.floor_codes_per_s.append(len(floor) * BATCH_SIZE / floor_wall)
        result.request_codes_per_s.append(len(request) * BATCH_SIZE / request_wall)
        ratio = percentile(request, 0.5) / percentile(floor, 0.5)
        result.p50_ratios.append(ratio)
        log(
            f"  {concurrency:>2} clients, round {round_number}/{settings.rounds}:"
            f" request p50 {percentile(request, 0.5) * 1000:.0f} ms,"
            f" floor p50 {percentile(floor, 0.5) * 1000:.0f} ms, ratio {ratio:.2f}"
        )
    return result


def run_requests(
    stack: LocalStackProcess, settings: RequestSettings, log: Callable[[str], None] = print
) -> list[LevelResult]:
    table_name = stack.coupon_table_name()
    return [run_level(stack, table_name, level, settings, log) for level in settings.concurrency_levels]
