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
- **Request** (`bench/request.py`): the local stack runs as a child process exactly as `couponmint local run
  --in-memory` runs it (DynamoDB Local and moto's server are its children). A client makes
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
- Profiles: `python -m bench.profile` (py-spy on the stack process, flamegraphs and summaries in
  bench/results/), `python -m bench.what_if compare --fix ...` (the request benchmark with a proposed fix
  patched into the stack in memory, next to the stack as it is).
"""

FINDINGS = """\
## What the profiles found

Measured with `python -m bench.profile` (py-spy, 200 Hz), the `trace` patch of `bench/what_if.py` (every AWS
call of the stack with its start and end) and `python -m bench.what_if compare`, on the same machine while
other test suites were running; the what-if figures are medians of 5 rounds and noisy (±0.3).

**The kernel** spent its time creating a million `str` objects one slice and one f-string at a time, and a
dict to de-duplicate them. It now lays the codes out as lines of one buffer (random columns poured in with
strided slice assignments), splits it once, and checks distinctness with one `set`. Side by side in one
process (the old kernel from commit 23dbe0f, interleaved, 5 calls each, the machine busy): 1.42 M → 2.43 M
codes/s median (up to 3.5 M on a quiet machine).
What is left is what a list of a million distinct strings costs in CPython: creating the strings (~50 ms),
hashing them into a set (~100-150 ms), and `os.urandom` (~45 ms).

**The floor is mostly boto3.** A 250-code claim costs ~55 ms of this process's CPU at 1 client (in the
stack's profile, botocore's parameter validation and boto3's TypeSerializer alone are 41 % of all samples,
more than half of `claim_codes`) and 60-150 ms of DynamoDB Local's, whose transactions do not run in parallel:
sending the three transactions of a claim at once saved nothing locally.

**A request at 1 client**, cut into phases (`python -m bench.what_if phases`: 15 requests traced, the floor
measured between them; medians in ms):

| phase | as it is | light polls | what |
|---|---:|---:|---|
| API prelude | 26 | 33 | token, promotion, code-count GetItems in turn; PutItem of the batch; SendMessage |
| queue | 0 | 0 | the poller hands the message to the generator within a millisecond |
| generator prelude | 18 | 22 | GetItem of the batch; UpdateItems of the id counter and the write-ahead list |
| claims | 212 | 204 | the floor's work, slower here: it shares the process and DynamoDB Local with the polls |
| generator post | 24 | 25 | S3 PutObject of the CSV, TransactWriteItems marking DONE and counting |
| detection | 41 | 14 | DONE to the API's poll that sees it (backoff 20 → 30 → 45 → 68 → 101 ms...) |
| request at the client | 325 | 340 | (other test suites were running: compare phases, not totals) |
| floor, measured in between | 159 | 183 | |

**At 10 clients** the stack process holds the GIL about half the time; 71 % of that is `claim_codes` (the
floor's own work), 10 % the polls' full-record reads, 6 % Powertools' batch handling around the generator,
3 % each the CSV and the write-ahead update. Per request the stack uses ~97 ms of CPU and DynamoDB Local
~85 ms, against the floor's ~60 ms of DynamoDB Local per claim: the extra single-item calls and polls queue up
in DynamoDB Local behind everyone's transactions.

What the proposed fixes gave (`python -m bench.what_if compare`: the stack as it is, then patched, 5 rounds
each; request ÷ floor p50, median of the rounds; results in bench/results/what-if-*.json):

| fix patched in | 1 client: as is → fixed | 10 clients: as is → fixed |
|---|---:|---:|
| light polls every 10 ms | 2.40 → 1.91 | 1.67 → 1.74 |
| light polls every 25 ms + a batch's 3 claim transactions at once | 2.64 → 1.88 | 1.79 → 1.64 |
| one message per generator invocation (BatchSize 1) | 2.26 → 2.08 | 1.63 → 1.76 |

### Recommended fixes (files the benchmark does not own)

1. `service/codegen.py` `wait_for_batch`: poll the status only (`ProjectionExpression="#s"`, ~100 bytes
   instead of 4.6 KB parsed into 250 codes each time) at a fixed 10-20 ms, and read the whole record once when
   it is finished. It removes the 37 ms detection gap and the polls' cost in the stack and DynamoDB Local. On
   AWS the polls still cost RRUs on the whole item size (2 RRU each, strongly consistent): at 20 ms that is
   ~30 polls x 2 RRU per 250-code request, $0.03 per million codes.
2. `service/codegen.py` / `adapters/table.py`: read the token, the promotion and the store's code count in one
   `BatchGetItem` (all three keys are known from the request): -2 round trips (~8 ms here).
3. `service/generation.py`: write the CSV export to S3 while the claims run (the candidates are on the batch
   record already; rewrite it only if a collision replaced codes): -1 round trip off the critical path
   (~8-15 ms here).
4. `service/generation.py`: skip the generator's first GetItem by making the write-ahead update conditional
   (`status = PENDING`, `ReturnValues=ALL_NEW`) and reading the batch only when that condition fails (a
   redelivery) — the message would need to carry the batch's format. -1 round trip (~4 ms).
5. `adapters/table.py` `claim_codes`: on AWS, send a batch's transactions of 100 at the same time (three
   threads): claiming takes one transaction's time instead of three. It saved nothing against DynamoDB Local,
   which runs transactions one at a time, so it does not show in the local ratio.
6. Not recommended: BatchSize 1 for the generator's queue (measured worse at 10 clients).

Fixes 1-4 take about 60 ms off a request at 1 client (detection -27, API prelude -10, S3 export -10, generator
prelude -5 to -10, and some of the claims' slowdown): from ~2.3x to an estimated ~1.6x of the floor here. The
rest is the design's own round trips (record the batch, queue it, reserve ids, write ahead, mark DONE) at
~5 ms each on DynamoDB Local and moto, against a floor of only three calls; getting under 1.5x at 1 client
locally also needs the generator to create the batch record itself (the API would record it only when it
answers 202) or the claims in parallel against a store that runs them in parallel (AWS). At 10 clients no
single fix moved the ratio beyond the noise (1.5-1.8x): there the gap is the request's extra work in
DynamoDB Local (~85-95 ms of its CPU per request against ~70-75 ms per floor claim) and in the stack process,
on two shared cores; fixes 1-4 each remove some of that work.
`local/poller.py` was checked and is not a cause: a message reaches the generator within a millisecond of
SendMessage, so it was left alone.
"""


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
        f"![memory against quantity](img/{JOB_MEMORY_PLOT.name})\n"
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
{FINDINGS}"""
