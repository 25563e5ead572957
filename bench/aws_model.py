"""A million codes on AWS, computed from a job measured on the local stack: every ceiling, the one that binds,
the time and the cost.

Inputs, and nothing typed in by hand:
- what one batch of a job does, measured (bench/job_trace.py): its calls and the order it makes them in, its CPU
  seconds, the write and read units the partition model charged it, and the units it puts on shared partition
  keys (the store's partition, the job's item, the promotion's index key, ...); the job lane's messages per
  invocation; what the job's start, its assembly and the API cost once per job;
- the template's parameters (template.yaml): JobConcurrency, the job lane's memory and SQS batch size, the warm
  throughput of the table and its indexes; the job window and the batch size from the layer;
- AWS's documented limits and list prices, and the latencies it assumes (bench/aws_facts.py).

`python -m bench.aws_model [--codes 12500] [--warm WRU]` traces a job and prints the model; `make bench-quick`
runs it and writes `aws_million_codes_s` and `aws_million_codes_usd` to bench/results/quick.json.
"""

import argparse
import math
import sys
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bench.aws_facts import LATENCIES, LIMITS, PRICES, latency_of
from bench.aws_profile import BatchProfile, JobOnce, measure
from bench.job_trace import trace_job
from couponmint.adapters.exports import READERS
from couponmint.logic.assembly import BATCHES_PER_PART
from couponmint.models.codegen import MAX_BATCH_SIZE
from couponmint_dev.local.template import function_properties, load_template

CODES = 1_000_000
SECONDS_TARGET = 60
# TableWarmWriteUnits for a million codes a minute (docs/scaling.md, template.yaml's description).
DOCUMENTED_WARM_WRU = 25_000
# The client polls its job's progress this often (the API's cost and the job's last second).
POLL_SECONDS = 1.0
# The deployment before issue 12's changes (a cheap comparison): JobFunction at 1,024 MB, JobConcurrency and the
# job window 20, the CSV assembled by one function in parts of 8 MiB.
BEFORE = {"memory_mb": 1024, "job_concurrency": 20, "job_window": 20, "parallel_assembly": False}
BEFORE_PART_BYTES = 8 * 1024 * 1024
API_FUNCTION_SECONDS = 0.05


@dataclass(frozen=True)
class Deployment:
    """What the template (and the layer) set for a job's lane and table."""

    job_concurrency: int
    memory_mb: int
    esm_batch_size: int
    # The job lane's window (COUPONMINT_JOB_WINDOW, which the template sets to JobConcurrency).
    job_window: int
    batch_codes: int = MAX_BATCH_SIZE
    table_warm_wru: float = LIMITS["on_demand_start_wru"].value
    index_warm_wru: float = LIMITS["on_demand_start_wru"].value
    readers: int = READERS
    batches_per_part: int = BATCHES_PER_PART
    # The CSV's parts assembled in parallel, one message each (the layer); False: by one function (before).
    parallel_assembly: bool = True

    @classmethod
    def from_template(cls, table_warm_wru: float | None = None) -> "Deployment":
        template = load_template()
        parameters = template["Parameters"]
        job_lane = function_properties(template, "JobFunction")
        (event,) = [e["Properties"] for e in job_lane["Events"].values() if e["Type"] == "SQS"]
        start = LIMITS["on_demand_start_wru"].value
        window = job_lane["Environment"]["Variables"]["COUPONMINT_JOB_WINDOW"]
        assert window == {"Ref": "JobConcurrency"}, f"the job window is no longer JobConcurrency: {window}"
        return cls(
            job_concurrency=int(parameters["JobConcurrency"]["Default"]),
            job_window=int(parameters["JobConcurrency"]["Default"]),
            memory_mb=int(job_lane.get("MemorySize", template["Globals"]["Function"].get("MemorySize", 128))),
            esm_batch_size=int(event.get("BatchSize", 10)),
            table_warm_wru=table_warm_wru or float(parameters["TableWarmWriteUnits"]["Default"]) or start,
            index_warm_wru=float(parameters["IndexWarmWriteUnits"]["Default"]) or start,
        )

    @property
    def vcpu_share(self) -> float:
        return min(1.0, self.memory_mb / LIMITS["full_vcpu_mb"].value)


