"""Token lookups: a known token is read once per 10 s, an unknown one once per 2 s, per process."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from couponmint.errors import Unauthenticated
from couponmint.models.records import Scope, TokenRecord
from couponmint.service import accounts


@dataclass
class CountingTokens:
    records: dict[str, TokenRecord] = field(default_factory=dict)
    reads: int = 0

    def put(self, token: TokenRecord) -> bool:
        self.records[token.token_hash] = token
        return True

    def get(self, token_hash: str) -> TokenRecord | None:
        self.reads += 1
        return self.records.get(token_hash)


def test_authorize_reads_an_unknown_token_once_per_two_seconds() -> None:
    # Given a token nobody created, tried again and again
    tokens, now = CountingTokens(), [1000.0]
    for _ in range(50):
        with pytest.raises(Unauthenticated):
            accounts.authorize(tokens, "cm_unknown-a", "s", modifies=False, clock=lambda: now[0])
    # Then the table was read once; after two seconds, once more
    assert tokens.reads == 1
    now[0] += accounts.UNKNOWN_TOKEN_CACHE_SECONDS + 0.1
    with pytest.raises(Unauthenticated):
        accounts.authorize(tokens, "cm_unknown-a", "s", modifies=False, clock=lambda: now[0])
    assert tokens.reads == 2


def test_authorize_accepts_a_token_created_after_it_was_tried_within_two_seconds() -> None:
    # Given a token tried before it existed
    tokens, now = CountingTokens(), [2000.0]
    with pytest.raises(Unauthenticated):
        accounts.authorize(tokens, "cm_late-b", "s", modifies=False, clock=lambda: now[0])
    record = TokenRecord(
        token_hash=accounts.hash_token("cm_late-b"),
        store_hash="s",
        scopes=frozenset({Scope.MODIFY}),
        created=datetime.now(UTC),
    )
    tokens.put(record)
    # When it is used again after the unknown-token time
    now[0] += accounts.UNKNOWN_TOKEN_CACHE_SECONDS + 0.1
    # Then it works, and is then read only once per ten seconds
    assert accounts.authorize(tokens, "cm_late-b", "s", modifies=True, clock=lambda: now[0]) == record
    reads = tokens.reads
    for _ in range(20):
        accounts.authorize(tokens, "cm_late-b", "s", modifies=True, clock=lambda: now[0])
    assert tokens.reads == reads
