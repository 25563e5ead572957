"""Load a function's handler exactly as template.yaml names it, and give it a Lambda-like context.

`CodeUri: functions/api` + `Handler: app.lambda_handler` → `functions/api/app.py`, attribute
`lambda_handler`. The file is loaded with `importlib.util.spec_from_file_location` under a unique module
name, so two functions' `app.py` never collide and nothing is added to `sys.path`. One consequence: a
handler file cannot import sibling modules from its CodeUri folder (handlers are thin; shared code lives
in the layer, which is installed).

Each `LocalFunction.fresh()` loads another copy of the module, like another Lambda execution environment:
module-level state (Powertools' resolver and batch processor keep the current event on themselves) is not
shared between invocations that run at the same time.
"""

import importlib.util
import itertools
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from couponmint_dev.local.iam.running import running_as
from couponmint_dev.local.services import ACCOUNT_ID, REGION
from couponmint_dev.local.template import function_properties, load_template, project_root

Handler = Callable[[dict[str, Any], Any], Any]

_module_numbers = itertools.count(1)
_module_numbers_lock = threading.Lock()


@dataclass(frozen=True)
class FunctionSpec:
    """What the template says about one AWS::Serverless::Function (Globals applied)."""

    logical_id: str
    module_file: Path
    handler_name: str
    timeout_seconds: int
    memory_mb: int

    @classmethod
    def from_template(cls, template_path: Path | None, logical_id: str) -> "FunctionSpec":
        template_path = template_path or project_root() / "template.yaml"
        properties = function_properties(load_template(template_path), logical_id)
        module_path, _, handler_name = str(properties["Handler"]).rpartition(".")
        code_dir = template_path.parent / str(properties["CodeUri"])
        return cls(
            logical_id=logical_id,
            module_file=code_dir / (module_path.replace(".", "/") + ".py"),
            handler_name=handler_name,
            timeout_seconds=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
        )


@dataclass
class LambdaContext:
    """The part of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left of the template's Timeout (the local stack reports it; it does not enforce it)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def local_context(
    logical_id: str, template_path: Path | None = None, *, request_id: str | None = None
) -> LambdaContext:
    """A fresh context for one invocation of the function `logical_id` (its clock starts now)."""
    spec = FunctionSpec.from_template(template_path, logical_id)
    return _context_for(spec, request_id)


def _context_for(spec: FunctionSpec, request_id: str | None = None) -> LambdaContext:
    context = LambdaContext(
        function_name=spec.logical_id, memory_limit_in_mb=spec.memory_mb, timeout_seconds=spec.timeout_seconds
    )
    if request_id:
        context.aws_request_id = request_id
    return context


class LocalFunction:
    """A loaded handler: call it like the handler; `fresh()` loads an independent copy of its module."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.module = _load_module(spec)
        self._handler: Handler = getattr(self.module, spec.handler_name)
        if not callable(self._handler):
            raise TypeError(f"{spec.module_file}:{spec.handler_name} is not callable")

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        # Every AWS call the handler makes is this function's, for the IAM check (iam/check.py).
        with running_as(self.spec.logical_id):
            return self._handler(event, context)

    def fresh(self) -> "LocalFunction":
        return LocalFunction(self.spec)

    def context(self, request_id: str | None = None) -> LambdaContext:
        return _context_for(self.spec, request_id)


def load_handler(template_path: Path | None, logical_id: str) -> LocalFunction:
    """The handler of `logical_id`, loaded from the file its CodeUri and Handler name."""
    return LocalFunction(FunctionSpec.from_template(template_path, logical_id))


def _load_module(spec: FunctionSpec) -> ModuleType:
    with _module_numbers_lock:
        module_name = f"couponmint_local_{spec.logical_id.lower()}_{next(_module_numbers)}"
    module_spec = importlib.util.spec_from_file_location(module_name, spec.module_file)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {spec.module_file} for {spec.logical_id}")
    module = importlib.util.module_from_spec(module_spec)
    # Registered before running it, as importlib's own recipe does: pydantic and dataclasses look the
    # module up by name while the module body runs.
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    return module


class HandlerPool:
    """Copies of one function, lent out one invocation at a time (Lambda's execution environments).

    A copy is loaded when none is free (a cold start), up to `max_size`; beyond that, callers wait.
    """

    def __init__(self, function: LocalFunction, max_size: int = 16) -> None:
        self._prototype = function
        self._idle: list[LocalFunction] = [function]
        self._created = 1
        self._max_size = max_size
        self._available = threading.Condition()

    @contextmanager
    def acquire(self) -> Iterator[LocalFunction]:
        function = self._take()
        try:
            yield function
        finally:
            with self._available:
                self._idle.append(function)
                self._available.notify()

    def _take(self) -> LocalFunction:
        with self._available:
            while not self._idle and self._created >= self._max_size:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._created += 1
        # Loaded outside the lock: a cold start must not hold up warm invocations.
        return self._prototype.fresh()
