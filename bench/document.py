"""docs/benchmarks.md, written from a full run's results (make bench). Edit this file, not the output."""

from typing import Any

from bench.report import (
    CPU_HEADER,
    HEADLINE_HEADER,
    JOB_MEMORY_PLOT,
    JOB_RATE_PLOT,
    LATENCY_HEADER,
    LATENCY_PLOT,
    PROCESSES,
    cpu_rows,
    headline_rows,
    latency_rows,
    markdown_table,
)

METHOD = """\
## Method

Every figure is a ratio to a baseline measured in the same run, because these machines are shared and noisy:
other work (test suites) runs on the same two cores, so absolute numbers move by ±30 % from one minute to the
next while the ratios move much less. Repeats are summarised as median, min and max.

- **Kernel** (`bench/kernel.py`): `make_codes(A-Z0-9, 16, 1,000,000)` in this process, one call per repeat,
  timed from the call to the returned list (freeing the list is not timed), after one untimed warm-up call
  of each contender. In the same repeat, right after: a naive loop of
  `''.join(secrets.choice(alphabet) for _ in range(16))` (50,000 codes) and `nanoid.generate(alphabet, 16)`
  (200,000 codes, nanoid 2.0.0 from PyPI). Their rates do not depend on how many they make, and neither
  checks that its codes are distinct, which favours them. Ratios are taken per repeat.
- **Request** (`bench/request.py`): the local stack runs as a child process as `couponmint local run
  --in-memory --iam off` runs it (DynamoDB Local and moto's server are its children): without the local IAM
  check, which holds every AWS call against the template's policies inside the stack's process, where Lambda
  pays nothing for IAM (AWS evaluates it on its side); `bench/stack.py` turns it on only when a benchmark asks.
  A client makes
  `POST /stores/demo/v3/promotions/1/codegen {"batch_size": 250}` over a keep-alive HTTP connection and the
  latency is the time to the 201 carrying 250 codes. N clients start together and each makes its requests one
  after another.
- **Floor** (same file): the conditional writes those 250 codes need and nothing else — the generator's own
  adapter, `CouponTable.claim_codes` (3 x TransactWriteItems of ≤ 100 Puts with `attribute_not_exists(pk) OR
  batch_id = :batch`, the same item shape), with fresh codes, from this process straight to the stack's
  DynamoDB Local, with the same boto3 settings as the stack's adapters. Building the codes is not timed.
- Floor and request rounds alternate at each concurrency (floor, request, floor, request, …) after an
  unmeasured warm-up (cold starts of the handler copies, the JVM's JIT); `request ÷ floor` is the ratio of
  the two p50s of a round, summarised over the rounds. p50 and p99 are nearest-rank over every sample of the
  level: with fewer than 100 samples, p99 is the slowest request.
- **CPU per call**: user + system CPU of every process (psutil) over each round, divided by the calls made —
  where the time goes, and what the floor itself costs.
- **Memory**: peak RSS (VmHWM) of each process over the whole run: this benchmark process (which holds the
  kernel's million codes), the stack, DynamoDB Local (a JVM, `-Xmx1g`, serial GC) and moto.
- **Jobs** (`bench/jobs.py`): `POST .../codegen/jobs {"quantity": N}` polled to COMPLETED, against the floor's
  aggregate rate with 10 writers (the generator's concurrency); peak RSS sampled during each job.
- **AWS model** (`bench/aws_model.py`): a job of 12,500 codes (50 batches, more than a job's window of 40) on a
  second stack, traced call by call (`bench/trace.py`) behind the partition model at a scale where it only
  counts; a steady batch's calls, CPU and units, and what a job costs once, are turned into a million codes'
  time and cost on AWS (scaling.md).
- Profiles: `python -m bench.profile` (py-spy on the stack process, flamegraphs and summaries in
  bench/results/), `python -m bench.trace` (every AWS call and garbage-collector pause of the stack, timed:
  calls per request and the timeline of the median request).
"""

