"""Local services as child processes: start one, wait until it answers, stop it with its children.

A child is stopped when its caller stops it or this process exits (atexit), and killed by Linux if this process
dies without cleaning up (PR_SET_PDEATHSIG), so no JVM outlives the test run or the stack that started it.
"""

import atexit
import collections
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
_OUTPUT_LINES_KEPT = 200


class ServiceFailed(RuntimeError):
    """A local service exited or did not answer in time; the message carries its last output."""


def free_port() -> int:
    """A port free on 127.0.0.1 right now (another process may take it before we bind: callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL the child if the process that started it dies without cleaning up.

    atexit covers normal exits; this covers SIGKILL and pytest-timeout's os._exit, which would otherwise
    leave a JVM holding a few hundred MB.
    """
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


class LocalService:
    """One running service process; `endpoint` is its base URL, `stop()` ends it and its children."""

    def __init__(self, name: str, command: Sequence[str], port: int, cwd: Path | None = None) -> None:
        self.name = name
        self.port = port
        self.endpoint = f"http://{LOCALHOST}:{port}"
        self._output: collections.deque[str] = collections.deque(maxlen=_OUTPUT_LINES_KEPT)
        self._process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own process group, so stop() reaches the children too.
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        # Drain the pipe (DynamoDB Local and moto write to it) so the child never blocks on a full pipe;
        # keep the tail for error messages.
        threading.Thread(target=self._drain_output, name=f"{name}-output", daemon=True).start()
        atexit.register(self.stop)

    @property
    def pid(self) -> int:
        return self._process.pid

    def running(self) -> bool:
        return self._process.poll() is None

    def output(self) -> str:
        """The service's last lines of output."""
        return "".join(self._output.copy())  # copy() is atomic; the drain thread keeps appending

    def _drain_output(self) -> None:
        assert self._process.stdout is not None
        with self._process.stdout:
            for line in iter(self._process.stdout.readline, b""):
                self._output.append(line.decode("utf-8", errors="replace"))

    def wait_until_ready(self, probe: "ReadinessProbe", timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise ServiceFailed(f"{self.name} exited with {self._process.returncode}:\n{self.output()}")
            if probe(self.endpoint):
                logger.info("local service ready: %s on %s (pid %s)", self.name, self.endpoint, self.pid)
                return
            time.sleep(0.1)
        self.stop()
        raise ServiceFailed(f"{self.name} did not answer on {self.endpoint} within {timeout:.0f} s:\n{self.output()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process group; kill it if it has not exited after `timeout` seconds."""
        atexit.unregister(self.stop)
        if self._process.poll() is None:
            _signal_group(self._process, signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self._process, signal.SIGKILL)
                self._process.wait(timeout)


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signum)


class ReadinessProbe:
    """Calls `endpoint` and says whether the service answered as expected."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> None:
        self._method, self._path, self._headers, self._body = method, path, headers, body

    def __call__(self, endpoint: str) -> bool:
        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
            endpoint + self._path, data=self._body, headers=self._headers, method=self._method
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                return 200 <= int(response.status) < 300
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
