"""What one batch of a job does, and what a job does once, measured from a traced job (bench/job_trace.py):
the input of bench/aws_model.py.

A steady-state batch is one that released the next batch of its job (all but the last window of a large job
do): its write and read units as the partition model charged them, split between the table and its indexes as
the job's writes were; its calls, and which of them the handler makes one after another; its CPU seconds; its
CSV's size; the job lane's messages per invocation; and the write units it puts on partition keys that every
batch shares (one key of its kind rather than one per batch or per code).
"""

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.job_trace import JobTrace, Span

TABLE = "CouponTable"


@dataclass(frozen=True)
class KeyLoad:
    """Write units one batch puts on a partition key that every batch of a job shares."""

    resource: str
    key: str
    wcu_per_batch: float


@dataclass(frozen=True)
class BatchProfile:
    """One steady-state batch of a job (it released the next), as measured."""

    wru: float
    wru_by_resource: dict[str, float]
    rru: float
    calls: dict[str, float]
    own_thread: list[str]
    beside: list[list[str]]
    cpu_seconds: float
    csv_bytes: float
    messages_per_invocation: float
    shared_keys: list[KeyLoad]
    # Batches released by the traced job's batches (the release work is measured over these).
    releases_measured: int = 0


@dataclass(frozen=True)
class JobOnce:
    """What a job costs once, whatever its size (its start, its assembly, the API), as measured."""

    start_calls: list[str]
    start_cpu_seconds: float
    assembly_cpu_seconds_per_batch: float
    wru: float
    rru: float


def measure(trace: JobTrace) -> tuple[BatchProfile, JobOnce]:
    """The profile of a steady batch: a batch that releases none, plus the measured work of releasing one.

    In a large job nearly every batch releases the next (a million codes: 3,980 of 4,000); a traced job of a
    few windows releases fewer, and releases come in clumps (a batch that finishes releases all that the
    batches done before it allow). So the work of a release is measured where it happened, per batch released,
    and added once to a batch that released none. The job's last batch (which also queues the assembly) is left
    out.
    """
    batches = trace.batches()
    plain = [span for span in batches if released(span) == 0 and not _finishes_job(span)] or batches
    releasing = [span for span in batches if released(span) > 0]
    per_release = sum(released(span) for span in releasing)

    def steady(metric: Callable[[Span], float]) -> float:
        base = statistics.mean(metric(span) for span in plain)
        extra = sum(metric(span) - base for span in releasing) / per_release if per_release else 0.0
        return base + extra

    typical = min(releasing, key=lambda span: len(span.calls)) if releasing else plain[len(plain) // 2]
    wru = steady(lambda span: span.wcu)
    names = sorted({call.name for span in batches for call in span.calls})
    puts = [call.extra.get("bytes", 0) for span in batches for call in span.calls if call.name == "s3.PutObject"]
    batch = BatchProfile(
        wru=wru,
        wru_by_resource={resource: wru * share for resource, share in _write_shares(trace.model).items()},
        rru=steady(lambda span: span.rru),
        calls={name: steady(lambda span, name=name: span.calls_by_name()[name]) for name in names},  # type: ignore[misc]
        own_thread=[call.name for call in sorted(typical.own_thread_calls(), key=lambda call: call.started)],
        beside=[[call.name for call in calls] for calls in typical.helper_calls().values()],
        cpu_seconds=statistics.median(span.cpu_seconds for span in plain),
        csv_bytes=statistics.mean(puts) if puts else 0.0,
        messages_per_invocation=statistics.mean(trace.receives) if trace.receives else 1.0,
        shared_keys=_shared_keys(trace.model, len(batches)),
        releases_measured=per_release,
    )
    starts, assemblies = trace.of_kind("plan"), trace.of_kind("assemble")
    once_spans = starts + assemblies
    untagged = trace.untagged()
    job = JobOnce(
        start_calls=[call.name for call in starts[0].own_thread_calls()] if starts else [],
        start_cpu_seconds=sum(span.cpu_seconds for span in starts),
        assembly_cpu_seconds_per_batch=sum(span.cpu_seconds for span in assemblies) / len(batches),
        wru=sum(span.wcu for span in once_spans) + sum(counters["wcu"] for counters in untagged.values()),
        rru=sum(span.rru for span in once_spans) + sum(counters["rru"] for counters in untagged.values()),
    )
    return batch, job


def released(span: Span) -> int:
    """Batches this batch released (sent the messages of): the entries of its SendMessageBatch calls."""
    return sum(int(call.extra.get("entries", 1)) for call in span.calls if call.name == "sqs.SendMessageBatch")


def _finishes_job(span: Span) -> bool:
    """The job's last batch queues its assembly (one SendMessage)."""
    return any(call.name == "sqs.SendMessage" for call in span.calls)


def _write_shares(model: dict[str, Any]) -> dict[str, float]:
    """How the coupon table's write units split between the table and each index (measured over the job)."""
    units = {
        resource["index"] or "table": float(resource["wcu"])
        for resource in model["resources"]
        if resource["table"].endswith(TABLE)
    }
    total = sum(units.values()) or 1.0
    return {resource: value / total for resource, value in units.items()}


_KEY_CLASSES = (
    (re.compile(r"#JOB#[0-9a-f]+"), "#JOB#<job>"),
    (re.compile(r"#BATCH#[^#]+"), "#BATCH#<batch>"),
    (re.compile(r"#CODE#[^#]+"), "#CODE#<code>"),
    (re.compile(r"^STORE#[^#]+"), "STORE#<store>"),
    (re.compile(r"#PROMOTION#\d+"), "#PROMOTION#<promotion>"),
)


def key_class(key: str) -> str:
    """A partition key with its ids taken out: `STORE#demo#JOB#77c1` → `STORE#<store>#JOB#<job>`."""
    for pattern, replacement in _KEY_CLASSES:
        key = pattern.sub(replacement, key)
    return key


def _shared_keys(model: dict[str, Any], batches: int) -> list[KeyLoad]:
    """Keys every batch writes to (one of their kind, not one per batch or per code), per batch, hottest first."""
    classes: dict[tuple[str, str], list[float]] = {}
    for entry in model["keys"]:
        if entry["table"].endswith(TABLE):
            classes.setdefault((entry["index"] or "table", key_class(entry["key"])), []).append(entry["wcu"])
    shared = [
        KeyLoad(resource, key, max(loads) / batches)
        for (resource, key), loads in classes.items()
        if len(loads) < max(2, batches / 2)
    ]
    return sorted(shared, key=lambda load: -load.wcu_per_batch)
