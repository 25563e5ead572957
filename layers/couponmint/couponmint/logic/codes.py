"""The code kernel: unguessable, uniformly random code text, fast.

Random bytes come from the operating system's CSPRNG (`os.urandom`). Each byte is mapped to a character
by rejection sampling: with k allowed characters, bytes below the largest multiple of k that fits in 256
map to `alphabet[b % k]` (each character equally often), and the few bytes above it are dropped, so there
is no modulo bias. The mapping runs in C through `bytes.translate`, which is what makes a million codes a
fraction of a second.
"""

import os
import string
from collections.abc import Collection, Iterable

BASE_ALPHABET = string.ascii_uppercase + string.digits
MAX_CODE_LENGTH = 50
# A format may fill at most this share of its space: a guess then hits a live code with probability at
# most 1 %, and a fresh candidate collides with at most that probability, so replacement never spins.
MAX_FILL_RATIO = 0.01


def alphabet_without(excluded: Iterable[str]) -> str:
    """The allowed characters, in a fixed order: A-Z 0-9 less `excluded`."""
    drop = set(excluded)
    return "".join(ch for ch in BASE_ALPHABET if ch not in drop)


def _translation(alphabet: str) -> tuple[bytes, bytes]:
    """A 256-entry byte table and the bytes to delete, for unbiased rejection sampling."""
    size = len(alphabet)
    accepted = 256 - 256 % size
    table = bytes(ord(alphabet[b % size]) if b < accepted else 0 for b in range(256))
    return table, bytes(range(accepted, 256))


def random_text(alphabet: str, length: int) -> str:
    """`length` characters drawn uniformly and independently from `alphabet`."""
    if not alphabet:
        raise ValueError("alphabet is empty")
    table, rejected = _translation(alphabet)
    out = bytearray()
    while len(out) < length:
        missing = length - len(out)
        # Ask for a little more than needed so one round almost always suffices.
        chunk = os.urandom(missing + missing * len(rejected) // 200 + 16)
        out += chunk.translate(table, rejected)
    return out[:length].decode("ascii")


def random_parts(alphabet: str, length: int, count: int) -> list[str]:
    """`count` random parts of `length` characters each (not yet de-duplicated)."""
    text = random_text(alphabet, length * count)
    return [text[i : i + length] for i in range(0, length * count, length)]


def make_codes(
    alphabet: str, length: int, count: int, head: str = "", tail: str = "", avoid: Collection[str] = ()
) -> list[str]:
    """`count` distinct codes `head + random + tail`, none of them in `avoid`; repeats are redrawn."""
    codes: dict[str, None] = {}
    while len(codes) < count:
        for part in random_parts(alphabet, length, count - len(codes)):
            code = f"{head}{part}{tail}"
            if code not in avoid:
                codes[code] = None
    return list(codes)


def code_space(alphabet_size: int, length: int) -> int:
    """How many distinct random parts a format can make."""
    return alphabet_size**length


def capacity_shortfall(alphabet_size: int, length: int, existing: int, requested: int) -> str | None:
    """Why a format is too small for `existing + requested` codes, or None when it is large enough."""
    space = code_space(alphabet_size, length)
    needed = existing + requested
    if needed <= space * MAX_FILL_RATIO:
        return None
    return (
        "code_length, exclude_characters: too few characters remain to make the codes safely:"
        f" {alphabet_size} allowed characters and code_length {length} give {space} possible codes;"
        f" the store holds {existing} and the request needs {requested} more,"
        f" but at most {MAX_FILL_RATIO:.0%} of the possible codes may be in use."
        " Allow more characters or a longer code_length."
    )
