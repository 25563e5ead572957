"""API tokens, stored only by the SHA-256 of the token.

Items: `TOKEN#<sha256>` / `TOKEN` (store, scopes, label, created). Each token is also listed in the sparse
`gsi2` under `TOKENS` (by creation time), so an operator's listing reads an index, never the whole table.
"""

from datetime import datetime

from couponmint.adapters.dynamo import Table, plain
from couponmint.adapters.keys import TOKENS, token_key, without_keys
from couponmint.models.records import TokenRecord


class TokenRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, token: TokenRecord) -> bool:
        """Store a new token; False when its hash exists already."""
        return self._table.put_new(
            {
                **token_key(token.token_hash),
                "gsi2pk": TOKENS,
                "gsi2sk": _millis(token.created),
                "store_hash": token.store_hash,
                "scopes": sorted(token.scopes),
                "label": token.label,
                "created": token.created.isoformat(),
            }
        )

    def get(self, token_hash: str) -> TokenRecord | None:
        item = self._table.get(token_key(token_hash))
        return _record(token_hash, item) if item is not None else None

    def delete(self, token_hash: str) -> bool:
        old = self._table.resource.delete_item(Key=token_key(token_hash), ReturnValues="ALL_OLD").get("Attributes")
        return old is not None

    def all(self) -> list[TokenRecord]:
        """Every token, oldest first (one query on gsi2)."""
        items = self._table.query_items(
            IndexName="gsi2", KeyConditionExpression="gsi2pk = :tokens", ExpressionAttributeValues={":tokens": TOKENS}
        )
        return [_record(item["pk"].removeprefix("TOKEN#"), item) for item in items]


def _record(token_hash: str, item: dict[str, object]) -> TokenRecord:
    return TokenRecord.model_validate({"token_hash": token_hash, **plain(without_keys(item))})


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
