"""`couponmint schedules ...` and `couponmint hooks ...` against the running local stack, through its API."""

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import LocalStack

CLI = str(Path(sys.executable).with_name("couponmint"))


def cli(stack: LocalStack, *arguments: str) -> str:
    api = ["--url", stack.base_url, "--token", stack.token]
    done = subprocess.run([CLI, *arguments, *api], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_e2e_cli_creates_lists_and_deletes_a_schedule(stack: LocalStack) -> None:
    made = json.loads(
        cli(
            stack,
            "schedules", "create", "--promotion", "1", "--expression", "cron(0 9 ? * MON *)",
            "--timezone", "Europe/Berlin", "--quantity", "100", "--format", '{"prefix": "MON", "delimiter": "-"}',
        )
    )  # fmt: skip
    assert (made["expression"], made["timezone"], made["prefix"], made["state"]) == (
        "cron(0 9 ? * MON *)",
        "Europe/Berlin",
        "MON",
        "ENABLED",
    )
    listed = cli(stack, "schedules", "list", "--promotion", "1")
    assert any(line.startswith(f"{made['id']}  ENABLED  cron(0 9 ? * MON *)") for line in listed.splitlines())
    cli(stack, "schedules", "delete", "--promotion", "1", made["id"])
    assert made["id"] not in cli(stack, "schedules", "list", "--promotion", "1")


def test_e2e_cli_creates_lists_and_deletes_a_hook(stack: LocalStack) -> None:
    made = json.loads(
        cli(
            stack,
            "hooks", "create", "--scope", "store/promotion/*", "--destination", "http://127.0.0.1:9/in",
            "--header", "X-Shop: 7",
        )
    )  # fmt: skip
    assert made["headers"] == {"X-Shop": "7"} and len(made["secret"]) == 64
    assert f"{made['id']}  active  store/promotion/*  http://127.0.0.1:9/in" in cli(stack, "hooks", "list")
    cli(stack, "hooks", "delete", str(made["id"]))
    assert f"{made['id']}  active" not in cli(stack, "hooks", "list")