FINDINGS = """\
## What the profiles found, and what changed

**The kernel** spent its time creating a million `str` objects one slice and one f-string at a time, and a
dict to de-duplicate them. It now lays the codes out as lines of one buffer (random columns poured in with
strided slice assignments), splits it once, and checks distinctness with one `set`: 1.42 M → 2.4-3.5 M
codes/s. What is left is what a list of a million distinct strings costs in CPython: creating the strings
(~50 ms), hashing them into a set (~100-150 ms), and `os.urandom` (~45 ms).

**The request at 1 client** was 2.24x its floor (p50 282 ms against 130 ms). Traced with `python -m
bench.trace` and profiled with `python -m bench.profile`, it paid for four things the floor does not:

1. **Nagle's algorithm on the local API's kept-alive connections**: the answer's body waited for the client's
   delayed ACK of its headers, ~40 ms on every answer (found as the gap between the client's time and the
   stack's own log of the request). Fix: `disable_nagle_algorithm` (TCP_NODELAY) on the local server.
2. **Full garbage collections** of the stack process's large heap (every function's handler copies live in
   one process): ~100 ms, one request in 5-10 (found with `gc.callbacks` in the trace). Fix: `gc.freeze()`
   once the stack has started.
3. **Round trips the floor does not make**: the API's PutItem of the batch, the generator's GetItem, id
   counter, write-ahead UpdateItem, S3 PutObject and DONE transaction, status polls every 15-100 ms and a
   last full read: 17 DynamoDB calls a request, each ~3 ms of DynamoDB Local's CPU, ~60 ms in all.
4. **boto3's TypeSerializer and botocore's parameter validation** of the 250 claim items: 31 % of the stack's
   py-spy samples, ~30 ms of CPU a request. Fix: claim items written in DynamoDB's wire form, sent on a plain
   client without client-side validation (DynamoDB validates them anyway).

The round trips, now: the API sends the batch's description in its message instead of writing it; the
generator records the batch (its write-ahead list of candidates) in the transaction that claims its first 99
codes, and claims a request's last codes in the transaction that marks it DONE and counts them (so a request
of 250 is three transactions, as the floor is; a job's batch completes in a small transaction of its own,
because all of a job's batches update the job's item); the CSV export is written beside the claims; the
promotion and the store's code count are one BatchGetItem, read while the concurrency slot is taken; a known
token is cached for 10 s; the API polls with full reads at a time learned from earlier batches of the same
size (`logic/polling.py`), so one poll usually finds the batch DONE. Per request: the 17 DynamoDB calls are
now 10. The crash-at-every-step and collision tests cover the new transaction layout.

Measured step by step (`request ÷ floor`, 1 client, 5 rounds of 8 requests; the rounds spread ±0.2):
hand-serialized claims 1.86 → 1.97-2.12 (stack CPU 107 → 80-93 ms a request, the ratio within the noise);
generator records the batch, CSV beside the claims 1.88; BatchGetItem and learned polls 1.91; `gc.freeze()`
1.70; DONE in the last claim transaction 1.89 (a slow-floor run); TCP_NODELAY 1.41 and 1.38 (10 clients:
1.08); token cache and check beside the slot 1.39-1.47.

What the floor itself costs: three TransactWriteItems of ~100 Puts each, ~35-50 ms of this process's CPU
(botocore still serializes each item against the service model: ~60 % of it) and ~95-185 ms of DynamoDB
Local's CPU per claim (it varies from run to run), which runs transactions one at a time — so sending a
batch's transactions at once saves nothing locally (on AWS it would: see scaling.md). What a request still
adds: the quota and concurrency-slot writes, SendMessage and the queue hop, the id counter, one or two polls
and the slot's release, ~10 calls at ~3-9 ms each on DynamoDB Local and moto, on the same two cores as the
floor's work. """


def _machine_table(results: dict[str, Any]) -> str:
    machine = results["machine"]
    rows = [
        ["processor", str(machine["cpu"])],
        ["cores (nproc)", str(machine["cores"])],
        ["memory (free -h)", str(machine["memory"])],
        ["Python", str(machine["python"])],
        ["OS", str(machine["os"])],
        ["load average at start / end", f"{machine['load_average_at_start']} / {machine['load_average_at_end']}"],
    ]
    return markdown_table(["", ""], rows, right_from=2)


def _kernel_table(results: dict[str, Any]) -> str:
    kernel = results["details"]["kernel"]
    rows = [
        [name, *(f"{kernel[key][stat]:,.0f}" for stat in ("median", "min", "max"))]
        for name, key in (
            ("make_codes (1,000,000 codes a call)", "kernel_codes_per_s"),
            ("naive secrets.choice loop", "naive_codes_per_s"),
            ("nanoid 2.0.0", "nanoid_codes_per_s"),
        )
    ]
    return markdown_table(["codes/s", "median", "min", "max"], rows)


