"""What a code looks like: charsets, patterns, and the one `CodeLayout` that every format maps to.

BigCommerce's fields (prefix, delimiter, code_length, suffix) and couponmint's `pattern` both describe literal
text around runs of random characters, so both become a `CodeLayout`: literal pieces, the random runs' lengths,
the alphabet (a charset less exclusions), and whether a check character follows the last random character.
Everything downstream (the kernel, validation, capacity, look-alike reading) takes a layout, so there is one
path whatever the request said.

The validation functions raise `ValueError` with a message that starts with the field it is about
(`pattern: ...`, `charset: ...`), ready to be a pydantic validator's error and a 422.
"""

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from couponmint.logic import check_character
from couponmint.logic.codes import BASE_ALPHABET, MAX_CODE_LENGTH

CHARSETS = {
    "alphanumeric": BASE_ALPHABET,  # BigCommerce's, in the order the existing kernel uses
    "unambiguous": "0123456789ABCDEFGHJKMNPQRSTVWXYZ",  # Crockford's base 32: no I, L, O, U
    "numeric": string.digits,
    "alphabetic": string.ascii_uppercase,
}
DEFAULT_CHARSET = "alphanumeric"
# Fewer than 2 characters make one code per format; the capacity guard would refuse it anyway.
MIN_ALPHABET = 2
LITERAL_CHARACTERS = frozenset(string.ascii_uppercase + string.digits + "_-")
RANDOM_MARK = "#"
PATTERN_LENGTH = (1, 50)
PATTERN_RANDOM = (4, 32)
_RUNS = re.compile(re.escape(RANDOM_MARK) + "+")


@dataclass(frozen=True)
class CodeLayout:
    """A code format: pieces[0] run[0] pieces[1] ... run[-1] [check character] pieces[-1].

    `pieces` holds the literal text around the random runs (one more piece than runs, possibly empty);
    `pattern` is the request's pattern when there was one (for messages), None for BigCommerce's fields.
    """

    pieces: tuple[str, ...]
    runs: tuple[int, ...]
    alphabet: str
    check_character: bool = False
    charset: str = DEFAULT_CHARSET
    word_filter: bool = True
    pattern: str | None = None

    def __post_init__(self) -> None:
        if len(self.pieces) != len(self.runs) + 1 or not self.runs or min(self.runs) < 1:
            raise ValueError("a layout needs one or more random runs, with literal pieces around them")
        symbols = set(self.alphabet)
        if len(symbols) < MIN_ALPHABET or len(symbols) != len(self.alphabet) or symbols - set(BASE_ALPHABET):
            raise ValueError("a layout's alphabet needs at least 2 distinct characters of A-Z 0-9")
        if set("".join(self.pieces)) - LITERAL_CHARACTERS:
            raise ValueError("a layout's literal text may only use A-Z 0-9 _ -")

    @cached_property
    def template(self) -> str:
        """The code text with `#` wherever a random or the check character goes."""
        parts = [self.pieces[0]]
        for index, run in enumerate(self.runs):
            last = index == len(self.runs) - 1
            parts.append(RANDOM_MARK * (run + (1 if last and self.check_character else 0)))
            parts.append(self.pieces[index + 1])
        return "".join(parts)

    @cached_property
    def random_columns(self) -> tuple[int, ...]:
        """Where the random characters are in the code text, in order (the check character excluded)."""
        marks = [column for column, ch in enumerate(self.template) if ch == RANDOM_MARK]
        return tuple(marks[:-1] if self.check_character else marks)

    @property
    def check_column(self) -> int | None:
        """Where the check character is: right after the last random character."""
        return self.random_columns[-1] + 1 if self.check_character else None

    @property
    def free_columns(self) -> tuple[int, ...]:
        """The columns the generator chooses: the random characters and the check character."""
        check = self.check_column
        return self.random_columns if check is None else (*self.random_columns, check)

    @property
    def length(self) -> int:
        return len(self.template)

    @property
    def random_count(self) -> int:
        return sum(self.runs)


def charset_alphabet(charset: str | None = None, exclude_characters: Iterable[str] = ()) -> str:
    """The allowed characters: the charset's symbols, in the charset's order, less `exclude_characters`."""
    name = DEFAULT_CHARSET if charset is None else charset
    if name not in CHARSETS:
        raise ValueError(f"charset: must be one of {', '.join(CHARSETS)}; got {name!r}")
    excluded = set(exclude_characters)
    strange = sorted(ch for ch in excluded if len(ch) != 1 or ch not in BASE_ALPHABET)
    if strange:
        raise ValueError(f"exclude_characters: each must be one character of A-Z 0-9; got {strange}")
    symbols = CHARSETS[name]
    alphabet = "".join(ch for ch in symbols if ch not in excluded)
    if len(alphabet) < MIN_ALPHABET:
        raise ValueError(
            f"exclude_characters: leaves {len(alphabet)} of the {name} charset's {len(symbols)} characters;"
            f" at least {MIN_ALPHABET} must remain"
        )
    return alphabet


