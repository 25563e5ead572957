"""The local stack as a child process of the benchmark, and the memory of every process involved.

`couponmint local run --in-memory` runs as a developer runs it, but for one thing: without the local IAM check
(`--iam off`) unless a benchmark asks for it. The check holds every AWS call against the template's policies in
the stack's own process; on Lambda, AWS evaluates IAM on its side, and the function pays nothing for it. The
benchmark finds the stack's children (DynamoDB Local, moto's server) to write the floor straight into the same
DynamoDB Local and to read each process's peak memory.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import psutil
import requests
from botocore.config import Config

from couponmint_dev.local.processes import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COUPONMINT_COMMAND = Path(sys.executable).parent / "couponmint"
# A fixed modify token for the demo store, so the benchmark knows it in advance (≥ 16 characters).
BENCH_TOKEN = "bench-token-0123456789abcdef"
DEMO_STORE = "demo"
BULK_PROMOTION_ID = 1
STACK_START_SECONDS = 120
# The same client settings as the stack's adapters (couponmint.adapters.aws), so the floor pays what they pay.
DYNAMODB_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, max_pool_connections=32)


def _die_with_parent() -> None:
    """SIGTERM the stack if the benchmark dies without stopping it (it then stops its own children)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


@dataclass
class LocalStackProcess:
    """`couponmint local run --in-memory --port N --iam off`, started by `start()`, stopped by `stop()`."""

    log_path: Path
    port: int = field(default_factory=free_port)
    token: str = BENCH_TOKEN
    # What to run instead of `couponmint local run` (bench/what_if.py runs the stack with patches applied).
    command: tuple[str, ...] = (str(COUPONMINT_COMMAND), "local", "run")
    # Variables added to the stack's environment (bench/job_trace.py names its trace file).
    environment: dict[str, str] = field(default_factory=dict)
    # `--iam`: off, as on Lambda (see the module docstring); `enforce` or `warn` to measure the check itself.
    iam: str = "off"
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    pids: dict[str, int] = field(default_factory=dict, init=False)
    _services: list[psutil.Process] = field(default_factory=list, init=False, repr=False)
    dynamodb_endpoint: str = field(default="", init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LocalStackProcess":
        environment = {**os.environ, "COUPONMINT_DEMO_TOKEN": self.token, **self.environment}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [*self.command, "--in-memory", "--port", str(self.port), "--iam", self.iam],
                cwd=PROJECT_ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        try:
            self._wait_until_healthy()
            self._find_services()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STACK_START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the local stack exited with {self._process.returncode}; see {self.log_path}")
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"the local stack did not become healthy in {STACK_START_SECONDS} s; see {self.log_path}")

    def _find_services(self) -> None:
        assert self._process is not None
        self.pids = {"stack": self._process.pid}
        for child in psutil.Process(self._process.pid).children(recursive=True):
            command = child.cmdline()
            if any(part.endswith("DynamoDBLocal.jar") for part in command):
                self.pids["dynamodb_local"] = child.pid
                self._services.append(child)
                self.dynamodb_endpoint = f"http://127.0.0.1:{command[command.index('-port') + 1]}"
            elif "couponmint_dev.local.moto_server" in command:
                self.pids["moto"] = child.pid
                self._services.append(child)
        if not self.dynamodb_endpoint or "moto" not in self.pids:
            raise RuntimeError(f"could not find DynamoDB Local and moto under the stack: {self.pids}")

    def _on_dynamodb_local(self) -> dict[str, str]:
        return {
            "endpoint_url": self.dynamodb_endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }

    def dynamodb(self) -> object:
        """A new boto3 DynamoDB resource on the stack's DynamoDB Local (one per thread: resources are not shared)."""
        return boto3.session.Session().resource("dynamodb", config=DYNAMODB_CLIENT_CONFIG, **self._on_dynamodb_local())

    def dynamodb_writer(self) -> object:
        """A plain client like the generator's claim writer (`aws.dynamodb_writer`), on the stack's DynamoDB Local."""
        config = DYNAMODB_CLIENT_CONFIG.merge(Config(parameter_validation=False))
        return boto3.session.Session().client("dynamodb", config=config, **self._on_dynamodb_local())

    def coupon_table_name(self) -> str:
        names = [table.name for table in self.dynamodb().tables.all()]  # type: ignore[attr-defined]
        matches = [name for name in names if name.endswith("-CouponTable")]
        if len(matches) != 1:
            raise RuntimeError(f"expected one CouponTable in DynamoDB Local, found {names}")
        return matches[0]

    def peak_rss_mb(self) -> dict[str, float]:
        """Peak resident memory of the stack and its services since they started, in MB."""
        return {name: round(peak_rss_mb(pid), 1) for name, pid in self.pids.items()}

    def stop(self) -> None:
        """Ask the stack to stop (it stops its services), and make sure it is gone."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        for service in self._services:
            # psutil checks the process is still the one found (same start time) before signalling it.
            with contextlib.suppress(psutil.NoSuchProcess):
                service.kill()


class RssSampler:
    """The largest resident memory of each process seen while it runs (for one phase of the benchmark)."""

    def __init__(self, pids: dict[str, int], interval_seconds: float = 0.2) -> None:
        self._processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._interval = interval_seconds
        self.peak_mb: dict[str, float] = dict.fromkeys(pids, 0.0)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            for name, process in self._processes.items():
                try:
                    rss_mb = process.memory_info().rss / 2**20
                except psutil.NoSuchProcess:
                    continue
                self.peak_mb[name] = max(self.peak_mb[name], round(rss_mb, 1))
            if self._stopping.wait(self._interval):
                return
