"""What the proposed fixes would gain, measured before anyone adopts them.

`python -m bench.what_if serve --fix light-polls -- --in-memory --port N` runs the local stack with a proposed
change applied as a patch in memory (the project's files are not touched); `python -m bench.what_if compare
--fix light-polls` measures the request benchmark on the stack as it is and on the patched one, one after the
other, and prints both; `python -m bench.what_if phases [--fix ...]` traces requests at 1 client and cuts
each into phases (bench/results/phases-*.md). The fixes:

- `light-polls` (`light-polls-25ms`): the API polls the batch's status every 10 ms (25 ms) with a projection
  (a ~100-byte answer instead of the whole record with its 250 codes), and reads the whole record once, when
  it is finished (service/codegen.py `wait_for_batch`; today: backoff from 20 ms to 250 ms, full record each
  time).
- `parallel-claims`: the generator sends a batch's transactions of up to 100 codes at the same time
  (adapters/table.py `claim_codes`; today: one after another).
- `batch-size-1`: the generator's event source takes one message per invocation (template.yaml: BatchSize 10,
  so messages that arrive together are completed one after another by one invocation).
- `switch-1ms`: the stack process hands the GIL over every 1 ms instead of Python's 5 ms.
- `trace` (not a fix): every AWS call and handler invocation appended to bench/results/trace.jsonl.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.request import RequestSettings, run_requests
from bench.stack import LocalStackProcess

RESULTS = Path(__file__).resolve().parent / "results"
POLL_SECONDS = 0.01


def light_polls(poll_seconds: float = POLL_SECONDS) -> None:
    from couponmint.adapters.table import CouponTable, batch_key
    from couponmint.models.records import BatchRecord
    from couponmint.service import codegen

    finished = {status.value for status in codegen.FINISHED}

    def wait_for_batch(
        table: CouponTable,
        batch: BatchRecord,
        budget_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> BatchRecord:
        deadline = clock() + budget_seconds
        key = batch_key(batch.store_hash, batch.batch_id)
        status = batch.status.value
        while status not in finished and clock() < deadline:
            sleep(min(poll_seconds, max(0.0, deadline - clock())))
            item: dict[str, Any] = (
                table._table.get_item(
                    Key=key, ConsistentRead=True, ProjectionExpression="#s", ExpressionAttributeNames={"#s": "status"}
                ).get("Item")
                or {}
            )
            status = item.get("status", status)
        return table.get_batch(batch.store_hash, batch.batch_id) or batch

    codegen.wait_for_batch = wait_for_batch  # type: ignore[assignment]


def trace() -> None:
    """Not a fix: append every AWS call and handler invocation (thread, what, start, end) to trace.jsonl."""
    import threading

    import botocore.client

    from couponmint.local.lambdas import LocalFunction

    output = (RESULTS / "trace.jsonl").open("a", buffering=1)
    lock = threading.Lock()

    def record(what: str, started: float) -> None:
        line = json.dumps([threading.current_thread().name, what, started, time.perf_counter()])
        with lock:
            output.write(line + "\n")

    make_api_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def traced_api_call(self: Any, operation: str, parameters: Any) -> Any:
        started = time.perf_counter()
        try:
            return make_api_call(self, operation, parameters)
        finally:
            record(f"{self.meta.service_model.service_name}.{operation}", started)

    invoke = LocalFunction.__call__

    def traced_invoke(self: LocalFunction, event: Any, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return invoke(self, event, context)
        finally:
            record(f"invoke {self.spec.logical_id}", started)

    botocore.client.BaseClient._make_api_call = traced_api_call  # type: ignore[attr-defined]
    LocalFunction.__call__ = traced_invoke  # type: ignore[method-assign]


def parallel_claims() -> None:
    """The generator claims a batch's transactions of 100 at the same time instead of one after another."""
    from concurrent.futures import ThreadPoolExecutor

    from couponmint.adapters.table import MAX_TRANSACTION_ITEMS, CouponTable

    claim_codes = CouponTable.claim_codes
    pool = ThreadPoolExecutor(max_workers=30, thread_name_prefix="claims")

    def claim_in_parallel(self: CouponTable, batch: Any, codes: Any) -> set[str]:
        chunks = [codes[start : start + MAX_TRANSACTION_ITEMS] for start in range(0, len(codes), MAX_TRANSACTION_ITEMS)]
        taken: set[str] = set()
        for collided in pool.map(lambda chunk: claim_codes(self, batch, chunk), chunks):
            taken |= collided
        return taken

    CouponTable.claim_codes = claim_in_parallel  # type: ignore[method-assign]


