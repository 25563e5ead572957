"""Per-store limits: request quota windows, concurrency leases, and a store's own quota settings.

Items, all in the store's partition `STORE#<store>`:
- `WINDOW#<start ms>`: the requests counted in one quota window (expires by TTL, `expires_at`); validation and
  redemption count in `WINDOW#redemption#<start ms>`;
- `LEASES#<kind>`: a map holder → expiry (ms) of the store's concurrent `codegen` or `list` requests;
- `LIMITS`: the store's request quota and window, and its redemption quota and window, when an operator set them.
"""

from botocore.exceptions import ClientError

from couponmint.adapters.dynamo import Table, is_condition_failure
from couponmint.adapters.keys import Key, leases_key, quota_window_key, store_limits_key

# The settings of a store's LIMITS item (the redemption lane's are named after the lane).
LIMIT_SETTINGS = ("request_quota", "window_ms", "redemption_quota", "redemption_window_ms")
# How long a concurrency lease lives: past the API's 29 s limit, so only a dead holder's lease expires.
LEASE_SECONDS = 35


class LimitRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    # ------------------------------------------------------------------ quota windows
    def count_request(self, store_hash: str, window_start_ms: int, expires_at: int, lane: str = "") -> int:
        """Count one request in the store's window of its lane; returns the window's count so far."""
        result = self._table.resource.update_item(
            Key=quota_window_key(store_hash, window_start_ms, lane),
            UpdateExpression="ADD requests :one SET expires_at = :expires",
            ExpressionAttributeValues={":one": 1, ":expires": expires_at},
            ReturnValues="UPDATED_NEW",
        )
        return int(result["Attributes"]["requests"])

    def store_limits(self, store_hash: str) -> dict[str, int]:
        """The store's own quota settings, if an operator set any (`couponmint stores limits`)."""
        item = self._table.get(store_limits_key(store_hash)) or {}
        return {k: int(v) for k, v in item.items() if k in LIMIT_SETTINGS}

    def set_store_limits(
        self,
        store_hash: str,
        request_quota: int | None = None,
        window_ms: int | None = None,
        *,
        redemption_quota: int | None = None,
        redemption_window_ms: int | None = None,
    ) -> None:
        """Set the given settings, keeping the others."""
        given = {
            name: value
            for name, value in zip(
                LIMIT_SETTINGS, (request_quota, window_ms, redemption_quota, redemption_window_ms), strict=True
            )
            if value is not None
        }
        if given:
            self._table.resource.update_item(
                Key=store_limits_key(store_hash),
                UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name in given),
                ExpressionAttributeValues={f":{name}": value for name, value in given.items()},
            )

    # ------------------------------------------------------------------ concurrency leases
    def take_lease(self, store_hash: str, kind: str, holder: str, now_ms: int, slots: int) -> bool:
        """Take one of `slots` concurrency leases of the store for LEASE_SECONDS; False when all are held.

        The leases are one map per store and kind, so taking and giving back are one write each; a lease
        whose holder died without giving it back is dropped once it has expired.
        """
        key = leases_key(store_hash, kind)
        expires_ms = now_ms + LEASE_SECONDS * 1000
        for _ in range(2):
            try:
                self._table.resource.update_item(
                    Key=key,
                    UpdateExpression="SET leases.#holder = :expires",
                    ConditionExpression="size(leases) < :slots",
                    ExpressionAttributeNames={"#holder": holder},
                    ExpressionAttributeValues={":expires": expires_ms, ":slots": slots},
                )
                return True
            except ClientError as error:
                code = error.response["Error"]["Code"]
                refused = is_condition_failure(error)
                if code == "ValidationException" or (refused and self._table.get(key, consistent=True) is None):
                    # The lease map does not exist yet: create it (once, whoever wins) and try again.
                    self._table.put_new({**key, "leases": {}})
                    continue
                if not refused:
                    raise
                if not self._drop_expired_leases(key, now_ms):
                    return False
        return False

    def give_back_lease(self, store_hash: str, kind: str, holder: str) -> None:
        self._table.resource.update_item(
            Key=leases_key(store_hash, kind),
            UpdateExpression="REMOVE leases.#holder",
            ExpressionAttributeNames={"#holder": holder},
        )

    def _drop_expired_leases(self, key: Key, now_ms: int) -> bool:
        """Remove leases whose holder died (expired); True when any was removed."""
        leases = (self._table.get(key, consistent=True) or {}).get("leases", {})
        dropped = False
        for holder, expires in leases.items():
            if int(expires) >= now_ms:
                continue
            # Whether it removes the lease or finds that someone else removed or renewed it: worth another try.
            self._table.update_if(
                key,
                UpdateExpression="REMOVE leases.#holder",
                ConditionExpression="leases.#holder = :expires",
                ExpressionAttributeNames={"#holder": holder},
                ExpressionAttributeValues={":expires": expires},
            )
            dropped = True
        return dropped
