"""One bulk job through the whole local stack with the partition model on, and what the model saw.

    python -m couponmint_dev.local.partition_bench --codes 10000 [--scale 0.1] [--warm-throughput 40000]
    python -m couponmint_dev.local.partition_bench --codes 10000 --no-model   # the same job without the model

Starts the stack in memory (`start_stack` with the model, as `couponmint local run --partition-model` does,
failed batches redelivered after 1 s), starts a job of `--codes` codes into the demo store's BULK
promotion over HTTP (the job runs in the job lane: JobFunction fed by JobQueue, as the template declares),
waits for it to end (or `--timeout`), and prints one JSON document: the job's outcome and elapsed time, the
requests the model throttled (all, and on each index), the writes it could not read (unmodelled), the
hottest partition keys with the units charged to them, the read units, each operation's counters (the job's
claims are BatchExecuteStatement's statements) and the model's limits. `--out FILE` writes it to FILE.
"""

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from couponmint_dev.client import JobClient
from couponmint_dev.local.partition_model import (
    AWS_ON_DEMAND_START_WRU,
    DEFAULT_SCALE,
    ModelLimits,
    hottest_keys,
    throttled_requests,
)
from couponmint_dev.local.processes import free_port
from couponmint_dev.local.stack import start_stack

FINISHED = ("COMPLETED", "FAILED", "CANCELLED")


def run_job(codes: int, limits: ModelLimits | None, timeout: float) -> dict[str, Any]:
    stack = start_stack(port=free_port(), data_dir=None, retry_visibility_seconds=1, partition_model=limits)
    try:
        seed = stack.seed
        client = JobClient(stack.url, seed.store_hash, seed.token)
        if stack.partition_model is not None:
            stack.partition_model.reset()  # only the job's own writes
        started = time.monotonic()
        job = client.start(seed.bulk_promotion_id, {"quantity": codes})
        while job["status"] not in FINISHED and time.monotonic() - started < timeout:
            time.sleep(0.5)
            job = client.get(seed.bulk_promotion_id, job["id"])
        elapsed = time.monotonic() - started
        outcome = {
            "codes": codes,
            "status": job["status"],
            "generated": job["generated"],
            "failed": job["failed"],
            "elapsed_seconds": round(elapsed, 1),
            "timed_out": job["status"] not in FINISHED,
        }
        if stack.partition_model is None:
            return outcome
        stats = stack.partition_model.stats(top=10)
        indexes = sorted({r["index"] for r in stats["resources"] if r["index"]})
        return {
            **outcome,
            "throttled_requests": throttled_requests(stats),
            "throttled_requests_on_table": throttled_requests(stats, index=None),
            "throttled_requests_by_index": {index: throttled_requests(stats, index=index) for index in indexes},
            # Writes the model could not read (forwarded uncharged): 0 unless the code writes something new.
            "unmodelled": stats["unmodelled"],
            "hottest_keys": [vars(key) for key in hottest_keys(stats, n=5)],
            "resources": stats["resources"],
            "reads": stats["reads"],
            "operations": stats["operations"],
            "limits": stats["limits"],
        }
    finally:
        stack.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--warm-throughput", type=float, default=AWS_ON_DEMAND_START_WRU, metavar="WRU")
    parser.add_argument("--timeout", type=float, default=600, metavar="SECONDS")
    parser.add_argument("--no-model", action="store_true", help="run the job without the model (to compare)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--verbose", action="store_true", help="keep the functions' logs (on stdout)")
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Every answer that records no metric makes Powertools warn (as in `couponmint local run`): noise here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    limits = None if args.no_model else ModelLimits(scale=args.scale, table_wru=args.warm_throughput)
    with contextlib.ExitStack() as quiet:
        if not args.verbose:  # the functions log to stdout (Powertools); the result is printed alone
            quiet.enter_context(contextlib.redirect_stdout(quiet.enter_context(open(os.devnull, "w"))))
        result = run_job(args.codes, limits, args.timeout)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