def one_message_per_invocation() -> None:
    """The generator's SQS event source with BatchSize 1 (template.yaml says 10)."""
    import dataclasses

    from couponmint.local import poller

    from_template = poller.EventSourceConfig.from_template.__func__  # type: ignore[attr-defined]

    def with_batch_size_one(cls: type, template: dict[str, Any], function_id: str) -> Any:
        return dataclasses.replace(from_template(cls, template, function_id), batch_size=1)

    poller.EventSourceConfig.from_template = classmethod(with_batch_size_one)  # type: ignore[assignment]


def short_switch_interval() -> None:
    """The stack process hands the GIL over every 1 ms instead of 5 ms (20 threads share it there)."""
    sys.setswitchinterval(0.001)


FIXES: dict[str, Callable[[], None]] = {
    "light-polls": light_polls,
    "light-polls-25ms": lambda: light_polls(0.025),
    "parallel-claims": parallel_claims,
    "switch-1ms": short_switch_interval,
    "batch-size-1": one_message_per_invocation,
    "trace": trace,
}


def serve(fixes: list[str], stack_arguments: list[str]) -> int:
    for name in fixes:
        FIXES[name]()
    from couponmint.local.stack import main as stack_main

    return stack_main(["run", *stack_arguments])


def compare(fixes: list[str], settings: RequestSettings) -> int:
    summaries: dict[str, list[dict[str, object]]] = {}
    for label, command in (
        ("as is", None),
        ("+" + "+".join(fixes), (sys.executable, "-m", "bench.what_if", "serve", *_fix_flags(fixes), "--")),
    ):
        print(f"stack {label}")
        stack = LocalStackProcess(log_path=RESULTS / "stack-what-if.log")
        if command:
            stack.command = command
        stack.start()
        try:
            summaries[label] = [level.summary() for level in run_requests(stack, settings)]
        finally:
            stack.stop()
    print(json.dumps(summaries, indent=1))
    (RESULTS / f"what-if-{'+'.join(fixes)}.json").write_text(json.dumps(summaries, indent=1) + "\n")
    return 0


PHASES = (
    ("api_prelude", "API: from the invocation to the end of SendMessage (token, promotion, count, put, send)"),
    ("queue", "SendMessage's end to the generator's invocation"),
    ("generator_prelude", "generator: to its first claim transaction (get, reserve ids, write-ahead)"),
    ("claims", "the claim transactions (the floor's work)"),
    ("generator_post", "after the claims: CSV to S3, DONE and counts"),
    ("detection", "DONE written to the API's poll that sees it"),
    ("api_finish", "that poll's end to the API's answer"),
)


