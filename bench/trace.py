"""Where a 250-code request's time goes: every AWS call and garbage-collector pause of the stack, timed.

`python -m bench.trace [--requests 12]` starts the local stack with two hooks (a boto3 session hook that
times every call from parameter building to parsed answer, and a `gc.callbacks` entry that times every
collection), makes warm-up requests, then traced ones at 1 client, and prints:

- the calls (and collections) per request, by kind;
- the timeline of the median request: when each call started after the client sent the request, how long it
  took, and which thread made it (the API's request thread, a generator poller, the export beside it).

The raw events go to bench/results/trace.jsonl. `python -m bench.trace serve ARGS` is the traced stack itself
(`couponmint local run ARGS` with the hooks), which the first form starts as a child process.
"""

import argparse
import collections
import gc
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
TRACE = RESULTS / "trace.jsonl"


def serve(argv: list[str]) -> None:
    """`couponmint local run` with every AWS call and GC pause appended to TRACE."""
    import boto3

    out = TRACE.open("a", buffering=1)
    lock = threading.Lock()

    def write(thread: str, name: str, started: float) -> None:
        with lock:
            out.write(json.dumps([thread, name, started, time.perf_counter()]) + "\n")

    def call_starts(context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def call_ends(model: Any, context: dict[str, Any], **_: Any) -> None:
        if "bench_started" in context:
            name = f"{model.service_model.service_name}.{model.name}"
            write(threading.current_thread().name, name, context["bench_started"])

    collecting: dict[str, float] = {}

    def collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collecting["started"] = time.perf_counter()
        elif "started" in collecting:
            write("gc", f"gc.generation{info['generation']}", collecting.pop("started"))

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-parameter-build", call_starts)
    boto3.DEFAULT_SESSION.events.register("after-call", call_ends)
    gc.callbacks.append(collection)
    from couponmint_dev.cli import main as couponmint

    couponmint(["local", "run", *argv])


def trace(requests: int) -> None:
    from bench.request import codegen_client
    from bench.stack import LocalStackProcess

    TRACE.parent.mkdir(parents=True, exist_ok=True)
    TRACE.write_text("")
    command = (sys.executable, "-m", "bench.trace", "serve")
    stack = LocalStackProcess(log_path=RESULTS / "stack-trace.log", command=command).start()
    try:
        call = codegen_client(stack)()
        for _ in range(5):
            call()
        time.sleep(0.5)
        skipped = len(TRACE.read_text().splitlines())
        spans: list[tuple[float, float]] = []
        for _ in range(requests):
            started = time.perf_counter()
            call()
            spans.append((started, time.perf_counter()))
        time.sleep(0.5)
    finally:
        stack.stop()
    events = [json.loads(line) for line in TRACE.read_text().splitlines()[skipped:]]
    kinds = collections.Counter(name for _, name, _, _ in events if name != "sqs.ReceiveMessage")
    print(f"per request ({requests} traced; long polls of the SQS pollers left out):")
    for name, count in kinds.most_common():
        print(f"  {count / requests:5.1f}  {name}")
    latencies = [end - start for start, end in spans]
    median = statistics.median_low(latencies)
    start, end = spans[latencies.index(median)]
    print(f"\nthe median request, {median * 1000:.1f} ms at the client (start ms, duration ms, thread, call):")
    for thread, name, began, ended in sorted(events, key=lambda event: event[2]):
        if start <= began <= end and name != "sqs.ReceiveMessage":
            print(f"  {(began - start) * 1000:7.1f} {(ended - began) * 1000:6.1f}  {thread[:30]:30}  {name}")


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["serve"]:
        serve(arguments[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.trace", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12, help="traced requests (after 5 untimed ones)")
    trace(parser.parse_args(arguments).requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
