"""A job's claims: one conditional insert per code, 25 to a call, several calls at once.

A codegen request's batch claims its codes in transactions of up to 100 (all or nothing per chunk, the last
chunk riding with the batch's completion: three round trips for 250 codes). A job's batch does not need that:
each code's claim is atomic on its own item, the write-ahead record already names every candidate, and a claim
is tied to its batch (`batch_id`), so a redelivery finds its own claims and a failure gives them back. Single
inserts cost 1 write unit per code instead of a transaction's 2, which is most of what a million codes cost
(docs/scaling.md). PartiQL's BatchExecuteStatement carries 25 of them per call; an INSERT fails with
`DuplicateItem` on an existing item, which is then read to tell this batch's own claim from another's.
"""

import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from couponmint.adapters.dynamo import Table, attribute_value
from couponmint.adapters.keys import code_key

# DynamoDB's limit of statements per BatchExecuteStatement, and calls a batch has in flight at once.
STATEMENTS_PER_CALL = 25
CALLS_AT_ONCE = 4
# A statement refused for a passing reason (a hot partition) is sent again, with jittered backoff.
RETRIED = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded", "InternalServerError"})
INSERT_ATTEMPTS = 8


class JobClaims:
    def __init__(self, table: Table) -> None:
        self._table = table

    def claim(self, batch_id: str, items: Sequence[dict[str, Any]]) -> set[str]:
        """Insert each code item (its stored form); returns the codes another batch or request holds."""
        chunks = [items[i : i + STATEMENTS_PER_CALL] for i in range(0, len(items), STATEMENTS_PER_CALL)]
        with ThreadPoolExecutor(max_workers=CALLS_AT_ONCE, thread_name_prefix="claim") as calls:
            existing = [code for found in calls.map(self._insert, chunks) for code in found]
        return self._not_ours(batch_id, existing)

    def _insert(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """One call of inserts (and again for those throttled); returns the items that exist already."""
        existing: list[dict[str, Any]] = []
        for attempt in range(INSERT_ATTEMPTS):
            answer = self._table.writer.batch_execute_statement(
                Statements=[self._statement(item) for item in items], ReturnConsumedCapacity="NONE"
            )
            again = []
            for item, response in zip(items, answer["Responses"], strict=True):
                code = (response.get("Error") or {}).get("Code")
                if code == "DuplicateItem":
                    existing.append(item)
                elif code in RETRIED:
                    again.append(item)
                elif code is not None:
                    raise RuntimeError(f"claim of {item['code']} failed: {response['Error']}")
            if not again:
                return existing
            items = again
            time.sleep(random.uniform(0.01, 0.03) * 2**attempt)
        raise RuntimeError(f"{len(items)} claims still throttled after {INSERT_ATTEMPTS} attempts")

    def _statement(self, item: dict[str, Any]) -> dict[str, Any]:
        names = list(item)
        fields = ", ".join(f"'{name}': ?" for name in names)
        return {
            "Statement": f'INSERT INTO "{self._table.name}" VALUE {{{fields}}}',
            "Parameters": [attribute_value(item[name]) for name in names],
        }

    def _not_ours(self, batch_id: str, existing: list[dict[str, Any]]) -> set[str]:
        """Of the codes found existing, those another batch or request holds (a redelivery finds its own)."""
        if not existing:
            return set()
        store_hash = existing[0]["store_hash"]
        held = self._table.get_many(
            [code_key(store_hash, item["code"]) for item in existing],
            ProjectionExpression="code, batch_id",
            ConsistentRead=True,
        )
        ours = {str(item["code"]).upper() for item in held if item.get("batch_id") == batch_id}
        return {item["code"] for item in existing if str(item["code"]).upper() not in ours}
