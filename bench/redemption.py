"""Redemption benchmark: a redemption end to end against the floor of its own DynamoDB writes, and a hot code.

`python -m bench.redemption [--quick]` starts `couponmint local run --in-memory` (as bench/stack.py does), makes
its codes through the API, and measures:

- **Request**: `POST /stores/demo/v3/promotions/codes/redemptions {"code", "customer", "order_id"}` over a
  keep-alive HTTP connection, timed at the client until its 201. Each client redeems its own code (100,000 uses,
  100,000 a customer: the full transaction of a code with both limits), a new order and customer each time.
- **Floor**: the request's own DynamoDB writes and nothing else, sent from this process straight to the stack's
  DynamoDB Local as the API sends them: the store window's count (an UpdateItem, on a thread of its own, as
  admission counts it) and, at the same time, the redemption's transaction (the API's own adapter: for a code
  this process has redeemed, `RedemptionRepository.redeem_remembered`, one TransactWriteItems of the redemption's
  Put, the code's conditional count, the customer's and the promotion gate's check), on codes of their own with
  the same limits. **Transaction** is that transaction alone (the floor of the runs before the quota's count
  was sent beside it), measured too so the two can be compared.
  Floor, transaction and request rounds alternate at 1 and 50 clients after a warm-up; the ratios of their p50s
  are taken per round.
- **Hot code**: redemptions/s of 50 clients on one unlimited code (its uses spread over shards), on 50 unlimited
  codes (one each), and on one code with a limit (every redemption a transaction on its item), through the API
  and straight to DynamoDB (the floor's rate for the same shape).

Writes bench/results/redemption[-quick].json, docs/img/bench-redemption.png and the "Redemption" section of
docs/benchmarks.md (bench/redemption_report.py).
"""

import argparse
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.machine import describe_machine
from bench.redemption_report import print_summary, write_plot, write_section
from bench.stack import DEMO_STORE, LocalStackProcess
from bench.stats import Spread, percentile
from couponmint.adapters.dynamo import Table
from couponmint.adapters.limits import LimitRepository
from couponmint.adapters.redemptions import RedemptionRepository
from couponmint.logic.limits import window_start
from couponmint.logic.redemptions import redemption_id
from couponmint.models.records import CodeRecord
from couponmint.models.redemptions import RedemptionRecord

RESULTS = Path(__file__).resolve().parent / "results"
PROMOTION_ID = 1
LIMIT = 100_000
HOT_CLIENTS = 50
# The floor's window counts go to a store of their own (their quota is never looked at).
FLOOR_STORE = "bench-floor"
WINDOW_MS = 30_000
TARGET = 1.5  # request p50 ÷ floor p50 at 1 client

# A call is prepared untimed and returns what is timed.
Call = Callable[[], Callable[[], None]]


@dataclass(frozen=True)
class Settings:
    rounds: int
    calls_per_client: dict[int, int]
    hot_calls_per_client: int
    levels: tuple[int, ...] = (1, 50)


QUICK = Settings(rounds=3, calls_per_client={1: 25, 50: 2}, hot_calls_per_client=4)
FULL = Settings(rounds=5, calls_per_client={1: 40, 50: 4}, hot_calls_per_client=8)