def _jobs_section(results: dict[str, Any]) -> str:
    if results["job_skipped"]:
        return f"## Bulk jobs\n\nSkipped in this run: {results['job_skipped']}.\n"
    rows = [
        [
            f"{job['quantity']:,}",
            job["status"],
            f"{job['seconds']:,.1f}",
            f"{job['codes_per_s']:,.0f}",
            str(job["csv_rows"]),
            *(f"{job['peak_rss_mb'].get(name, 0):,.0f}" for name in PROCESSES),
        ]
        for job in results["details"]["jobs"]
    ]
    header = ["codes", "status", "seconds", "codes/s", "CSV rows", *(f"{name} MB" for name in PROCESSES)]
    return (
        "## Bulk jobs\n\n"
        f"job ÷ floor (the slowest job against the floor's rate with 10 writers): **{results['job_vs_floor']}**\n\n"
        f"{markdown_table(header, rows)}\n\n"
        f"![job throughput against quantity](img/{JOB_RATE_PLOT.name})\n"
        f"![memory against quantity](img/{JOB_MEMORY_PLOT.name})\n\n"
        "Memory against quantity: the processes that run couponmint stay flat — the stack (API, generator,\n"
        "poller, scheduler) and this process, which polls the job and downloads its CSV as a stream (its peak is\n"
        "the kernel benchmark's million codes, earlier in the run). DynamoDB Local and moto grow because they are\n"
        "the storage: DynamoDB Local holds every code item and its index entry in memory (`-inMemory`), moto holds\n"
        "every S3 object (a job's 250-code batch CSVs and the assembled CSV, 54 MB for a million codes). On AWS\n"
        "that is DynamoDB and S3, billed as storage (scaling.md), not any process's memory. The CSV assembly reads\n"
        "and uploads 8 MiB parts, so the generator's memory does not grow with the job either.\n"
    )


def _aws_section(results: dict[str, Any]) -> str:
    aws = results["details"].get("aws_model")
    if not aws:
        reason = results.get("aws_skipped") or "this run predates it"
        return f"## A million codes on AWS (the model)\n\nNot in this run: {reason}.\n"
    return (
        "## A million codes on AWS (the model)\n\n"
        "`bench/aws_model.py` computes it from a job traced in this run (`bench/job_trace.py`: the stack behind the\n"
        "partition model, which only counts), the template's parameters and AWS's documented limits and prices;\n"
        "[scaling.md](scaling.md) explains every line. With the template's defaults plus the documented warm\n"
        f"throughput: **{results['aws_million_codes_s']} s** and **${results['aws_million_codes_usd']}** (targets\n"
        f"≤ 60 s, ≤ $1.30); binding: {results['aws_binding_ceiling']}.\n\n"
        f"```\n{aws['text']}\n```\n"
    )


def render_benchmarks(results: dict[str, Any]) -> str:
    memory = results["peak_rss_mb"]
    memory_table = markdown_table(
        ["process", "peak RSS MB"], [[name, f"{memory.get(name, 0):,.0f}"] for name in PROCESSES]
    )
    return f"""\
# Benchmarks

<!-- Written by `make bench` (bench/document.py) from bench/results/full.json; edit the generator, not this. -->

Run of {results["generated_at"]} ({results["mode"]}, {results["duration_s"]:.0f} s). `make bench` reruns
everything and rewrites this page and its plots; `make bench-quick` (under 3 minutes) writes
`bench/results/quick.json` only. The cost and the limits on AWS are in [scaling.md](scaling.md).

## Results

{markdown_table(HEADLINE_HEADER, headline_rows(results))}

## Machine

{_machine_table(results)}

{METHOD}
## Kernel

{_kernel_table(results)}

## Request against its floor

{markdown_table(LATENCY_HEADER, latency_rows(results))}

![latency against concurrency](img/{LATENCY_PLOT.name})

CPU per call, in ms, of each process (a request: everything it caused; the floor: one 250-code claim):

{markdown_table(CPU_HEADER, cpu_rows(results), right_from=2)}

What the floor itself costs: its CPU row — this process's boto3 work to build and send the three
transactions, and DynamoDB Local's to run them. The request's row adds the API, the queue, the generator's
other steps and the polls; DynamoDB Local's share of it is the part that queues behind other requests.

## Memory

Peak RSS over the whole run:

{memory_table}

{_jobs_section(results)}
{_aws_section(results)}
{FINDINGS}"""
