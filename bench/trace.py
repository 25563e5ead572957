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
import contextvars
import functools
import gc
import io
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
TRACE = RESULTS / "trace.jsonl"
# Where `serve` appends its events (default TRACE); bench/job_trace.py gives each run its own file.
TRACE_FILE_ENV = "BENCH_TRACE_FILE"
# The partition model counts a request under this header's value (couponmint_dev's partition_model/proxy.py).
MODEL_TAG_HEADER = "X-Model-Tag"

# The message being handled: "<kind>/<id>" (batch/<batch id>, plan/<job id>, assemble/<job id>). Executor tasks
# carry it (the local stack runs them in their submitter's context), so a batch's claims are its own.
SPAN: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_span", default=None)


def serve(argv: list[str]) -> None:
    """`couponmint local run` with every AWS call, GC pause and job message appended to the trace file.

    Each line is `[thread, name, started, ended, extra]` (perf_counter seconds): `name` is `service.Operation`,
    `gc.generationN`, or `span.<kind>` for a job's message (its start, a batch, its assembly), whose `extra`
    holds the CPU seconds its threads spent; a call's `extra` names its span and a few sizes (messages received
    or sent, bytes put). DynamoDB calls made for a span carry the model tag header, so the partition model
    (`--partition-model`) counts their units under it.
    """
    with Path(os.environ.get(TRACE_FILE_ENV) or TRACE).open("a", buffering=1) as out:
        _serve_traced(argv, out)


def _serve_traced(argv: list[str], out: Any) -> None:
    import boto3

    from couponmint.service import assembly, generation, jobs
    from couponmint_dev.local.iam.running import inherit_in_threads

    lock = threading.Lock()
    helper_cpu: dict[str, float] = collections.defaultdict(float)

    def write(thread: str, name: str, started: float, ended: float, extra: dict[str, Any] | None = None) -> None:
        with lock:
            out.write(json.dumps([thread, name, started, ended, extra or {}]) + "\n")

    def call_starts(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()
        context["bench_extra"] = {"span": SPAN.get(), **_sizes(params)}

    def call_ends(model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "bench_started" in context:
            extra = context["bench_extra"]
            if model.name == "ReceiveMessage":
                extra["received"] = len(parsed.get("Messages") or [])
            name = f"{model.service_model.service_name}.{model.name}"
            write(threading.current_thread().name, name, context["bench_started"], time.perf_counter(), extra)

    def tag(request: Any, **_: Any) -> None:
        span = SPAN.get()
        if span is not None:
            request.headers[MODEL_TAG_HEADER] = span

    collecting: dict[str, float] = {}

    def collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collecting["started"] = time.perf_counter()
        elif "started" in collecting:
            write("gc", f"gc.generation{info['generation']}", collecting.pop("started"), time.perf_counter())

    def spanned(kind: str, handle: Callable[..., Any], id_of: Callable[[Any], str]) -> Callable[..., Any]:
        @functools.wraps(handle)
        def run(*args: Any, **kwargs: Any) -> Any:
            span = f"{kind}/{id_of(args[-1])}"
            token = SPAN.set(span)
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return handle(*args, **kwargs)
            finally:
                own = time.thread_time() - cpu
                SPAN.reset(token)
                with lock:
                    helpers = helper_cpu.pop(span, 0.0)
                write(
                    threading.current_thread().name,
                    f"span.{kind}",
                    started,
                    time.perf_counter(),
                    {"span": span, "cpu": own + helpers},
                )

        return run

    submit = ThreadPoolExecutor.submit

    def submit_measured(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        span = SPAN.get()
        if span is None:
            return submit(self, fn, *args, **kwargs)

        def measured(*inner: Any, **named: Any) -> Any:
            cpu = time.thread_time()
            try:
                return fn(*inner, **named)
            finally:
                with lock:
                    helper_cpu[span] += time.thread_time() - cpu

        return submit(self, measured, *args, **kwargs)

    ThreadPoolExecutor.submit = submit_measured  # type: ignore[method-assign,assignment]
    inherit_in_threads()
    generation.run_batch_message = spanned("batch", generation.run_batch_message, lambda m: m.batch_id)
    jobs.plan_job = spanned("plan", jobs.plan_job, lambda m: m.job_id)
    assembly.assemble_job = spanned("assemble", assembly.assemble_job, lambda m: f"{m.job_id}/{m.part or 0}")
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-parameter-build", call_starts)
    boto3.DEFAULT_SESSION.events.register("after-call", call_ends)
    boto3.DEFAULT_SESSION.events.register("before-sign.dynamodb", tag)
    gc.callbacks.append(collection)
    from couponmint_dev.cli import main as couponmint

    couponmint(["local", "run", *argv])


def _sizes(params: dict[str, Any]) -> dict[str, Any]:
    """What the AWS model needs to know of a call's request: the queue it uses, messages sent, bytes put."""
    sizes: dict[str, Any] = {}
    if "QueueUrl" in params:
        sizes["queue"] = str(params["QueueUrl"]).rpartition("/")[2]
    if "Entries" in params:
        sizes["entries"] = len(params["Entries"])
    body = params.get("Body")
    if isinstance(body, bytes | bytearray | str):
        sizes["bytes"] = len(body)
    elif isinstance(body, io.BytesIO):  # botocore wraps an S3 body before this hook runs
        sizes["bytes"] = len(body.getbuffer())
    return sizes


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
    kinds = collections.Counter(event[1] for event in events if event[1] != "sqs.ReceiveMessage")
    print(f"per request ({requests} traced; long polls of the SQS pollers left out):")
    for name, count in kinds.most_common():
        print(f"  {count / requests:5.1f}  {name}")
    latencies = [end - start for start, end in spans]
    median = statistics.median_low(latencies)
    start, end = spans[latencies.index(median)]
    print(f"\nthe median request, {median * 1000:.1f} ms at the client (start ms, duration ms, thread, call):")
    for thread, name, began, ended, *_ in sorted(events, key=lambda event: event[2]):
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
