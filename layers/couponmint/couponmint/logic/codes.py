"""The code kernel: unguessable, uniformly random code text, fast.

Random bytes come from the operating system's CSPRNG (`os.urandom`). Each byte is mapped to a character
by rejection sampling: with k allowed characters, bytes below the largest multiple of k that fits in 256
map to `alphabet[b % k]` (each character equally often), and the few bytes above it are dropped, so there
is no modulo bias.

Why a million 16-character codes take about 0.3 s in one Python process: on the fast path no Python code
runs per character, and none per code either; C does all of it.

- `bytes.translate` maps and rejects the bytes of an `os.urandom` draw in C.
- The codes are laid out as the lines of one buffer: a template `head + random part + tail + "\\n"` repeated
  `count` times (bytes repetition, a memcpy). Each character position of the random part is then one column
  of the buffer, filled by one draw of `count` characters and one strided slice assignment
  (`layout[offset::stride] = ...`, C again). Filling column by column is as random as code by code: every
  character is an independent uniform draw either way. A column's draw is small (1 MB for a million codes),
  so it stays in cache and the process never holds all the random bytes at once.
- One `decode` and one `split` turn the buffer into the list of codes: C makes the string objects, with no
  per-code slicing, f-string or call in Python. The prefix and suffix cost nothing per code.
- Distinctness is checked with one `set` over the list, the fast path that almost always holds; only when a
  code repeats or is in `avoid` does the slow path rebuild the list without them and draw replacements.
"""

import os
import string
from collections.abc import Collection, Iterable
from functools import lru_cache

BASE_ALPHABET = string.ascii_uppercase + string.digits
MAX_CODE_LENGTH = 50
# A format may fill at most this share of its space: a guess then hits a live code with probability at
# most 1 %, and a fresh candidate collides with at most that probability, so replacement never spins.
MAX_FILL_RATIO = 0.01
# Ends each code's line in the layout buffer; no alphabet, prefix or suffix may contain it.
_LINE_END = "\n"


def alphabet_without(excluded: Iterable[str]) -> str:
    """The allowed characters, in a fixed order: A-Z 0-9 less `excluded`."""
    drop = set(excluded)
    return "".join(ch for ch in BASE_ALPHABET if ch not in drop)


@lru_cache(maxsize=64)
def _translation(alphabet: str) -> tuple[bytes, bytes]:
    """A 256-entry byte table and the bytes to delete, for unbiased rejection sampling."""
    size = len(alphabet)
    accepted = 256 - 256 % size
    table = bytes(ord(alphabet[b % size]) if b < accepted else 0 for b in range(256))
    return table, bytes(range(accepted, 256))


def _random_characters(alphabet: str, length: int) -> bytes:
    """`length` ASCII bytes drawn uniformly and independently from `alphabet`."""
    if not alphabet:
        raise ValueError("alphabet is empty")
    table, rejected = _translation(alphabet)
    out = b""
    while len(out) < length:
        missing = length - len(out)
        # Ask for a little more than the expected rejections so one round almost always suffices.
        chunk = os.urandom(missing + missing * len(rejected) // 200 + 16)
        out += chunk.translate(table, rejected)
    return out[:length]


def random_text(alphabet: str, length: int) -> str:
    """`length` characters drawn uniformly and independently from `alphabet`."""
    return _random_characters(alphabet, length).decode("ascii")


def _draw_codes(alphabet: str, length: int, count: int, head: str, tail: str) -> list[str]:
    """`count` codes `head + random + tail`, not yet checked for repeats (see the module docstring)."""
    if count <= 0:
        return []
    if _LINE_END in alphabet or _LINE_END in head or _LINE_END in tail:
        raise ValueError("codes cannot contain a line break")
    prefix, suffix = head.encode(), tail.encode()
    stride = len(prefix) + length + len(suffix) + 1
    layout = bytearray(prefix + bytes(length) + suffix + _LINE_END.encode()) * count
    for column in range(len(prefix), len(prefix) + length):
        layout[column::stride] = _random_characters(alphabet, count)
    del layout[-1]  # the last line end, so that split() gives exactly `count` codes
    return layout.decode().split(_LINE_END)


def random_parts(alphabet: str, length: int, count: int) -> list[str]:
    """`count` random parts of `length` characters each (not yet de-duplicated)."""
    return _draw_codes(alphabet, length, count, "", "")


def make_codes(
    alphabet: str, length: int, count: int, head: str = "", tail: str = "", avoid: Collection[str] = ()
) -> list[str]:
    """`count` distinct codes `head + random + tail`, none of them in `avoid`; repeats are redrawn."""
    codes = _draw_codes(alphabet, length, count, head, tail)
    distinct = set(codes)
    if len(distinct) == len(codes) and distinct.isdisjoint(avoid):
        return codes
    # Rare: a repeat or an avoided code. Keep the first copy of each usable code, in order, and redraw.
    kept = dict.fromkeys(code for code in codes if code not in avoid)
    while len(kept) < count:
        for code in _draw_codes(alphabet, length, count - len(kept), head, tail):
            if code not in avoid:
                kept.setdefault(code)
    return list(kept)


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
