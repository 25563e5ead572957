"""Bulk-job benchmark: `POST .../codegen/jobs {"quantity": N}` until COMPLETED, against the floor's rate.

The API is issue 5's (couponmint's EXT part of the contract): 202 with `data.id` and a `Location` header,
`GET .../codegen/jobs/{id}` for progress (`status` QUEUED → RUNNING → COMPLETED | FAILED | CANCELLED,
`generated`), and a `download_url` to the CSV once COMPLETED. Until it exists the endpoint answers 404 and
this benchmark is skipped, saying so.

A job's rate is its quantity over the time from the POST to the first poll that sees COMPLETED (polls every
0.5 s, so up to half a second is added). Its floor is the floor's aggregate write rate at the generator's
concurrency (10 clients each claiming 250-code batches, measured by the request benchmark in the same run).
The peak resident memory of every process is sampled during each job, to show whether it stays flat.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from bench.stack import BULK_PROMOTION_ID, DEMO_STORE, LocalStackProcess, RssSampler

JOB_FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED"}
POLL_SECONDS = 0.5
# A million codes at the floor's rate here (~2,500 codes/s) take about 7 minutes; leave room.
JOB_TIMEOUT_SECONDS = 1800


class JobsUnavailable(Exception):
    """The stack has no bulk-job endpoint yet (it answered 404)."""


@dataclass(frozen=True)
class JobRun:
    quantity: int
    status: str
    seconds: float
    codes_per_s: float
    csv_rows: int | None
    peak_rss_mb: dict[str, float] = field(default_factory=dict)


def jobs_url(stack: LocalStackProcess) -> str:
    return f"{stack.url}/stores/{DEMO_STORE}/v3/promotions/{BULK_PROMOTION_ID}/codegen/jobs"


def run_job(stack: LocalStackProcess, quantity: int, log: Callable[[str], None] = print) -> JobRun:
    """Create one job of `quantity` codes, wait for it to finish, count its CSV's rows."""
    session = requests.Session()
    session.headers.update({"X-Auth-Token": stack.token, "Content-Type": "application/json"})
    with RssSampler({"bench": os.getpid(), **stack.pids}) as memory:
        started = time.perf_counter()
        created = session.post(jobs_url(stack), json={"quantity": quantity}, timeout=60)
        if created.status_code == 404:
            raise JobsUnavailable(f"POST {jobs_url(stack)} answered 404: {created.text[:200]}")
        if created.status_code != 202:
            raise RuntimeError(f"creating a job answered {created.status_code}: {created.text[:300]}")
        job = created.json()["data"]
        location = created.headers.get("Location") or f"{jobs_url(stack)}/{job['id']}"
        if location.startswith("/"):
            location = stack.url + location
        while job["status"] not in JOB_FINAL_STATES:
            if time.perf_counter() - started > JOB_TIMEOUT_SECONDS:
                raise RuntimeError(f"job {job['id']} of {quantity} codes not finished in {JOB_TIMEOUT_SECONDS} s")
            time.sleep(POLL_SECONDS)
            answer = session.get(location, timeout=60)
            answer.raise_for_status()
            job = answer.json()["data"]
        seconds = time.perf_counter() - started
    csv_rows = _csv_rows(job["download_url"]) if job["status"] == "COMPLETED" and job.get("download_url") else None
    run = JobRun(quantity, job["status"], seconds, quantity / seconds, csv_rows, memory.peak_mb)
    log(f"  job of {quantity:,} codes: {job['status']} in {seconds:.1f} s, {run.codes_per_s:,.0f} codes/s")
    return run


def _csv_rows(download_url: str) -> int:
    """Data rows of the job's CSV (streamed, not held in memory)."""
    with requests.get(download_url, stream=True, timeout=300) as answer:
        answer.raise_for_status()
        lines = sum(chunk.count(b"\n") for chunk in answer.iter_content(1 << 20))
    return lines - 1  # the header


def jobs_available(stack: LocalStackProcess) -> str | None:
    """None when the job endpoint exists, else why the job benchmark is skipped."""
    answer = requests.get(jobs_url(stack), headers={"X-Auth-Token": stack.token}, timeout=30)
    if answer.status_code == 404:
        path = jobs_url(stack).removeprefix(stack.url)
        return f"GET {path} answered 404: the bulk-job API (issue 5) is not there yet"
    return None


def run_jobs(stack: LocalStackProcess, quantities: tuple[int, ...], log: Callable[[str], None] = print) -> list[JobRun]:
    return [run_job(stack, quantity, log) for quantity in quantities]
