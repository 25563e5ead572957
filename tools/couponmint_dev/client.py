"""A small client of couponmint's job API, for the command line (works against local and deployed stacks)."""

import time
import uuid
from pathlib import Path
from typing import Any

import requests


class JobClient:
    def __init__(self, base_url: str, store_hash: str, token: str, *, poll_seconds: float = 1.0) -> None:
        self._base = f"{base_url.rstrip('/')}/stores/{store_hash}/v3"
        self._session = requests.Session()
        self._session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})
        self._poll_seconds = poll_seconds

    def start(self, promotion_id: int, body: dict[str, Any]) -> dict[str, Any]:
        # One Idempotency-Key per command: a retried POST (a flaky network) cannot start a second job.
        answer = self._session.post(
            f"{self._base}/promotions/{promotion_id}/codegen/jobs",
            json=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        if answer.status_code != 202:
            raise SystemExit(f"couponmint: the API answered {answer.status_code}: {answer.text}")
        return dict(answer.json()["data"])

    def get(self, promotion_id: int, job_id: str) -> dict[str, Any]:
        answer = self._session.get(f"{self._base}/promotions/{promotion_id}/codegen/jobs/{job_id}", timeout=30)
        answer.raise_for_status()
        return dict(answer.json()["data"])

    def wait(self, promotion_id: int, job_id: str) -> dict[str, Any]:
        """Poll the job until it ends, with a progress bar of the codes generated."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        job = self.get(promotion_id, job_id)
        with Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
        ) as progress:
            task = progress.add_task(f"job {job_id[:8]}", total=job["quantity"])
            while job["status"] not in ("COMPLETED", "FAILED", "CANCELLED"):
                time.sleep(self._poll_seconds)
                job = self.get(promotion_id, job_id)
                progress.update(task, completed=job["generated"] + job["failed"], description=job["status"].lower())
        return job

    def download(self, url: str, destination: str) -> int:
        """Stream the CSV to `destination`; returns the number of codes (rows after the header)."""
        lines = 0
        with requests.get(url, stream=True, timeout=60) as answer, Path(destination).open("wb") as out:
            answer.raise_for_status()
            for chunk in answer.iter_content(chunk_size=1 << 20):
                out.write(chunk)
                lines += chunk.count(b"\n")
        return lines - 1


class ApiClient:
    """The API's other resources (schedules, hooks) for the command line: JSON in, the answer's `data` out."""

    def __init__(self, base_url: str, store_hash: str, token: str) -> None:
        self._base = f"{base_url.rstrip('/')}/stores/{store_hash}/v3"
        self._session = requests.Session()
        self._session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The answer's `data` (None for a 204); a refusal ends the command with the API's words."""
        # A POST carries an Idempotency-Key: retried by a flaky network, it creates nothing twice.
        headers = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
        answer = self._session.request(method, f"{self._base}/{path}", json=body, headers=headers, timeout=30)
        if answer.status_code >= 300:
            raise SystemExit(f"couponmint: the API answered {answer.status_code}: {answer.text}")
        return answer.json()["data"] if answer.content else None
