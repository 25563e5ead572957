"""Code formats: make the codes of a `CodeLayout`, check a typed code's check character, size the format.

This module is the one the rest of couponmint calls for formats (charset, pattern, check_character, the word
filter); the pieces live beside it: code_layout (what a format is, validation), check_character (the check
symbol's arithmetic), wordfilter (the blocklist), lookalikes (reading typed codes).

The kernel, `make_formatted_codes`, works like codes.make_codes (see its docstring): lines of one layout
buffer, filled column by column from `os.urandom` through `bytes.translate`, then one decode and one split.
It adds, still without Python code per character:

- the check column, computed for all lines at once (check_character.check_column);
- the word filter over the finished buffer (wordfilter.flagged_lines);
- rejection: a line whose check value has no symbol, or whose text holds a listed word, is not issued. Enough
  lines are drawn for the share expected to remain, and each batch's rejected ones are dropped as it is made,
  by `itertools.compress`.
  Rejecting and drawing afresh keeps every issued code uniform over the codes the format may issue, as
  rejection sampling does.

It works on batches of lines of about 64 KB, so the big-integer and regex passes stay in the CPU's cache. A
million codes of 16 random characters take about twice as long as make_codes with both the check character and
the word filter (most of the extra is the filter's regex scan and the passes that build its input; see
docs/formats.md, "Where the time goes"); without either it is as fast as make_codes.
"""

import itertools
import math
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from couponmint.logic import check_character, wordfilter
from couponmint.logic.code_layout import CodeLayout
from couponmint.logic.codes import MAX_FILL_RATIO, _random_characters
from couponmint.logic.lookalikes import normalise_typed

_LINE_END = b"\n"
# Check column byte -> 1 when it is a symbol (the code may be issued), 0 for NO_SYMBOL.
_HAS_SYMBOL = bytes(0 if b == check_character.NO_SYMBOL else 1 for b in range(256))
_BATCH_BYTES = 1 << 16
# A format whose every candidate is rejected this many times in a row issues nothing (the capacity guard
# refuses such formats first; this only stops a loop that could not end).
_MAX_FRUITLESS_ROUNDS = 20


@dataclass(frozen=True)
class _Plan:
    line: bytes  # the template line: literals, placeholders, line end
    stride: int
    batch_lines: int
    literal_starts: frozenset[int]
    acceptance: float  # at most the share of candidates that may be issued (see format_space)