@dataclass(frozen=True)
class Ceiling:
    name: str
    codes_per_second: float
    arithmetic: str


@dataclass
class Estimate:
    codes: int
    seconds: float
    usd: float
    binding: Ceiling
    ceilings: list[Ceiling]
    batch_seconds: float
    costs: dict[str, float] = field(default_factory=dict)
    outside_target: dict[str, float] = field(default_factory=dict)
    parts_seconds: dict[str, float] = field(default_factory=dict)
    warm_wru_for_target: float = 0.0


# ---------------------------------------------------------------------------------------- on AWS
def estimate(batch: BatchProfile, job: JobOnce, deployment: Deployment, codes: int = CODES) -> Estimate:
    batches = math.ceil(codes / deployment.batch_codes)
    per_code = 1 / deployment.batch_codes
    delivery = LATENCIES["esm_delivery"].value
    cpu_scale = 1 / deployment.vcpu_share
    handler = sum(latency_of(call) for call in batch.own_thread)
    beside = max((sum(latency_of(call) for call in calls) for calls in batch.beside), default=0.0)
    batch_seconds = handler + beside + batch.cpu_seconds * cpu_scale
    cycle = batch_seconds + delivery
    in_flight = min(deployment.job_concurrency, deployment.job_window / max(1.0, batch.messages_per_invocation))
    table_wru = batch.wru_by_resource.get("table", batch.wru)
    partition = LIMITS["partition_wcu"].value
    ceilings = [
        Ceiling(
            "job lane",
            in_flight * deployment.batch_codes / cycle,
            f"{in_flight:g} batches at once (JobConcurrency {deployment.job_concurrency}, window"
            f" {deployment.job_window}, {batch.messages_per_invocation:.2f} messages an invocation) x"
            f" {deployment.batch_codes} codes / {cycle * 1000:.0f} ms a batch",
        ),
        Ceiling(
            "table writes",
            deployment.table_warm_wru / (table_wru * per_code),
            f"{deployment.table_warm_wru:,.0f} WRU/s warm / {table_wru * per_code:.3f} WRU a code",
        ),
        Ceiling(
            "per-table quota",
            LIMITS["table_quota_wru"].value / (table_wru * per_code),
            f"{LIMITS['table_quota_wru'].value:,.0f} WRU/s / {table_wru * per_code:.3f} WRU a code",
        ),
    ]
    for index, units in sorted(batch.wru_by_resource.items()):
        if index != "table" and units > 0:
            ceilings.append(
                Ceiling(
                    f"{index} writes",
                    deployment.index_warm_wru / (units * per_code),
                    f"{deployment.index_warm_wru:,.0f} WRU/s warm / {units * per_code:.4f} WRU a code",
                )
            )
    for load in batch.shared_keys:
        ceilings.append(
            Ceiling(
                f"key {load.key} ({load.resource})",
                partition / load.wcu_per_batch * deployment.batch_codes,
                f"{partition:,.0f} WCU/s a partition / {load.wcu_per_batch:.2f} WCU a batch x {deployment.batch_codes}",
            )
        )
    binding = min(ceilings, key=lambda ceiling: ceiling.codes_per_second)
    rate = binding.codes_per_second
    start = (
        LATENCIES["api_request"].value
        + delivery
        + sum(latency_of(call) for call in job.start_calls)
        + job.start_cpu_seconds * cpu_scale
    )
    ramp = _ramp_loss(in_flight) if binding.name == "job lane" else 0.0
    assembly, parts = _assembly(batch, job, deployment, batches)
    seconds = start + codes / rate + ramp + batch_seconds + assembly
    result = Estimate(
        codes,
        seconds,
        0.0,
        binding,
        sorted(ceilings, key=lambda c: c.codes_per_second),
        batch_seconds,
        parts_seconds={"start": start, "batches": codes / rate, "ramp": ramp, "last batch": batch_seconds},
    )
    result.parts_seconds["assembly"] = assembly
    _cost(result, batch, job, deployment, batches, parts)
    fixed = start + ramp + batch_seconds + assembly
    result.warm_wru_for_target = codes / max(1.0, SECONDS_TARGET - fixed) * table_wru * per_code
    return result


