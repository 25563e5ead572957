"""A million codes on the local stack: one job, timed phase by phase, its CSV checked.

`python -m bench.million [--quantity N]` starts the local stack (bench.stack), runs one bulk job, and prints
JSON: the time to COMPLETED, the time spent ASSEMBLING (the CSV of every batch's CSV), the codes per second,
and the CSV's rows and distinct codes (which must both equal the quantity). docs/benchmarks.md keeps the
figures of the last run.
"""

import argparse
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import requests

from bench.jobs import jobs_url
from bench.stack import LocalStackProcess

RESULTS = Path(__file__).resolve().parent / "results"

POLL_SECONDS = 0.5


def run(quantity: int) -> dict[str, Any]:
    stack = LocalStackProcess(log_path=RESULTS / "stack-million.log").start()
    try:
        headers = {"X-Auth-Token": stack.token}
        started = time.monotonic()
        answer = requests.post(jobs_url(stack), json={"quantity": quantity}, headers=headers, timeout=30)
        answer.raise_for_status()
        location = f"{stack.url}{answer.headers['Location']}"
        assembling_at: float | None = None
        while True:
            job = requests.get(location, headers=headers, timeout=30).json()["data"]
            if job["status"] == "ASSEMBLING" and assembling_at is None:
                assembling_at = time.monotonic()
            if job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                break
            time.sleep(POLL_SECONDS)
        finished = time.monotonic()
        codes: list[str] = []
        if job["status"] == "COMPLETED":
            text = requests.get(job["download_url"], timeout=600).text
            codes = [row["code"] for row in csv.DictReader(io.StringIO(text))]
        return {
            "quantity": quantity,
            "status": job["status"],
            "seconds": round(finished - started, 1),
            "codes_per_s": round(quantity / (finished - started), 1),
            "assembly_seconds": round(finished - assembling_at, 1) if assembling_at else None,
            "csv_rows": len(codes),
            "distinct_codes": len(set(codes)),
        }
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.million", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quantity", type=int, default=1_000_000)
    print(json.dumps(run(parser.parse_args(argv).quantity), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