def request_phases(events: list[list[Any]]) -> list[dict[str, float]]:
    """Each traced request (one client, so nothing overlaps) cut into PHASES, in ms."""
    phases = []
    for api in (event for event in events if event[1] == "invoke ApiFunction"):
        api_thread, _, api_start, api_end = api
        inside = sorted((e for e in events if api_start <= e[2] and e[3] <= api_end), key=lambda e: e[2])
        generator = next(e for e in events if e[1] == "invoke GeneratorFunction" and api_start <= e[2] <= api_end)
        generator_calls = [e for e in inside if e[0] == generator[0] and generator[2] <= e[2] <= generator[3]]
        transactions = [e for e in generator_calls if e[1] == "dynamodb.TransactWriteItems"]
        sent = next(e for e in inside if e[0] == api_thread and e[1] == "sqs.SendMessage")
        last_poll = [e for e in inside if e[0] == api_thread and e[1] == "dynamodb.GetItem"][-1]
        claims_end = transactions[-2][3]  # the last transaction is complete_batch's
        done = transactions[-1][3]
        phases.append(
            {
                "api_prelude": sent[3] - api_start,
                "queue": generator[2] - sent[3],
                "generator_prelude": transactions[0][2] - generator[2],
                "claims": claims_end - transactions[0][2],
                "generator_post": done - claims_end,
                "detection": last_poll[3] - done,
                "api_finish": api_end - last_poll[3],
            }
        )
    return [{name: round(seconds * 1000, 1) for name, seconds in phase.items()} for phase in phases]


def phases(fixes: list[str], requests: int) -> int:
    """Trace `requests` sequential requests on the stack with `fixes`, and the floor in between; print the budget."""
    import statistics

    from bench.request import codegen_client, floor_client, run_clients

    trace_file = RESULTS / "trace.jsonl"
    stack = LocalStackProcess(log_path=RESULTS / "stack-what-if.log")
    stack.command = (sys.executable, "-m", "bench.what_if", "serve", *_fix_flags(["trace", *fixes]), "--")
    stack.start()
    try:
        table_name = stack.coupon_table_name()
        run_clients(1, 5, lambda: codegen_client(stack))
        run_clients(1, 5, lambda: floor_client(stack, table_name))
        trace_file.write_text("")
        latencies: list[float] = []
        floors: list[float] = []
        for _ in range(requests):
            latencies += run_clients(1, 1, lambda: codegen_client(stack))[0]
            floors += run_clients(1, 1, lambda: floor_client(stack, table_name))[0]
    finally:
        stack.stop()
    events = [json.loads(line) for line in trace_file.read_text().splitlines()]
    cut = request_phases(events)
    label = "+".join(fixes) or "as is"
    lines = [f"# Where a 250-code request's time goes, 1 client, stack {label}", ""]
    lines += ["| phase | median ms | what |", "|---|---:|---|"]
    for name, what in PHASES:
        lines.append(f"| {name} | {statistics.median(p[name] for p in cut):.1f} | {what} |")
    lines.append(f"| request at the client | {statistics.median(latencies) * 1000:.1f} | p50 of {len(latencies)} |")
    lines.append(f"| floor (claim_codes from the bench) | {statistics.median(floors) * 1000:.1f} | p50, in between |")
    report = "\n".join(lines) + "\n"
    print(report)
    (RESULTS / f"phases-{label.replace(' ', '-')}.md").write_text(report)
    return 0


def _fix_flags(fixes: list[str]) -> list[str]:
    return [flag for name in fixes for flag in ("--fix", name)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the local stack with fixes applied")
    serve_parser.add_argument("--fix", action="append", choices=sorted(FIXES), default=[])
    serve_parser.add_argument("stack_arguments", nargs="*", help="after --: arguments of `couponmint local run`")
    compare_parser = commands.add_parser("compare", help="request benchmark with and without the fixes")
    compare_parser.add_argument("--fix", action="append", choices=sorted(FIXES), required=True)
    compare_parser.add_argument("--rounds", type=int, default=3)
    phases_parser = commands.add_parser("phases", help="trace requests at 1 client and cut them into phases")
    phases_parser.add_argument("--fix", action="append", choices=sorted(FIXES), default=[])
    phases_parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    if args.command == "phases":
        return phases(args.fix, args.requests)
    if args.command == "serve":
        return serve(args.fix, args.stack_arguments)
    settings = RequestSettings(concurrency_levels=(1, 10), rounds=args.rounds, requests_per_client={1: 10, 10: 4})
    return compare(args.fix, settings)


if __name__ == "__main__":
    sys.exit(main())