def validate_charset(charset: str) -> str:
    """`charset` if it names a charset (for a pydantic field validator)."""
    charset_alphabet(charset)
    return charset


def validate_pattern(pattern: str) -> str:
    """`pattern` if it is one: 1-50 characters of `#` and A-Z 0-9 _ -, with 4-32 `#`."""
    low, high = PATTERN_LENGTH
    if not low <= len(pattern) <= high:
        raise ValueError(f"pattern: is {len(pattern)} characters long; {low} to {high} are allowed")
    strange = sorted(set(pattern) - LITERAL_CHARACTERS - {RANDOM_MARK})
    if strange:
        raise ValueError(
            f"pattern: {''.join(strange)!r} not allowed; use {RANDOM_MARK} for a random character"
            " and A-Z 0-9 _ - for literal text"
        )
    fewest, most = PATTERN_RANDOM
    randoms = pattern.count(RANDOM_MARK)
    if not fewest <= randoms <= most:
        raise ValueError(f"pattern: has {randoms} {RANDOM_MARK} (random characters); {fewest} to {most} are needed")
    return pattern


def parse_pattern(pattern: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """A valid pattern's literal pieces and random runs: `"XMAS-####-##"` -> `("XMAS-", "-", ""), (4, 2)`."""
    validate_pattern(pattern)
    return tuple(_RUNS.split(pattern)), tuple(len(run) for run in _RUNS.findall(pattern))


def _checked(layout: CodeLayout, field: str) -> CodeLayout:
    """The layout, if a check character fits it (alphabet size, total length)."""
    if layout.check_character:
        reason = check_character.refusal(len(layout.alphabet))
        if reason:
            raise ValueError(reason)
    if layout.length > MAX_CODE_LENGTH:
        with_check = " with the check character" if layout.check_character else ""
        raise ValueError(
            f"{field}: the code is {layout.length} characters long{with_check}; at most {MAX_CODE_LENGTH} are allowed"
        )
    return layout


def layout_from_pattern(
    pattern: str,
    charset: str | None = None,
    exclude_characters: Iterable[str] = (),
    check_character: bool = False,
    word_filter: bool = True,
) -> CodeLayout:
    """The layout of a `pattern` request."""
    pieces, runs = parse_pattern(pattern)
    alphabet = charset_alphabet(charset, exclude_characters)
    name = charset or DEFAULT_CHARSET
    layout = CodeLayout(pieces, runs, alphabet, check_character, name, word_filter, pattern)
    return _checked(layout, "pattern")


def layout_from_fields(
    prefix: str | None = None,
    suffix: str | None = None,
    delimiter: str | None = None,
    code_length: int = 16,
    charset: str | None = None,
    exclude_characters: Iterable[str] = (),
    check_character: bool = False,
    word_filter: bool = True,
) -> CodeLayout:
    """The layout of BigCommerce's fields: `prefix` `delimiter` random `delimiter` `suffix` (the delimiter only
    next to a prefix or suffix that is there, as models.codegen.CodeFormat builds head and tail)."""
    for field, value in (("prefix", prefix), ("suffix", suffix), ("delimiter", delimiter)):
        if value is not None and (not value or set(value) - LITERAL_CHARACTERS):
            raise ValueError(f"{field}: may only use A-Z 0-9 _ -")
    if code_length < 1:
        raise ValueError("code_length: must be at least 1")
    head = f"{prefix}{delimiter or ''}" if prefix else ""
    tail = f"{delimiter or ''}{suffix}" if suffix else ""
    alphabet = charset_alphabet(charset, exclude_characters)
    layout = CodeLayout(
        (head, tail), (code_length,), alphabet, check_character, charset or DEFAULT_CHARSET, word_filter
    )
    return _checked(layout, "check_character" if check_character else "code_length")


def code_layout(
    *,
    pattern: str | None = None,
    prefix: str | None = None,
    suffix: str | None = None,
    delimiter: str | None = None,
    code_length: int | None = None,
    charset: str | None = None,
    exclude_characters: Iterable[str] = (),
    check_character: bool = False,
) -> CodeLayout:
    """The layout of a request, whichever way it describes the format (`code_length` None means the default).

    With `pattern`, the fields it replaces (prefix, suffix, delimiter, code_length) are refused.
    """
    if pattern is None:
        length = 16 if code_length is None else code_length
        return layout_from_fields(prefix, suffix, delimiter, length, charset, exclude_characters, check_character)
    replaced = {"prefix": prefix, "suffix": suffix, "delimiter": delimiter, "code_length": code_length}
    given = [name for name, value in replaced.items() if value is not None]
    if given:
        raise ValueError(f"pattern: cannot be combined with {', '.join(given)}; the pattern says the whole format")
    return layout_from_pattern(pattern, charset, exclude_characters, check_character)