def run_clients(clients: list[Call], calls_each: int) -> tuple[list[float], float]:
    """Start the clients together; each makes `calls_each` calls one after another. Every latency, and the wall
    time of the whole round (seconds)."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(clients) + 1)

    def run(client: Call) -> None:
        mine = []
        try:
            ready.wait()
            for _ in range(calls_each):
                call = client()
                started = time.perf_counter()
                call()
                mine.append(time.perf_counter() - started)
        except BaseException as error:
            errors.append(error)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} call(s) failed; first: {errors[0]!r}") from errors[0]
    return latencies, wall


class Bench:
    def __init__(self, stack: LocalStackProcess) -> None:
        self.stack = stack
        self.url = f"{stack.url}/stores/{DEMO_STORE}/v3/promotions"
        self.headers = {"X-Auth-Token": stack.token, "Content-Type": "application/json"}
        self.table_name = stack.coupon_table_name()
        self.reader = self.repository()
        # The demo store's quotas out of the way: the benchmark measures redemptions, not the quota's 429s.
        table = Table(stack.dynamodb().Table(self.table_name))  # type: ignore[attr-defined]
        LimitRepository(table).set_store_limits(DEMO_STORE, 10**6, 30_000, redemption_quota=10**7)

    def repository(self) -> RedemptionRepository:
        """Its own boto3 resource (one per thread), as the API's adapter is built."""
        return RedemptionRepository(Table(self.stack.dynamodb().Table(self.table_name)))  # type: ignore[attr-defined]

    def code(self, text: str, max_uses: int, per_customer: int) -> CodeRecord:
        body = {"code": text, "max_uses": max_uses, "max_uses_per_customer": per_customer}
        answer = requests.post(f"{self.url}/{PROMOTION_ID}/codes", json=body, headers=self.headers, timeout=30)
        if answer.status_code != 201:
            raise RuntimeError(f"making {text} answered {answer.status_code}: {answer.text[:300]}")
        return self.read(text)

    def read(self, text: str) -> CodeRecord:
        """The code as stored now (its use shards, once its first redemption spread them)."""
        state = self.reader.read_code(DEMO_STORE, [text], None)
        assert state is not None
        return state.code

    def request(self, code: str) -> Call:
        session = requests.Session()

        def prepare() -> Callable[[], None]:
            body = json.dumps({"code": code, "customer": uuid.uuid4().hex, "order_id": uuid.uuid4().hex})

            def redeem() -> None:
                answer = session.post(f"{self.url}/codes/redemptions", data=body, headers=self.headers, timeout=60)
                if answer.status_code != 201:
                    raise RuntimeError(f"redeem answered {answer.status_code}: {answer.text[:300]}")

            return redeem

        return prepare

    def floor(self, code: CodeRecord, *, remembered: bool = True, counted: bool = True) -> Call:
        """The request's own writes: the window's count (unless not `counted`) and, at once, the transaction the API
        sends for this code: the remembered one (a client's own code, redeemed before) or, not `remembered`, the
        read-first path's (an unlimited code, or one that other clients redeem at the same time)."""
        repository = self.repository()
        limits = LimitRepository(Table(self.stack.dynamodb().Table(self.table_name)))  # type: ignore[attr-defined]
        counting = ThreadPoolExecutor(max_workers=1)
        # The code's count as the remembered transaction must find it (read now: an earlier level used the code).
        uses = [self.read(code.code).current_uses if remembered else 0]

        def count() -> None:
            start = window_start(int(time.time() * 1000), WINDOW_MS)
            limits.count_request(FLOOR_STORE, start, (start + 2 * WINDOW_MS) // 1000, "redemption")

        def prepare() -> Callable[[], None]:
            order = uuid.uuid4().hex
            record = RedemptionRecord(
                store_hash=DEMO_STORE,
                redemption_id=redemption_id(code.id, order),
                code=code.code,
                code_id=code.id,
                promotion_id=code.promotion_id,
                customer=uuid.uuid4().hex,
                order_id=order,
                created=datetime.now(UTC),
            )

            def redeem() -> None:
                counting_now = counting.submit(count) if counted else None
                if remembered:
                    known = code.model_copy(update={"current_uses": uses[0]})
                    outcome = repository.redeem_remembered(known, record, datetime.now(UTC))
                else:
                    outcome = repository.redeem(code, record)
                if counting_now is not None:
                    counting_now.result()
                if outcome is None or not outcome.created:
                    raise RuntimeError(f"the floor's redemption was not made: {outcome}")
                uses[0] += 1

            return redeem

        return prepare

    def transaction(self, code: CodeRecord) -> Call:
        """The remembered transaction alone, without the window's count."""
        return self.floor(code, counted=False)


def latency(bench: Bench, settings: Settings, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Request, floor and the transaction alone, alternating rounds, at each concurrency; each client on its own
    code (each kind of call on codes of its own)."""
    most = max(settings.levels)
    requested = [bench.code(f"BENCH-R{n}", LIMIT, LIMIT).code for n in range(most)]
    floors = [bench.code(f"BENCH-F{n}", LIMIT, LIMIT) for n in range(most)]
    alone = [bench.code(f"BENCH-T{n}", LIMIT, LIMIT) for n in range(most)]
    levels = []
    for clients in settings.levels:
        calls = settings.calls_per_client[clients]
        kinds: dict[str, list[Call]] = {
            "floor": [bench.floor(code) for code in floors[:clients]],
            "transaction": [bench.transaction(code) for code in alone[:clients]],
            "request": [bench.request(code) for code in requested[:clients]],
        }
        # Warm-up, not measured: the handler's first calls (the first redemption of a code reads it), connections,
        # the JVM's JIT.
        for clients_of_kind in kinds.values():
            run_clients(clients_of_kind, 3)
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        rates: dict[str, list[float]] = {kind: [] for kind in kinds}
        ratios: dict[str, list[float]] = {"floor": [], "transaction": []}
        for round_number in range(1, settings.rounds + 1):
            p50: dict[str, float] = {}
            for kind, clients_of_kind in kinds.items():
                latencies, wall = run_clients(clients_of_kind, calls)
                p50[kind] = percentile(latencies, 0.5)
                times[kind] += [s * 1000 for s in latencies]
                rates[kind].append(len(latencies) / wall)
            for kind in ratios:
                ratios[kind].append(p50["request"] / p50[kind])
            log(
                f"  {clients:>2} client(s), round {round_number}/{settings.rounds}: request p50"
                f" {p50['request'] * 1000:.1f} ms, floor p50 {p50['floor'] * 1000:.1f} ms"
                f" (transaction alone {p50['transaction'] * 1000:.1f} ms), ratio {ratios['floor'][-1]:.2f}"
                f" ({ratios['transaction'][-1]:.2f} to the transaction alone)"
            )
        levels.append(
            {
                "clients": clients,
                "samples": len(times["request"]),
                "request_p50_ms": round(percentile(times["request"], 0.5), 1),
                "request_p99_ms": round(percentile(times["request"], 0.99), 1),
                "floor_p50_ms": round(percentile(times["floor"], 0.5), 1),
                "floor_p99_ms": round(percentile(times["floor"], 0.99), 1),
                "transaction_p50_ms": round(percentile(times["transaction"], 0.5), 1),
                "request_vs_floor": Spread.of(ratios["floor"]).as_dict(),
                "request_vs_transaction": Spread.of(ratios["transaction"]).as_dict(),
                "request_per_s": Spread.of(rates["request"]).as_dict(1),
                "floor_per_s": Spread.of(rates["floor"]).as_dict(1),
            }
        )
    return levels


def hot_codes(bench: Bench, settings: Settings, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Redemptions/s of 50 clients: on one unlimited code, on 50 unlimited codes, on one limited code."""
    cases = {
        "one unlimited code": [bench.code("BENCH-HOT", 0, 0)] * HOT_CLIENTS,
        "50 unlimited codes": [bench.code(f"BENCH-COLD{n}", 0, 0) for n in range(HOT_CLIENTS)],
        "one limited code": [bench.code("BENCH-HOT-LIMITED", LIMIT, 0)] * HOT_CLIENTS,
    }
    floors = {
        "one unlimited code": [bench.code("BENCH-FHOT", 0, 0)] * HOT_CLIENTS,
        "50 unlimited codes": [bench.code(f"BENCH-FCOLD{n}", 0, 0) for n in range(HOT_CLIENTS)],
        "one limited code": [bench.code("BENCH-FHOT-LIMITED", LIMIT, 0)] * HOT_CLIENTS,
    }
    # An unlimited code is spread over its shards at its first redemption: once, before the clock.
    for codes in (*cases.values(), *floors.values()):
        run_clients([bench.request(text) for text in {code.code for code in codes}], 1)
    spread = {name: [bench.read(code.code) for code in codes] for name, codes in floors.items()}
    results = []
    for name in cases:
        request_rates, floor_rates = [], []
        for _ in range(settings.rounds):
            done, wall = run_clients([bench.request(c.code) for c in cases[name]], settings.hot_calls_per_client)
            request_rates.append(len(done) / wall)
            floor = [bench.floor(c, remembered=False) for c in spread[name]]
            done, wall = run_clients(floor, settings.hot_calls_per_client)
            floor_rates.append(len(done) / wall)
        log(
            f"  {name}: {Spread.of(request_rates).median:,.0f} redemptions/s through the API,"
            f" {Spread.of(floor_rates).median:,.0f}/s straight to DynamoDB"
        )
        uses = bench.reader.read_code(DEMO_STORE, [cases[name][0].code], None)
        results.append(
            {
                "case": name,
                "clients": HOT_CLIENTS,
                "request_per_s": Spread.of(request_rates).as_dict(1),
                "floor_per_s": Spread.of(floor_rates).as_dict(1),
                "first_code_uses": uses.code.current_uses if uses else None,
            }
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redemption", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (about a minute)")
    parser.add_argument("--render", action="store_true", help="measure nothing: rewrite the plot and the section")
    args = parser.parse_args(argv)
    output = RESULTS / ("redemption-quick.json" if args.quick else "redemption.json")
    if args.render:
        results = json.loads(output.read_text())
    else:
        results = run(QUICK if args.quick else FULL, "quick" if args.quick else "full")
        RESULTS.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2) + "\n")
    print_summary(results)
    if not args.quick:
        print(f"wrote {output}, {write_plot(results)}, {write_section(results)}")
    return 0


