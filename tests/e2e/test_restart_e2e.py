"""A restart loses nothing: the local stack killed mid-job comes back from DynamoDB alone.

Its SQS and S3 (moto) are in memory, so the kill loses every queued message and every CSV; DynamoDB Local keeps
its data directory. After the restart, a completed job's CSV is made again, the interrupted job and a codegen
batch that had answered 202 finish, with every code exactly once.
"""

import csv
import io
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from couponmint.adapters.repositories import Repositories
from couponmint.models.codegen import CodeFormat
from couponmint.models.messages import NewBatch
from couponmint.service import codegen
from couponmint_dev.local.processes import free_port
from tests.e2e.conftest import STARTUP_TIMEOUT_SECONDS, LocalStack

CLI = str(Path(sys.executable).with_name("couponmint"))


@contextmanager
def stack_on(data_dir: Path, port: int, log: Path, tokens: tuple[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`couponmint local run --data-dir DIR` in a process group of its own; killed (SIGKILL) at the end."""
    environment = {**os.environ, "COUPONMINT_DEMO_TOKEN": tokens[0], "COUPONMINT_DEMO_READONLY_TOKEN": tokens[1]}
    with log.open("ab") as output:
        process = subprocess.Popen(
            [CLI, "local", "run", "--data-dir", str(data_dir), "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        yield process
    finally:
        kill(process)


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the stack's process group: no shutdown runs (its services die with it)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        time.sleep(1)  # DynamoDB Local and moto follow their parent (PR_SET_PDEATHSIG)


class Api:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.headers = {"X-Auth-Token": stack.token}

    def get(self, path: str) -> dict[str, Any]:
        answer = requests.get(f"{self.stack.base_url}{path}", headers=self.headers, timeout=35)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def start_job(self, quantity: int) -> str:
        answer = requests.post(
            self.stack.v3_url("promotions/1/codegen/jobs"),
            json={"quantity": quantity},
            headers=self.headers,
            timeout=35,
        )
        assert answer.status_code == 202, answer.text
        return str(answer.headers["Location"])

    def wait_job(self, location: str, seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            job = self.get(location)["data"]
            if job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                return dict(job)
            time.sleep(0.5)
        raise AssertionError(f"job {location} not finished after {seconds} s: {job}")

    def listed_codes(self) -> list[str]:
        codes: list[str] = []
        query = "?limit=250"
        while query:
            page = self.get(f"/stores/{self.stack.store_hash}/v3/promotions/1/codes{query}")
            codes += [code["code"] for code in page["data"]]
            query = page["meta"]["cursor_pagination"]["links"].get("next")
        return codes


def csv_codes(url: str) -> list[str]:
    return [row["code"] for row in csv.DictReader(io.StringIO(requests.get(url, timeout=60).text))]


def record_a_202_batch(base_url: str, store_hash: str) -> str:
    """What a codegen request that answered 202 leaves behind: its batch recorded PENDING (its message, in the
    stack's memory, dies with it). Written the way the API writes it."""
    environment = requests.get(f"{base_url}/_local/env", timeout=5).json()
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=environment["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )
    stores = Repositories.over(resource.Table(environment["COUPONMINT_TABLE_NAME"]))
    new = NewBatch(
        batch_size=250, max_uses=1, max_uses_per_customer=1, code_format=CodeFormat(), created=datetime.now(UTC)
    )
    batch_id = secrets.token_hex(16)
    stores.batches.put_once(codegen.new_batch_record(store_hash, 1, batch_id, new))
    return f"/stores/{store_hash}/v3/promotions/1/codegen/batches/{batch_id}"


@pytest.mark.timeout(900)
def test_e2e_a_killed_local_stack_resumes_and_loses_nothing(tmp_path: Path) -> None:
    data_dir, log, port = tmp_path / "data", tmp_path / "stack.log", free_port()
    tokens = (secrets.token_urlsafe(24), secrets.token_urlsafe(24))
    stack = LocalStack(base_url=f"http://127.0.0.1:{port}", token=tokens[0], readonly_token=tokens[1], log=log)
    api = Api(stack)
    with stack_on(data_dir, port, log, tokens) as first:
        # Given a completed job, a codegen batch that answered 202, and a job of 10,000 codes under way
        finished = api.start_job(2_000)
        assert api.wait_job(finished, 120)["status"] == "COMPLETED"
        pending = record_a_202_batch(stack.base_url, stack.store_hash)
        running = api.start_job(10_000)
        while api.get(running)["data"]["generated"] < 2_500:
            time.sleep(0.2)
        # When the stack is killed
        kill(first)
    with stack_on(data_dir, port, log, tokens):
        restarted = time.monotonic()
        # Then the interrupted job completes within two minutes of the restart, with 10,000 distinct codes
        interrupted = api.wait_job(running, 120)
        assert interrupted["status"] == "COMPLETED" and time.monotonic() - restarted < 120
        second = csv_codes(interrupted["download_url"])
        assert len(second) == 10_000 == len(set(second))
        # And the completed job's CSV (gone with the old S3) downloads again with all its codes
        again = api.wait_job(finished, 120)
        first_codes = csv_codes(again["download_url"])
        assert again["status"] == "COMPLETED" and len(first_codes) == 2_000 == len(set(first_codes))
        # And the 202's batch reached DONE with its 250 codes
        deadline = time.monotonic() + 60
        while (batch := api.get(pending)["data"])["status"] != "DONE" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert batch["status"] == "DONE" and len(batch["codes"]) == 250
        # And the promotion lists exactly these codes, each once
        listed = api.listed_codes()
        expected = [*first_codes, *second, *(code["code"] for code in batch["codes"])]
        assert len(listed) == len(set(listed)) == 12_250
        assert set(listed) == set(expected)
