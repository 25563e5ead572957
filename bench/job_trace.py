"""A bulk job traced call by call, with the partition model counting its units: what one batch of a job does.

`trace_job(quantity)` starts the local stack traced (bench/trace.py's `serve`) behind the partition model at a
scale where nothing throttles (`--partition-model=1000`: it only counts), runs one job of `quantity` codes over
HTTP, and returns a JobTrace: for each message of the job (a span: its start, each batch, its assembly) the AWS
calls it made, on which thread and in what order, the CPU seconds its threads spent, and the write and read
units the model charged it (the calls carry the span as the model's tag); the job lane's receives (messages per
invocation); and the model's counters, hottest partition keys included.

`python -m bench.job_trace [--codes 6250]` prints a summary of one steady-state batch (one that released the
next batch of its job, as all but the last window of a large job do) and writes the raw events to
bench/results/trace-job.jsonl, the job's outcome and the model's counters to trace-job.json.
"""

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.jobs import run_job
from bench.stack import LocalStackProcess
from bench.trace import RESULTS, TRACE_FILE_ENV

TRACE_FILE = RESULTS / "trace-job.jsonl"
# The job's outcome and the model's counters beside the events (`load_job_trace` reads both again).
RUN_FILE = RESULTS / "trace-job.json"
# Far above anything the local stack writes: the model counts, it never throttles.
COUNTING_SCALE = 1000
# More batches than a job keeps in flight (JobConcurrency, 40), so that batches release the next as on AWS.
DEFAULT_CODES = 12_500
STATS_URL = re.compile(r"stats: (http://\S+/_model/stats)")


@dataclass(frozen=True)
class Call:
    thread: str
    name: str
    started: float
    ended: float
    extra: dict[str, Any]


@dataclass
class Span:
    """One message of the job as the job lane handled it."""

    span: str
    thread: str
    started: float
    ended: float
    cpu_seconds: float
    calls: list[Call] = field(default_factory=list)
    # What the partition model charged the span's DynamoDB calls, by operation (counters.py's counters).
    charged: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.span.partition("/")[0]

    @property
    def wcu(self) -> float:
        return sum(counters["wcu"] for counters in self.charged.values())

    @property
    def rru(self) -> float:
        return sum(counters["rru"] for counters in self.charged.values())

    @property
    def released(self) -> bool:
        """Whether this batch released the next one (sent its message): the steady state of a large job."""
        return any(call.name == "sqs.SendMessageBatch" for call in self.calls)

    def calls_by_name(self) -> Counter[str]:
        return Counter(call.name for call in self.calls)

    def own_thread_calls(self) -> list[Call]:
        """Calls made one after another by the handler itself."""
        return [call for call in self.calls if call.thread == self.thread]

    def helper_calls(self) -> dict[str, list[Call]]:
        """Calls made beside the handler (claims, the CSV export), by thread."""
        helpers: dict[str, list[Call]] = {}
        for call in self.calls:
            if call.thread != self.thread:
                helpers.setdefault(call.thread, []).append(call)
        return helpers


@dataclass
class JobTrace:
    quantity: int
    status: str
    seconds: float
    spans: list[Span]
    # Messages per ReceiveMessage of the job lane's pollers that received any (Lambda's event source does this).
    receives: list[int]
    model: dict[str, Any]

    def batches(self, *, steady: bool = False) -> list[Span]:
        found = [span for span in self.spans if span.kind == "batch"]
        return [span for span in found if span.released] if steady else found

    def of_kind(self, kind: str) -> list[Span]:
        return [span for span in self.spans if span.kind == kind]

    def untagged(self) -> dict[str, dict[str, float]]:
        """What the model charged outside the job's messages (the API creating and reading the job)."""
        tagged: dict[str, dict[str, float]] = {}
        for by_operation in self.model["tags"].values():
            for operation, counters in by_operation.items():
                into = tagged.setdefault(operation, dict.fromkeys(counters, 0))
                for name, value in counters.items():
                    into[name] += value
        return {
            operation: {name: value - tagged.get(operation, {}).get(name, 0) for name, value in counters.items()}
            for operation, counters in self.model["operations"].items()
        }


