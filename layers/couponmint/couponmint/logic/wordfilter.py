"""The word filter: no code couponmint issues contains a blocklist word, read through look-alikes.

A code is read the way a person reads it: letters as they are, the digits 0 1 3 4 5 7 8 as O I E A S T B, every
other character (2 6 9 - _) as a break that no word spans. The whole printed text is read, literals included, so
a word made of a prefix's last letters and the random part's first ones counts too; only a word lying wholly in
the literal text is not the generator's doing (the merchant chose it) and is ignored. The list (blocklist.txt)
is minimal: no word contains another, so at most one word can start at a given position.

Speed: a million 16-character codes are 17 MB of text, and Python's `re` spends ~80 ns a position on the words
even as a trie-shaped alternation (1.4 s), because every position starts a match attempt: too slow. Instead,
per batch of codes laid out as lines of one buffer (~8 ns a position, 0.3 s a million codes):

1. One `bytes.translate` maps the buffer to letter ids (breaks 0, A..Z 1..26), read as one big integer.
2. Big-integer shifts, masks and ors (lane-wise: no carry crosses a byte) pack each position's trigram (its
   letter and the next two) into 15 bits split over two bytes, and the buffer is decoded as UTF-16 twice, once
   per parity: every position becomes one character that names its trigram exactly.
3. One regex whose first item is a single character class (so `re` skips non-candidates in a tight C loop)
   finds the positions whose trigram is a whole 3-letter word, or the start of a longer word followed (two
   positions on) by a trigram that continues one. Only those few positions reach Python; a 3-letter word is a
   hit at once, a longer candidate is confirmed by the exact word regex on its line.
"""

import codecs
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

LOOKALIKES = {"0": "O", "1": "I", "3": "E", "4": "A", "5": "S", "7": "T", "8": "B"}
_BREAK = "."
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_GROUPS = 8


def _read(ch: str) -> str:
    ch = LOOKALIKES.get(ch, ch)
    return ch if ch in _LETTERS else _BREAK


# Byte -> the letter it reads as, or the break; and byte -> that letter's id (break 0, A 1 .. Z 26).
READING = bytes(ord(_read(chr(b))) for b in range(256))
_IDS = bytes(0 if _read(chr(b)) == _BREAK else ord(_read(chr(b))) - 64 for b in range(256))


def reading(text: str) -> str:
    """The text as a person reads it (upper case, look-alike digits as letters, anything else a break)."""
    return text.upper().encode("ascii", "replace").translate(READING).decode("ascii")


@lru_cache(maxsize=1)
def blocklist() -> tuple[str, ...]:
    """The listed words (see the header of blocklist.txt for their source and how they were derived)."""
    text = resources.files(__package__).joinpath("blocklist.txt").read_text(encoding="ascii")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


type _Trie = dict[str, _Trie]


def _trie_pattern(sequences: Iterable[Sequence[str]]) -> str:
    """One regex alternation of the sequences (each item a regex atom), sharing common prefixes."""
    trie: _Trie = {}
    for sequence in sequences:
        node = trie
        for atom in sequence:
            node = node.setdefault(atom, {})
        node[""] = {}

    def emit(node: _Trie) -> str:
        if "" in node:  # a whole word: anything longer contains it
            return ""
        branches = [atom + emit(child) for atom, child in node.items()]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(trie)


def _trigram(first: int, second: int, third: int) -> str:
    """The character step 2 of the module docstring makes for a trigram of letter ids."""
    return chr(first | (third & 7) << 5 | (second | (third >> 3) << 5) << 8)


def _class(chars: Iterable[str]) -> str:
    return "[" + "".join(re.escape(ch) for ch in sorted(set(chars))) + "]"


@dataclass(frozen=True)
class _Matchers:
    exact: re.Pattern[bytes]  # every listed word, over READING bytes
    candidates: re.Pattern[str]  # over trigram characters; group 1 takes part when a longer word must be confirmed


def _follows(word: Sequence[int]) -> set[str]:
    """The trigram characters two positions into a word: its letters 3-5 (any third one for a 4-letter word)."""
    if len(word) == 4:
        return {_trigram(word[2], word[3], after) for after in range(27)}
    return {_trigram(*word[2:5])}


@lru_cache(maxsize=1)
def _matchers() -> _Matchers:
    words = blocklist()
    exact = re.compile(_trie_pattern([re.escape(ch) for ch in word] for word in words).encode("ascii"))
    ids = [[ord(ch) - 64 for ch in word] for word in words]
    whole = {_trigram(*word) for word in ids if len(word) == 3}
    longer = [word for word in ids if len(word) > 3]
    # A longer word's candidate: its first trigram here and its next one two positions on (the next character
    # of the same string). Pairing them in a few groups of words, rather than all at once, keeps other words'
    # continuations from making candidates that the exact regex then has to turn down.
    groups = [[word for word in longer if (7 * word[0] + word[1]) % _GROUPS == group] for group in range(_GROUPS)]
    pairs = "|".join(
        _class(set().union(*(_follows(word) for word in group)))
        + "(?<="
        + _class(_trigram(*word[:3]) for word in group)
        + ".)"
        for group in groups
        if group
    )
    starts = {_trigram(*word[:3]) for word in longer}
    # Most longer-word starts are followed by no word's continuation: one class of them all turns those down
    # before the groups are tried one by one.
    follows = _class(set().union(*(_follows(word) for word in longer)))
    # The first item is one character class, so re's search skips to candidates in C; lookarounds keep each
    # match one character long, so that no candidate hides another. The empty group marks a longer word's
    # candidate (to be confirmed), so a whole word's hit needs no look at the matched character.
    pattern = _class(whole | starts) + "(?:(?<=" + _class(whole) + ")|(?=" + follows + ")(?=" + pairs + ")())"
    return _Matchers(exact, re.compile(pattern))