def run(settings: Settings, mode: str) -> dict[str, Any]:
    started = time.monotonic()
    machine = describe_machine()
    load = machine["load_average_at_start"]
    print(f"redemption benchmark ({mode}) on {machine['cpu']}, {machine['cores']} cores, load {load}", flush=True)
    stack = LocalStackProcess(log_path=RESULTS / f"stack-redemption-{mode}.log").start()
    try:
        bench = Bench(stack)
        print("latency: a redemption through the API vs its own writes sent directly", flush=True)
        levels = latency(bench, settings, lambda line: print(line, flush=True))
        print(f"hot code: {HOT_CLIENTS} clients", flush=True)
        hot = hot_codes(bench, settings, lambda line: print(line, flush=True))
    finally:
        stack.stop()
    one_client = next(level for level in levels if level["clients"] == 1)
    ratio = one_client["request_vs_floor"]["median"]
    return {
        "mode": mode,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": machine | {"load_average_at_end": " ".join(f"{load:.2f}" for load in os.getloadavg())},
        "settings": asdict(settings),
        "target": {"key": "request_vs_floor at 1 client", "at_most": TARGET, "value": ratio, "met": ratio <= TARGET},
        "levels": levels,
        "hot": hot,
    }


if __name__ == "__main__":
    raise SystemExit(main())
