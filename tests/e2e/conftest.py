"""End-to-end fixtures: `couponmint local run` as a subprocess, driven over HTTP like a BigCommerce client."""

import contextlib
import json
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from bigcommerce.connection import OAuthConnection

from couponmint_dev.local.iam import Violation
from couponmint_dev.local.processes import free_port
from couponmint_dev.local.seed import DEMO_STORE

STARTUP_TIMEOUT_SECONDS = 90
SHUTDOWN_TIMEOUT_SECONDS = 30
# Above the API's wait for a batch (ApiWaitSeconds, at most 25 s); the client's own default is 7 s.
CLIENT_TIMEOUT_SECONDS = 35.0


@dataclass(frozen=True)
class LocalStack:
    """The running local stack: where it listens and the demo store's tokens."""

    base_url: str
    token: str
    readonly_token: str
    store_hash: str = DEMO_STORE
    log: Path | None = None

    def v3_url(self, path: str, store_hash: str | None = None) -> str:
        """An absolute http:// URL under the store's v3 API, e.g. v3_url("promotions/1/codegen").

        The bigcommerce client builds https://<host>/... from relative paths; it passes absolute URLs
        through unchanged, so tests give it these.
        """
        return f"{self.base_url}/stores/{store_hash or self.store_hash}/v3/{path.lstrip('/')}"


def _output_tail(log: Path, lines: int = 80) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running_stack(log_dir: Path, *extra_args: str) -> Iterator[LocalStack]:
    """`couponmint local run --in-memory` on a free port, with known demo tokens; stopped (SIGTERM) at the end."""
    token, readonly_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    port = free_port()
    log = log_dir / "stack.log"
    # Every AWS call of the stack's functions is held against template.yaml (DESIGN.md invariant 8).
    iam_report = log_dir / "iam-violations.jsonl"
    command = [
        str(Path(sys.executable).with_name("couponmint")),
        "local",
        "run",
        "--in-memory",
        "--port",
        str(port),
        "--iam",
        "enforce",
        "--iam-report",
        str(iam_report),
        *extra_args,
    ]
    with pytest.MonkeyPatch.context() as environment, log.open("wb") as output:
        # The subprocess inherits these (and nothing else is changed for it).
        environment.setenv("COUPONMINT_DEMO_TOKEN", token)
        environment.setenv("COUPONMINT_DEMO_READONLY_TOKEN", readonly_token)
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_for_health(process, base_url, log)
        yield LocalStack(base_url=base_url, token=token, readonly_token=readonly_token, log=log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(SHUTDOWN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"the local stack did not stop within {SHUTDOWN_TIMEOUT_SECONDS} s:\n{_output_tail(log)}")
        if returncode != 0:
            pytest.fail(f"the local stack exited with {returncode}:\n{_output_tail(log)}")
        if iam_report.exists():
            lines = dict.fromkeys(iam_report.read_text().splitlines())
            violations = "\n".join(f"  {Violation(**json.loads(line))}" for line in lines)
            pytest.fail(f"the stack's functions made calls template.yaml does not allow:\n{violations}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local stack shared by the end-to-end tests."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A local stack for one module alone (for tests that change or delete the demo store's data)."""
    with running_stack(tmp_path_factory.mktemp("own-stack")) as running:
        yield running


def _wait_for_health(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the local stack exited with {process.returncode} while starting:\n{_output_tail(log)}")
        try:
            if requests.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass  # not listening yet
        time.sleep(0.2)
    process.kill()
    process.wait()
    pytest.fail(f"the local stack was not healthy within {STARTUP_TIMEOUT_SECONDS} s:\n{_output_tail(log)}")


@pytest.fixture
def bc_client(stack: LocalStack) -> OAuthConnection:
    """The official BigCommerce Python client with the demo store's modify token.

    Call it with absolute URLs from `stack.v3_url(...)`, e.g.
    `bc_client.post(stack.v3_url("promotions/1/codegen"), {"batch_size": 5})`.
    """
    connection = OAuthConnection(
        client_id="couponmint-e2e",
        store_hash=stack.store_hash,
        access_token=stack.token,
        host="127.0.0.1",
        api_path="/stores/{}/v3/{}",
    )
    connection.timeout = CLIENT_TIMEOUT_SECONDS
    return connection
