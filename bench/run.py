"""The benchmark runner: kernel, request and bulk-job benchmarks, and the AWS model, in one run.

`python -m bench --quick` (make bench-quick, about 3 minutes on an idle machine) writes bench/results/quick.json;
`python -m bench` (make bench) writes bench/results/full.json, the plots and docs/benchmarks.md.
Every figure is measured in the run that writes it; ratios are to baselines measured in the same run.
"""

import argparse
import json
import os
import resource
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import aws_model
from bench.aws_profile import measure
from bench.formats import FormatsSettings, run_formats
from bench.job_trace import trace_job
from bench.jobs import JobRun, JobsUnavailable, jobs_available, run_jobs
from bench.kernel import KernelResult, KernelSettings, run_kernel
from bench.machine import describe_machine
from bench.report import print_table, write_markdown, write_plots
from bench.request import LevelResult, RequestSettings, run_requests
from bench.stack import LocalStackProcess

RESULTS = Path(__file__).resolve().parent / "results"
HEADLINE_CONCURRENCY = (1, 10)
GENERATOR_CONCURRENCY = 10


@dataclass(frozen=True)
class Target:
    key: str
    at_least: float | None = None
    at_most: float | None = None

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        if self.at_least is not None:
            return value >= self.at_least
        assert self.at_most is not None
        return value <= self.at_most

    @property
    def text(self) -> str:
        return f"≥ {self.at_least:,.10g}" if self.at_least is not None else f"≤ {self.at_most:,.10g}"


TARGETS = (
    Target("kernel_codes_per_s", at_least=2_000_000),
    Target("kernel_vs_naive", at_least=50),
    Target("kernel_vs_nanoid", at_least=10),
    Target("request_vs_floor", at_most=1.5),
    Target("job_vs_floor", at_least=0.7),
    # A million codes on AWS, computed from a traced job (bench/aws_model.py; issue 12).
    Target("aws_million_codes_s", at_most=60),
    Target("aws_million_codes_usd", at_most=1.30),
)


@dataclass(frozen=True)
class Plan:
    name: str
    kernel: KernelSettings
    request: RequestSettings
    job_quantities: tuple[int, ...]
    # The job traced for the AWS model: more batches than a job's window (20), so that some release the next.
    aws_trace_codes: int = 12_500


QUICK = Plan(
    name="quick",
    kernel=KernelSettings(repeats=5),
    request=RequestSettings(
        concurrency_levels=(1, 10), rounds=7, requests_per_client={1: 8, 10: 2}, warmup_requests_per_client=3
    ),
    job_quantities=(10_000,),
)
FULL = Plan(
    name="full",
    kernel=KernelSettings(repeats=9),
    request=RequestSettings(
        concurrency_levels=(1, 2, 4, 6, 8, 10),
        rounds=7,
        requests_per_client={1: 10, 2: 6, 4: 4, 6: 3, 8: 3, 10: 3},
        warmup_requests_per_client=3,
    ),
    job_quantities=(10_000, 100_000, 1_000_000),
)


def log(line: str) -> None:
    print(line, flush=True)


def _headline_request(levels: list[LevelResult]) -> tuple[float, dict[str, float], dict[str, float]]:
    """The worst p50 ratio of the headline concurrencies, and p50 / p99 per concurrency, in ms."""
    summaries = {level.concurrency: level.summary() for level in levels}
    worst = max(summaries[c]["request_vs_floor"]["median"] for c in HEADLINE_CONCURRENCY)  # type: ignore[index]
    p50 = {str(c): s["request_p50_ms"] for c, s in summaries.items()}
    p99 = {str(c): s["request_p99_ms"] for c, s in summaries.items()}
    return worst, p50, p99  # type: ignore[return-value]


def _job_figures(jobs: list[JobRun], levels: list[LevelResult]) -> tuple[float | None, float | None]:
    """Codes/s of the largest completed job and its ratio to the floor at the generator's concurrency."""
    completed = [job for job in jobs if job.status == "COMPLETED"]
    if not completed:
        return None, None
    floor_level = next(level for level in levels if level.concurrency == GENERATOR_CONCURRENCY)
    floor_rate = floor_level.summary()["floor_codes_per_s"]["median"]  # type: ignore[index]
    worst = min(completed, key=lambda job: job.codes_per_s)
    return round(worst.codes_per_s, 1), round(worst.codes_per_s / floor_rate, 3)