def _assembly(batch: BatchProfile, job: JobOnce, deployment: Deployment, batches: int) -> tuple[float, int]:
    """Seconds to assemble the job's CSV after its last batch, and the parts it is uploaded in."""
    delivery = LATENCIES["esm_delivery"].value
    cpu_per_batch = job.assembly_cpu_seconds_per_batch / deployment.vcpu_share
    mb_per_second = LATENCIES["s3_upload_mb_per_second"].value
    if not deployment.parallel_assembly:
        # One function reads every batch CSV, READERS at once, and uploads 8 MiB parts as they fill.
        parts = math.ceil(batches * batch.csv_bytes / BEFORE_PART_BYTES) if batch.csv_bytes else 1
        upload = BEFORE_PART_BYTES / 1e6 / mb_per_second + latency_of("s3.UploadPart")
        seconds = (
            delivery
            + math.ceil(batches / deployment.readers) * latency_of("s3.GetObject")
            + parts * upload
            + 2 * latency_of("s3.CreateMultipartUpload")
            + cpu_per_batch * batches
        )
        return seconds, parts
    # The start opens the upload, records it and sends the parts' messages; the parts run at once (as many as
    # the lane runs), each reading its batches READERS at once, uploading and recording its part; the part that
    # records the last completes the upload and the job.
    parts = math.ceil(batches / deployment.batches_per_part)
    largest = min(batches, deployment.batches_per_part)
    start = (
        delivery
        + latency_of("s3.CreateMultipartUpload")
        + latency_of("dynamodb.UpdateItem")
        + math.ceil(parts / 10) * latency_of("sqs.SendMessageBatch")
    )
    part = (
        delivery
        + latency_of("dynamodb.GetItem")
        + math.ceil(largest / deployment.readers) * latency_of("s3.GetObject")
        + largest * cpu_per_batch
        + largest * batch.csv_bytes / 1e6 / mb_per_second
        + latency_of("s3.UploadPart")
        + latency_of("dynamodb.UpdateItem")
    )
    complete = latency_of("s3.CompleteMultipartUpload") + latency_of("dynamodb.UpdateItem")
    return start + math.ceil(parts / deployment.job_concurrency) * part + complete, parts


def _ramp_loss(in_flight: float) -> float:
    """Seconds lost while the event source scales from 5 concurrent batches to `in_flight` (5 more a second)."""
    start, step = LIMITS["esm_start_concurrency"].value, LIMITS["esm_scale_per_second"].value
    ramp = max(0.0, in_flight - start) / step
    return ramp * (1 - (start + in_flight) / 2 / in_flight) if ramp else 0.0


def _cost(
    result: Estimate, batch: BatchProfile, job: JobOnce, deployment: Deployment, batches: int, parts: int
) -> None:
    invocations = batches / max(1.0, batch.messages_per_invocation) + 2 + (parts if deployment.parallel_assembly else 0)
    api_requests = 1 + math.ceil(result.seconds / POLL_SECONDS)
    gb = deployment.memory_mb / 1024
    function_seconds = batches * result.batch_seconds + result.parts_seconds["start"] + result.parts_seconds["assembly"]
    sends = batches * sum(n for name, n in batch.calls.items() if name.startswith("sqs.Send"))
    puts = batches * batch.calls.get("s3.PutObject", 0) + parts + 2
    price = {name: fact.value for name, fact in PRICES.items()}
    result.costs = {
        "DynamoDB writes": (batches * batch.wru + job.wru) * price["dynamodb_wru"],
        "DynamoDB reads": (batches * batch.rru + job.rru) * price["dynamodb_rru"],
        "Lambda duration": (function_seconds * gb + api_requests * API_FUNCTION_SECONDS) * price["lambda_gb_second"],
        "Lambda requests": (invocations + api_requests) * price["lambda_request"],
        "SQS": (sends + 2 * invocations) * price["sqs_request"],
        "S3": puts * price["s3_put"] + (batches + 1) * price["s3_get"],
        "API Gateway": api_requests * price["api_request"],
    }
    result.outside_target = {"X-Ray (Tracing: Active)": (invocations + api_requests) * price["xray_trace"]}
    result.usd = sum(result.costs.values())