@lru_cache(maxsize=64)
def _plan(layout: CodeLayout) -> _Plan:
    line = layout.template.encode("ascii") + _LINE_END
    starts = wordfilter.literal_word_starts(layout.template, layout.free_columns) if layout.word_filter else None
    space = format_space(layout)
    # A floor, so that a format the filter (nearly) empties still draws in finite rounds until the guard below.
    acceptance = max(space.usable / space.possible, 0.01)
    return _Plan(line, len(line), max(1, _BATCH_BYTES // len(line)), starts or frozenset(), acceptance)


def _draw_batch(layout: CodeLayout, plan: _Plan, count: int) -> tuple[list[str], bytearray | None]:
    """`count` candidate codes, and which of them may be issued (1) or not (0); None when all may."""
    layout_buffer = bytearray(plan.line) * count
    columns = len(layout.random_columns)
    pool = _random_characters(layout.alphabet, count * columns)
    drawn = [pool[index * count : (index + 1) * count] for index in range(columns)]
    for column, characters in zip(layout.random_columns, drawn, strict=True):
        layout_buffer[column :: plan.stride] = characters
    issuable = None
    if layout.check_column is not None:
        checks = check_character.check_column(layout.alphabet, drawn, count)
        layout_buffer[layout.check_column :: plan.stride] = checks
        issuable = bytearray(checks.translate(_HAS_SYMBOL))
    if layout.word_filter:
        flagged = wordfilter.flagged_lines(layout_buffer, plan.stride, plan.literal_starts)
        if flagged:
            if issuable is None:
                issuable = bytearray(b"\x01") * count
            for line in flagged:
                issuable[line] = 0
    del layout_buffer[-1]
    return layout_buffer.decode("ascii").split(_LINE_END.decode()), issuable


def issuable_codes(layout: CodeLayout, count: int) -> list[str]:
    """`count` codes the format may issue (check symbol in the charset, no listed word), not yet distinct.

    Enough candidates are drawn up front for the expected share that may be issued (plus a margin); a short
    round draws again for the rest. Each batch's others are dropped as it is made, in C (`itertools.compress`
    over its mask), so no list of every candidate is built; the few extra codes of the last round are dropped
    too, which keeps every code uniform.
    """
    plan = _plan(layout)
    codes: list[str] = []
    fruitless = 0
    while len(codes) < count:
        missing = count - len(codes)
        wanted = int(missing / plan.acceptance + 3 * math.sqrt(missing * (1 - plan.acceptance))) + 1
        before = len(codes)
        for first in range(0, wanted, plan.batch_lines):
            batch, issuable = _draw_batch(layout, plan, min(plan.batch_lines, wanted - first))
            codes.extend(batch if issuable is None else itertools.compress(batch, issuable))
        fruitless = fruitless + 1 if len(codes) == before else 0
        if fruitless == _MAX_FRUITLESS_ROUNDS:
            raise ValueError("pattern: the word filter and check character leave no code of this format to issue")
    del codes[count:]
    return codes


def make_formatted_codes(layout: CodeLayout, count: int, avoid: Collection[str] = ()) -> list[str]:
    """`count` distinct codes of the layout, none of them in `avoid`; repeats are redrawn (as make_codes)."""
    if count <= 0:
        return []
    codes = issuable_codes(layout, count)
    distinct = set(codes)
    if len(distinct) == len(codes) and distinct.isdisjoint(avoid):
        return codes
    # Rare: a repeat or an avoided code. Keep the first copy of each usable code, in order, and redraw.
    kept = dict.fromkeys(code for code in codes if code not in avoid)
    while len(kept) < count:
        for code in issuable_codes(layout, count - len(kept)):
            if code not in avoid:
                kept.setdefault(code)
    return list(kept)


def random_part(text: str, layout: CodeLayout) -> str | None:
    """The random characters of `text` (already normalised), or None when it does not have the layout's shape:
    length, literal text, random characters in the alphabet."""
    if len(text) != len(layout.template):
        return None
    free = set(layout.free_columns)
    for column, (typed, expected) in enumerate(zip(text, layout.template, strict=True)):
        if column not in free and typed != expected:
            return None
    part = "".join(text[column] for column in layout.random_columns)
    return part if all(ch in layout.alphabet for ch in part) else None


def check_character_ok(code_text: str, layout: CodeLayout) -> bool:
    """False when a typed code cannot be a code of a layout with a check character: wrong shape or a failing
    check (one character changed, two adjacent ones swapped). Pure: call it before any storage read, and answer
    MALFORMED on False. Any case is accepted, and the unambiguous charset's look-alikes (O, I, L) are read.
    Always True for a layout without a check character (there is nothing to check; a hand-made code of any
    text stays valid)."""
    if layout.check_column is None:
        return True
    text = normalise_typed(code_text, layout)
    part = random_part(text, layout)
    return part is not None and check_character.check_holds(layout.alphabet, part, text[layout.check_column])


def literal_words(layout: CodeLayout) -> list[str]:
    """Listed words that the format's literal text spells by itself (every code will show them: the filter only
    keeps the random characters from adding words). For a request validator that wants to refuse or warn."""
    starts = wordfilter.literal_word_starts(layout.template, layout.free_columns)
    literal = "".join("." if column in layout.free_columns else ch for column, ch in enumerate(layout.template))
    return [word for start, word in wordfilter.words_in(literal) if start in starts]


@dataclass(frozen=True)
class FormatSpace:
    """How many codes a format can issue, and why."""

    alphabet_size: int
    random_characters: int
    possible: int  # alphabet_size ** random_characters
    with_check: int  # of those, the ones with a check symbol (all of them without a check character)
    filtered_share: float  # an upper bound on the share the word filter leaves out

    @property
    def usable(self) -> int:
        return int(self.with_check * (1 - self.filtered_share))


@lru_cache(maxsize=64)
def format_space(layout: CodeLayout) -> FormatSpace:
    """The format's real space: charset less exclusions, random characters, check character, words left out."""
    size, count = len(layout.alphabet), layout.random_count
    possible = size**count
    with_check = check_character.valid_parts(size, count) if layout.check_character else possible
    share = wordfilter.share_bound(layout.template, layout.free_columns, layout.alphabet) if layout.word_filter else 0
    return FormatSpace(size, count, possible, with_check, share)


def format_capacity_shortfall(layout: CodeLayout, existing: int, requested: int) -> str | None:
    """Why the format is too small for `existing + requested` codes (at most MAX_FILL_RATIO of its usable space
    may be in use, as codes.capacity_shortfall), or None when it is large enough."""
    space = format_space(layout)
    needed = existing + requested
    if needed <= space.usable * MAX_FILL_RATIO:
        return None
    fields = ["pattern" if layout.pattern else "code_length", "charset", "exclude_characters"]
    check = ""
    if layout.check_character:
        fields.append("check_character")
        check = f"; the check character keeps {space.with_check} of them"
    return (
        f"{', '.join(fields)}: too few possible codes to make the codes safely:"
        f" the {layout.charset} charset less exclude_characters leaves {space.alphabet_size} characters,"
        f" and {space.random_characters} random characters give {space.possible} possible codes{check};"
        f" the word filter leaves out at most {space.filtered_share:.2%}, so {space.usable} codes are usable;"
        f" the store holds {existing} and the request needs {requested} more,"
        f" but at most {MAX_FILL_RATIO:.0%} of the usable codes may be in use."
        " Allow more characters or more random characters."
    )
