"""Which function's code is running: set around each invocation, read by the IAM check on every AWS call.

A context variable, so each thread (and each task of an executor) sees its own invocation. Python 3.13 starts
threads in an empty context, so `inherit_in_threads()` makes new threads and executor tasks carry the
context of the code that started them: an export written beside the handler (a `ThreadPoolExecutor` in the
layer) is still that function's call, as on Lambda, where it runs in the same execution environment.
"""

import collections
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("couponmint_local_function", default=None)
# How many invocations of each function run right now (for the local stack's lane priority, lanes.py).
_in_flight: collections.Counter[str] = collections.Counter()
_in_flight_changed = threading.Condition()
_inheriting = False
_inheriting_lock = threading.Lock()


def current_function() -> str | None:
    """The logical id of the function whose invocation this code runs in, or None (a fixture, the stack)."""
    return _function.get()


@contextmanager
def running_as(function_id: str) -> Iterator[None]:
    """Mark the code inside as `function_id`'s invocation."""
    token = _function.set(function_id)
    with _in_flight_changed:
        _in_flight[function_id] += 1
    try:
        yield
    finally:
        _function.reset(token)
        with _in_flight_changed:
            _in_flight[function_id] -= 1
            _in_flight_changed.notify_all()


def wait_while_running(function_ids: Collection[str], timeout: float) -> float:
    """Wait until no invocation of `function_ids` runs, at most `timeout` seconds; returns the seconds waited."""
    started = time.monotonic()
    with _in_flight_changed:
        _in_flight_changed.wait_for(lambda: not any(_in_flight[f] for f in function_ids), timeout)
    return time.monotonic() - started


def inherit_in_threads() -> None:
    """Make threads and executor tasks started during an invocation belong to it (idempotent).

    Executor tasks always run in a copy of the submitter's context (what asyncio's `run_in_executor` does),
    so a long-lived pool's worker never lends one caller's function to another's task. A plain thread takes
    a copy of its starter's context when started during an invocation.
    """
    global _inheriting
    with _inheriting_lock:
        if _inheriting:
            return
        _inheriting = True
    submit = ThreadPoolExecutor.submit
    start = threading.Thread.start

    def submit_in_context(
        self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    @functools.wraps(start)
    def start_in_context(self: threading.Thread) -> None:
        if _function.get() is not None:
            context, run = contextvars.copy_context(), self.run
            self.run = lambda: context.run(run)  # type: ignore[method-assign]
        start(self)

    ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign,assignment]
    threading.Thread.start = start_in_context  # type: ignore[method-assign]
