"""`couponmint local env` points the CLI at a running local stack: a second store's token, made from the shell."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import requests

from tests.e2e.conftest import LocalStack

CLI = str(Path(sys.executable).with_name("couponmint"))


def test_e2e_local_env_lets_the_cli_create_a_second_stores_token(stack: LocalStack) -> None:
    # Given the export lines the running stack gives
    printed = subprocess.run(
        [CLI, "local", "env", "--url", stack.base_url], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    lines = [line.removeprefix("export ") for line in printed.splitlines()]
    environment = {name: shlex.split(value)[0] for name, _, value in (line.partition("=") for line in lines)}
    assert environment["COUPONMINT_URL"] == stack.base_url
    assert {"COUPONMINT_TABLE_NAME", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"} <= set(environment)
    # When the CLI, run with them, creates a token and a promotion for another store
    shell = {**os.environ, **environment}
    token = subprocess.run(
        [CLI, "tokens", "create", "--store", "second"],
        capture_output=True,
        text=True,
        check=True,
        env=shell,
        timeout=60,
    ).stdout.strip()
    subprocess.run(
        [CLI, "promotions", "create", "--store", "second", "--name", "Second bulk", "--id", "1"],
        capture_output=True,
        check=True,
        env=shell,
        timeout=60,
    )
    # Then that store works through the API with its own token, and the demo store's token is refused there
    url = f"{stack.base_url}/stores/second/v3/promotions/1/codegen"
    made = requests.post(url, json={"batch_size": 3}, headers={"X-Auth-Token": token}, timeout=35)
    assert made.status_code == 201 and len(made.json()["data"]["codes"]) == 3
    refused = requests.post(url, json={"batch_size": 3}, headers={"X-Auth-Token": stack.token}, timeout=35)
    assert refused.status_code == 403
