"""DESIGN.md invariant 8 in every test: each AWS call a function makes is held against its role in template.yaml.

tests/conftest.py imports these hooks and the fixture. The check is installed before any boto3 client exists
(`pytest_configure`) in enforce mode: a refused call fails with AccessDenied, as on AWS, and the test during
which it happened fails at teardown, naming the function, the missing action and the resource, even when the
code swallowed the error. Calls from fixtures and helpers (outside any invocation) are not checked.
"""

from collections.abc import Iterator

import pytest

from couponmint_dev.local.iam import IamMode, Violation, active_checker, install
from couponmint_dev.local.resources import LocalResources


def pytest_configure(config: pytest.Config) -> None:
    install(IamMode.ENFORCE)


def judge_against(resources: LocalResources) -> None:
    """The functions' roles name these resources (the session's tables, queues and bucket)."""
    checker = active_checker()
    if checker is not None:
        checker.use(resources)


def describe(violations: list[Violation]) -> str:
    unique = list(dict.fromkeys(violations))
    return "\n".join(f"  {v}" for v in unique)


@pytest.fixture(autouse=True)
def iam_allows_every_call() -> Iterator[None]:
    """Fail the test if a function made a call its role does not allow while it ran."""
    yield
    checker = active_checker()
    violations = checker.take_new() if checker is not None else []
    if violations:
        pytest.fail(f"calls that template.yaml does not allow (DESIGN.md invariant 8):\n{describe(violations)}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Calls refused after the last test's teardown (a background poller) still fail the run."""
    checker = active_checker()
    violations = checker.take_new() if checker is not None else []
    if violations:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"calls that template.yaml does not allow:\n{describe(violations)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