def run(plan: Plan) -> dict[str, Any]:
    started = time.monotonic()
    machine = describe_machine()
    log(f"couponmint benchmarks ({plan.name}) on {machine['cpu']}, {machine['cores']} cores, {machine['memory']}")
    log("kernel: make_codes vs a secrets.choice loop vs nanoid")
    kernel: KernelResult = run_kernel(plan.kernel, log)
    log("formats: the formatted kernel per charset, plain and with check character + word filter")
    formats = run_formats(FormatsSettings(repeats=plan.kernel.repeats), log)

    log("local stack: starting")
    stack = LocalStackProcess(log_path=RESULTS / f"stack-{plan.name}.log").start()
    jobs: list[JobRun] = []
    job_skipped: str | None = None
    try:
        log("request: 250-code codegen vs the floor (its conditional writes, straight to DynamoDB Local)")
        levels = run_requests(stack, plan.request, log)
        job_skipped = jobs_available(stack)
        if job_skipped is None:
            log("jobs: bulk jobs vs the floor's write rate at the generator's concurrency")
            try:
                jobs = run_jobs(stack, plan.job_quantities, log)
            except JobsUnavailable as error:
                job_skipped = str(error)
        if job_skipped:
            log(f"jobs: skipped: {job_skipped}")
        peak_rss = {"bench": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        peak_rss |= stack.peak_rss_mb()
    finally:
        stack.stop()

    log("aws model: a job traced behind the partition model (counting, never throttling), then a million codes")
    aws: dict[str, Any] = {}
    try:
        batch, job = measure(trace_job(plan.aws_trace_codes, log))
        aws = aws_model.results(batch, job)
    except (RuntimeError, ValueError, OSError) as error:
        log(f"aws model: skipped: {error}")
        aws = {"aws_skipped": str(error)}

    request_vs_floor, p50, p99 = _headline_request(levels)
    job_codes_per_s, job_vs_floor = _job_figures(jobs, levels)
    results: dict[str, Any] = {
        "mode": plan.name,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": machine | {"load_average_at_end": " ".join(f"{load:.2f}" for load in os.getloadavg())},
        "kernel_codes_per_s": round(kernel.kernel_codes_per_s.median),
        "kernel_vs_naive": round(kernel.kernel_vs_naive.median, 2),
        "kernel_vs_nanoid": round(kernel.kernel_vs_nanoid.median, 2),
        "request_vs_floor": round(request_vs_floor, 3),
        "request_p50_ms": p50,
        "request_p99_ms": p99,
        "job_vs_floor": job_vs_floor,
        "job_codes_per_s": job_codes_per_s,
        "job_skipped": job_skipped,
        "formats_codes_per_s": {
            name: {"plain": figures["plain_codes_per_s"]["median"], "checked": figures["checked_codes_per_s"]["median"]}
            for name, figures in formats["charsets"].items()
        },
        "formats_words_in_checked": sum(f["words_in_checked"] for f in formats["charsets"].values()),
        "peak_rss_mb": peak_rss,
        "aws_million_codes_s": aws.get("aws_million_codes_s"),
        "aws_million_codes_usd": aws.get("aws_million_codes_usd"),
        "aws_million_codes_s_without_warm_throughput": aws.get("aws_million_codes_s_without_warm_throughput"),
        "aws_million_codes_s_before": aws.get("aws_million_codes_s_before"),
        "aws_binding_ceiling": aws.get("aws_binding_ceiling"),
        "aws_skipped": aws.get("aws_skipped"),
        "details": {
            "kernel": {
                "settings": asdict(kernel.settings),
                "kernel_codes_per_s": kernel.kernel_codes_per_s.as_dict(0),
                "naive_codes_per_s": kernel.naive_codes_per_s.as_dict(0),
                "nanoid_codes_per_s": kernel.nanoid_codes_per_s.as_dict(0),
                "kernel_vs_naive": kernel.kernel_vs_naive.as_dict(2),
                "kernel_vs_nanoid": kernel.kernel_vs_nanoid.as_dict(2),
            },
            "request": {
                "settings": asdict(plan.request),
                "levels": [level.summary() for level in levels],
            },
            "jobs": [asdict(job) for job in jobs],
            "formats": formats,
            "aws_model": aws.get("details"),
        },
    }
    results["targets"] = {
        target.key: {"target": target.text, "value": results[target.key], "met": target.met(results[target.key])}
        for target in TARGETS
    }
    results["targets"] |= {f"formats_{key}": target for key, target in formats["targets"].items()}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short run (under 3 minutes): quick.json only")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a measured target is missed")
    parser.add_argument(
        "--render", action="store_true", help="measure nothing: rewrite docs/benchmarks.md and plots from full.json"
    )
    args = parser.parse_args(argv)
    if args.render:
        results = json.loads((RESULTS / "full.json").read_text())
        for path in [*write_plots(results), write_markdown(results)]:
            log(f"wrote {path}")
        return 0
    plan = QUICK if args.quick else FULL
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = run(plan)
    output = RESULTS / f"{plan.name}.json"
    output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    log(f"wrote {output.relative_to(Path.cwd()) if output.is_relative_to(Path.cwd()) else output}")
    if plan is FULL:
        for path in [*write_plots(results), write_markdown(results)]:
            log(f"wrote {path}")
    missed = [key for key, target in results["targets"].items() if target["met"] is False]
    return 1 if args.strict and missed else 0