# ---------------------------------------------------------------------------------------- output
def report(batch: BatchProfile, job: JobOnce, scenarios: dict[str, Estimate]) -> str:
    lines = [
        "A steady batch of a job, measured on the local stack:",
        f"  {batch.wru:.1f} WRU ({', '.join(f'{r} {u:.1f}' for r, u in sorted(batch.wru_by_resource.items()))}),"
        f" {batch.rru:.1f} RRU, CPU {batch.cpu_seconds * 1000:.0f} ms here, CSV {batch.csv_bytes / 1024:.1f} KB,"
        f" {batch.messages_per_invocation:.2f} messages an invocation",
        f"  {len(batch.own_thread)} calls one after another: {', '.join(batch.own_thread)}",
        f"  beside them, {len(batch.beside)} threads; the longest makes"
        f" {max((len(calls) for calls in batch.beside), default=0)} calls",
        "  shared partition keys (WCU a batch): "
        + ", ".join(f"{load.key} ({load.resource}) {load.wcu_per_batch:.2f}" for load in batch.shared_keys[:6]),
        f"  once a job: {job.wru:.0f} WRU, {job.rru:.0f} RRU",
    ]
    for name, result in scenarios.items():
        lines += [
            "",
            f"{result.codes:,} codes on AWS, {name}: {result.seconds:.1f} s, ${result.usd:.3f}"
            f" (binding: {result.binding.name})",
            f"  a batch takes {result.batch_seconds * 1000:.0f} ms; "
            + ", ".join(f"{part} {value:.1f} s" for part, value in result.parts_seconds.items()),
        ]
        lines += [f"  {c.codes_per_second:>11,.0f} codes/s  {c.name}: {c.arithmetic}" for c in result.ceilings]
        lines += [f"  ${value:8.4f}  {item}" for item, value in result.costs.items()]
        lines += [f"  ${value:8.4f}  {item} (outside the target)" for item, value in result.outside_target.items()]
        lines.append(f"  table warm throughput for {SECONDS_TARGET} s: {result.warm_wru_for_target:,.0f} WRU/s")
    assumed = [f"{name} = {fact.value:g} ({fact.unit})" for name, fact in LATENCIES.items() if fact.assumed]
    lines += ["", "Assumed latencies (AWS documents none of these): " + "; ".join(assumed)]
    return "\n".join(lines)


def scenarios(batch: BatchProfile, job: JobOnce) -> dict[str, Estimate]:
    """As deployed; with the documented warm throughput (the headline); and, for comparison, that deployment
    before issue 12's changes (JobFunction 1,024 MB, JobConcurrency and window 20, one function assembling)."""
    warmed = Deployment.from_template(table_warm_wru=DOCUMENTED_WARM_WRU)
    return {
        "the template's defaults": estimate(batch, job, Deployment.from_template()),
        f"defaults + warm throughput {DOCUMENTED_WARM_WRU:,} WRU/s": estimate(batch, job, warmed),
        "before issue 12 (1,024 MB, window 20, assembled by one function), warm": estimate(
            batch, job, replace(warmed, **BEFORE)
        ),
    }


def results(batch: BatchProfile, job: JobOnce) -> dict[str, Any]:
    """What quick.json records: the headline figures and the details they come from."""
    computed = scenarios(batch, job)
    default, warmed, before = computed.values()
    return {
        "aws_million_codes_s": round(warmed.seconds, 1),
        "aws_million_codes_usd": round(warmed.usd, 3),
        "aws_million_codes_s_without_warm_throughput": round(default.seconds, 1),
        "aws_binding_ceiling": warmed.binding.name,
        "aws_million_codes_s_before": round(before.seconds, 1),
        "details": {
            "batch": asdict(batch),
            "job": asdict(job),
            "scenarios": {name: asdict(result) for name, result in computed.items()},
            "text": report(batch, job, computed),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.aws_model", description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=12_500, help="the traced job's size (> the window)")
    args = parser.parse_args(argv)
    batch, job = measure(trace_job(args.codes))
    print(report(batch, job, scenarios(batch, job)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