def words_in(text: str) -> list[tuple[int, str]]:
    """Every listed word in the reading of `text`, with its position (overlapping words included)."""
    read = reading(text).encode("ascii")
    exact = _matchers().exact
    found = []
    for start in range(len(read)):
        match = exact.match(read, start)
        if match:
            found.append((start, match.group().decode("ascii")))
    return found


def literal_word_starts(template: str, free_columns: Iterable[int]) -> frozenset[int]:
    """Where a word lies wholly in a format's literal text (`template` with its free columns read as breaks)."""
    free = set(free_columns)
    literal = "".join(_BREAK if column in free else ch for column, ch in enumerate(template))
    return frozenset(start for start, _ in words_in(literal))


@lru_cache(maxsize=8)
def _masks(size: int) -> tuple[int, int, int, int]:
    """Bits 5-7 at even and odd lanes, bits 5-6 at even and odd lanes."""
    return (
        int.from_bytes(b"\xe0\x00" * (size // 2 + 1), "little"),
        int.from_bytes(b"\x00\xe0" * (size // 2 + 1), "little"),
        int.from_bytes(b"\x60\x00" * (size // 2 + 1), "little"),
        int.from_bytes(b"\x00\x60" * (size // 2 + 1), "little"),
    )


def _line_reading(layout: bytearray, line: int, stride: int) -> bytes:
    return bytes(layout[line * stride : (line + 1) * stride]).translate(READING)


def flagged_lines(layout: bytearray, stride: int, literal_starts: frozenset[int] = frozenset()) -> set[int]:
    """The lines of `layout` (each `stride` bytes, line end included) whose text holds a listed word that is
    not wholly literal (`literal_starts`: the columns where a literal word starts, see literal_word_starts)."""
    matchers = _matchers()
    candidates, exact = matchers.candidates, matchers.exact
    size = len(layout)
    third_even, third_odd, high_even, high_odd = _masks(size)
    ids = int.from_bytes(layout.translate(_IDS), "little")
    # Lane i of `third`: the low 3 bits of id_{i+2} in bits 5-7; of `high`: bits 3-4 of id_{i+1} in bits 5-6.
    third, high = ids >> 11, ids >> 6
    flagged: set[int] = set()
    # In each parity's lanes: the ids plus the third letter's low bits (the low byte of the trigram starting
    # there); in the other lanes: the ids plus the next letter's high bits (the high byte of the one before).
    for parity, lanes in (
        (0, ids | third & third_even | high & high_odd),
        (1, ids | third & third_odd | high & high_even),
    ):
        packed = memoryview(lanes.to_bytes(size + 2, "little"))[parity : parity + 2 * ((size - parity + 1) // 2)]
        for match in candidates.finditer(codecs.utf_16_le_decode(packed)[0]):
            line, column = divmod(2 * match.start() + parity, stride)
            if line in flagged or column in literal_starts:
                continue
            # A whole 3-letter word is a hit as it is; a longer word's candidate is confirmed on its line.
            if match.lastindex is None or exact.match(_line_reading(layout, line, stride), column):
                flagged.add(line)
    return flagged


def share_bound(template: str, free_columns: Iterable[int], alphabet: str) -> float:
    """An upper bound on the share of codes the filter leaves out (the union bound over every word at every
    position that touches a free column, each free character uniform over `alphabet`; the check character is
    treated as uniform too, which it nearly is)."""
    return _share_bound(template, tuple(sorted(set(free_columns))), alphabet)


@lru_cache(maxsize=64)
def _share_bound(template: str, free_columns: tuple[int, ...], alphabet: str) -> float:
    readings = [_read(ch) for ch in alphabet]
    uniform = {letter: readings.count(letter) / len(alphabet) for letter in set(readings)}
    odds: list[dict[str, float]] = [
        uniform if column in free_columns else {_read(ch): 1.0} for column, ch in enumerate(template)
    ]
    total = 0.0
    for word in blocklist():
        for start in range(len(template) - len(word) + 1):
            if not any(start <= column < start + len(word) for column in free_columns):
                continue
            chance = 1.0
            for offset, letter in enumerate(word):
                chance *= odds[start + offset].get(letter, 0.0)
                if not chance:
                    break
            total += chance
    return min(total, 1.0)