def trace_job(quantity: int = DEFAULT_CODES, log: Any = print) -> JobTrace:
    TRACE_FILE.parent.mkdir(parents=True, exist_ok=True)
    TRACE_FILE.write_text("")
    stack = LocalStackProcess(
        log_path=RESULTS / "stack-job-trace.log",
        # Without the IAM check (bench/stack.py's default), whose policy evaluation on every call would count as the
        # batch's CPU.
        command=(sys.executable, "-m", "bench.trace", "serve", f"--partition-model={COUNTING_SCALE}"),
        environment={TRACE_FILE_ENV: str(TRACE_FILE)},
    ).start()
    try:
        stats_url = _stats_url(stack.log_path)
        requests.post(stats_url.replace("/stats", "/reset"), timeout=10).raise_for_status()
        run = run_job(stack, quantity, log)
        model = _settled_stats(stats_url)
    finally:
        stack.stop()
    RUN_FILE.write_text(
        json.dumps({"quantity": quantity, "status": run.status, "seconds": run.seconds, "model": model}) + "\n"
    )
    return load_job_trace()


def load_job_trace() -> JobTrace:
    """The last traced job, from its files."""
    run = json.loads(RUN_FILE.read_text())
    return read_trace(TRACE_FILE, run["quantity"], run["status"], run["seconds"], run["model"])


def read_trace(path: Path, quantity: int, status: str, seconds: float, model: dict[str, Any]) -> JobTrace:
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    spans = {
        extra["span"]: Span(extra["span"], thread, started, ended, extra["cpu"])
        for thread, name, started, ended, extra in events
        if name.startswith("span.")
    }
    receives = []
    for thread, name, started, ended, extra in events:
        if name == "sqs.ReceiveMessage" and str(extra.get("queue", "")).endswith("JobQueue") and extra.get("received"):
            receives.append(int(extra["received"]))
        elif not name.startswith(("span.", "gc.")) and extra.get("span") in spans:
            spans[extra["span"]].calls.append(Call(thread, name, started, ended, extra))
    for tag, by_operation in model["tags"].items():
        if tag in spans:
            spans[tag].charged = by_operation
    ordered = sorted(spans.values(), key=lambda span: span.started)
    return JobTrace(quantity, status, seconds, ordered, receives, model)


def _stats_url(log: Path, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = STATS_URL.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise RuntimeError(f"the traced stack did not print the partition model's stats URL; see {log}")


def _settled_stats(url: str) -> dict[str, Any]:
    """The model's counters once the job's last calls are in (the poll that saw COMPLETED may precede them)."""
    time.sleep(1.0)
    answer = requests.get(url, params={"top": 200}, timeout=30)
    answer.raise_for_status()
    stats: dict[str, Any] = answer.json()
    return stats


def summary(trace: JobTrace) -> str:
    steady = trace.batches(steady=True) or trace.batches()
    typical = sorted(steady, key=lambda span: len(span.calls))[len(steady) // 2]
    lines = [
        f"job of {trace.quantity:,} codes: {trace.status} in {trace.seconds:.1f} s; {len(trace.batches())} batches,"
        f" {len(steady)} steady (released the next); messages per job-lane receive:"
        f" {statistics.mean(trace.receives) if trace.receives else 0:.2f}",
        f"a steady batch ({typical.span}): {len(typical.calls)} calls, {len(typical.own_thread_calls())} by the"
        f" handler one after another, CPU {typical.cpu_seconds * 1000:.0f} ms,"
        f" {typical.wcu:g} WRU, {typical.rru:g} RRU",
    ]
    lines += [f"  {count:3}  {name}" for name, count in sorted(typical.calls_by_name().items())]
    helpers = typical.helper_calls()
    lines.append("  beside the handler: " + ", ".join(f"{thread}: {len(calls)}" for thread, calls in helpers.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.job_trace", description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=DEFAULT_CODES)
    args = parser.parse_args(argv)
    print(summary(trace_job(args.codes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
