"""A 20,000-code bulk job end to end: started and awaited with the `couponmint jobs create` command."""

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from tests.e2e.conftest import LocalStack


def test_e2e_job_of_20000_codes_csv_equals_the_stored_codes(stack: LocalStack, tmp_path: Path) -> None:
    # Given a new BULK promotion
    headers = {"X-Auth-Token": stack.token}
    promotion = requests.post(
        stack.v3_url("promotions"),
        json={"name": "E2E job", "redemption_type": "COUPON", "coupon_type": "BULK", "rules": [{"action": {}}]},
        headers=headers,
        timeout=30,
    ).json()["data"]
    output = tmp_path / "codes.csv"
    # When a marketer starts a 20,000-code job from the command line and waits for it
    finished = subprocess.run(
        [
            str(Path(sys.executable).with_name("couponmint")),
            "jobs",
            "create",
            "--url",
            stack.base_url,
            "--store",
            stack.store_hash,
            "--promotion",
            str(promotion["id"]),
            "--quantity",
            "20000",
            "--prefix",
            "E2E",
            "--delimiter",
            "-",
            "--code-length",
            "12",
            "--exclude",
            "O0I1",
            "--wait",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        # The token through the environment, as the README advises (a token may begin with "-").
        env={**os.environ, "COUPONMINT_TOKEN": stack.token},
    )
    # Then it succeeds and saves the CSV
    assert finished.returncode == 0, finished.stderr
    assert "saved 20000 codes" in finished.stderr
    with output.open() as stream:
        rows = list(csv.DictReader(stream))
    codes = [row["code"] for row in rows]
    # And the CSV holds 20,000 distinct codes in the requested format
    assert len(codes) == 20_000 == len(set(codes))
    assert all(re.fullmatch(r"E2E-[A-Z2-9]{12}", code) and not set(code[4:]) & set("O0I1") for code in codes)
    # And they are exactly the promotion's stored codes, as the API lists them
    listed: set[str] = set()
    query = "?limit=250"
    while query:
        page = requests.get(
            stack.v3_url(f"promotions/{promotion['id']}/codes") + query, headers=headers, timeout=30
        ).json()
        listed |= {item["code"] for item in page["data"]}
        query = page["meta"]["cursor_pagination"]["links"].get("next")
    assert listed == set(codes)
