"""Where the local stack's time goes during codegen requests: py-spy on the stack process.

`python -m bench.profile [--concurrency 1 10] [--requests 40]` starts the stack, warms it up, then for each
concurrency samples the stack process with py-spy while clients make 250-code requests, and writes to
bench/results/:

- `profile-stack-c{N}.txt`: the collapsed stacks (py-spy's raw format; flamegraph.pl and speedscope read it);
- `profile-stack-c{N}.svg`: the same as a flamegraph, from a second, identical run;
- `profile-stack-c{N}-summary.md`: the functions with the largest inclusive share of samples.

`--gil` keeps only samples that hold the GIL (CPU spent in Python), which is what limits the stack at 10
concurrent requests; without it, idle threads are left out too, so waits on DynamoDB Local still show up as
time in the socket calls of the threads that wait.
"""

import argparse
import collections
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.request import codegen_client, run_clients
from bench.stack import LocalStackProcess

RESULTS = Path(__file__).resolve().parent / "results"
PY_SPY = Path(sys.executable).parent / "py-spy"
TOP_FUNCTIONS = 40


def _record(pid: int, output: Path, output_format: str, gil_only: bool) -> subprocess.Popen[bytes]:
    command = [str(PY_SPY), "record", "-p", str(pid), "-o", str(output), "-f", output_format, "-r", "200"]
    command += ["--nolineno"] + (["--gil"] if gil_only else [])
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # py-spy attaches before the clients start
    return recorder


def _stop(recorder: subprocess.Popen[bytes]) -> None:
    recorder.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    _, errors = recorder.communicate(timeout=60)
    if recorder.returncode not in (0, -signal.SIGINT):
        raise RuntimeError(f"py-spy failed ({recorder.returncode}): {errors.decode()[-500:]}")


def summarise(collapsed: Path, top: int = TOP_FUNCTIONS) -> str:
    """A Markdown table of the functions present in the most samples (inclusive), with their self share."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    rows = ["| inclusive | self | function |", "|---:|---:|---|"]
    for frame, count in inclusive.most_common(top):
        rows.append(f"| {count / total:.1%} | {own[frame] / total:.1%} | `{frame}` |")
    return f"{total} samples\n\n" + "\n".join(rows) + "\n"


def profile(concurrency: int, requests_per_client: int, gil_only: bool, stack: LocalStackProcess) -> None:
    run_clients(concurrency, 2, lambda: codegen_client(stack))  # warm-up
    stem = RESULTS / f"profile-stack-c{concurrency}"
    for suffix, output_format in ((".txt", "raw"), (".svg", "flamegraph")):
        recorder = _record(stack.pids["stack"], stem.with_suffix(suffix), output_format, gil_only)
        try:
            latencies, wall = run_clients(concurrency, requests_per_client, lambda: codegen_client(stack))
        finally:
            _stop(recorder)
        print(f"c={concurrency}: {len(latencies)} requests in {wall:.1f} s ({output_format})")
    summary = summarise(stem.with_suffix(".txt"))
    title = f"# py-spy, stack process, {concurrency} concurrent 250-code requests" + (" (GIL only)" if gil_only else "")
    stem.with_name(stem.name + "-summary.md").write_text(f"{title}\n\n{summary}")
    print(summary)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--requests", type=int, default=40, help="requests per concurrency level (total)")
    parser.add_argument("--gil", action="store_true", help="only samples that hold the GIL")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stack = LocalStackProcess(log_path=RESULTS / "stack-profile.log").start()
    try:
        for concurrency in args.concurrency:
            profile(concurrency, max(1, args.requests // concurrency), args.gil, stack)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
