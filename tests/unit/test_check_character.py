"""The check character: exhaustive proof that every single substitution and every adjacent transposition is caught,
for every charset and for alphabets that exclusions shrank to prime and non-prime sizes."""

import itertools
import operator
import random

import pytest

from couponmint.logic import check_character
from couponmint.logic.code_layout import CHARSETS, CodeLayout, charset_alphabet
from couponmint.logic.formats import check_character_ok, make_formatted_codes

# (charset, excluded, random characters): every charset at full size, and shrunk alphabets of sizes 3, 4, 5, 8, 23,
# 29, 30 and 31 (p = n for the primes, p > n for the others).
ALPHABETS = [
    *((name, "", 16) for name in CHARSETS),
    ("numeric", "0123456", 8),
    ("numeric", "012345", 8),
    ("numeric", "01234", 8),
    ("numeric", "01", 8),
    ("alphabetic", "XYZ", 8),
    ("alphanumeric", "ABCDEFG", 8),
    ("alphanumeric", "AEIOU0", 8),
    ("unambiguous", "0", 8),
]


def layout_of(charset: str, excluded: str, random_count: int) -> CodeLayout:
    # Literals around and inside the random part: they must not take part in the check.
    half = random_count // 2
    alphabet = charset_alphabet(charset, excluded)
    return CodeLayout(("X-", "-", "-Y"), (half, random_count - half), alphabet, True, charset, word_filter=False)


def holds(alphabet: str, free: str) -> bool:
    """Whether random characters followed by their check character pass."""
    return check_character.check_holds(alphabet, free[:-1], free[-1])


class Completer:
    """Valid random characters plus check character (index k) that hold given symbols at given indices.

    The other characters come from one random draw; one of them is solved for so that the check comes out
    (the first whose solution has a symbol), which is far quicker than drawing until a code fits."""

    def __init__(self, alphabet: str, random_count: int, rng: random.Random) -> None:
        self.alphabet, self.k = alphabet, random_count
        self.modulus = check_character.check_modulus(len(alphabet))
        self.weight = check_character.weights(self.modulus, random_count)
        self.base = [rng.randrange(len(alphabet)) for _ in range(random_count + 1)]

    def free_part(self, fixed: dict[int, str]) -> str:
        values = list(self.base)
        for index, symbol in fixed.items():
            values[index] = self.alphabet.index(symbol)
        total = sum(map(operator.mul, self.weight, values))
        for solved in (i for i in range(self.k) if i not in fixed):
            rest = total - self.weight[solved] * values[solved]
            needed = (-rest * pow(self.weight[solved], -1, self.modulus)) % self.modulus
            if needed < len(self.alphabet):
                values[solved] = needed
                free = "".join(map(self.alphabet.__getitem__, values))
                assert holds(self.alphabet, free), free
                return free
        raise AssertionError("no free character can carry the check")


@pytest.mark.parametrize(("charset", "excluded", "random_count"), ALPHABETS)
def test_check_character_catches_every_single_substitution(charset: str, excluded: str, random_count: int) -> None:
    # Given, for every position (the random characters' and the check character's) and every symbol, a valid code
    # holding that symbol there
    alphabet = charset_alphabet(charset, excluded)
    rng = random.Random(f"{charset}{excluded}")
    completer = Completer(alphabet, random_count, rng)
    for position in range(random_count + 1):
        for symbol in alphabet:
            free = completer.free_part({position: symbol})
            # When any other symbol is typed in its place
            for other in alphabet.replace(symbol, ""):
                # Then the check fails
                assert not holds(alphabet, free[:position] + other + free[position + 1 :]), (free, position, other)


@pytest.mark.parametrize(("charset", "excluded", "random_count"), ALPHABETS)
def test_check_character_catches_every_adjacent_transposition(charset: str, excluded: str, random_count: int) -> None:
    # Given, for every pair of adjacent positions (the last random character and the check character included) and
    # every ordered pair of distinct symbols, a valid code holding them there
    alphabet = charset_alphabet(charset, excluded)
    rng = random.Random(f"{charset}{excluded}")
    completer = Completer(alphabet, random_count, rng)
    for position in range(random_count):
        for first, second in itertools.permutations(alphabet, 2):
            free = completer.free_part({position: first, position + 1: second})
            # When the two are swapped
            swapped = free[:position] + second + first + free[position + 2 :]
            # Then the check fails
            assert not holds(alphabet, swapped), (free, position)


def test_check_character_ok_reads_the_check_through_the_layout() -> None:
    # Given a pattern with literals around and between its random runs, and a valid code of it
    layout = layout_of("alphanumeric", "", 8)
    free = Completer(layout.alphabet, 8, random.Random(3)).free_part({})
    code = assemble(layout, free)
    # Then the code passes, in any case; a substitution, a transposition, a changed literal or length do not
    assert code.startswith("X-") and code.endswith("-Y") and code[6] == "-"
    assert check_character_ok(code, layout) and check_character_ok(code.lower(), layout)
    assert not check_character_ok(assemble(layout, ("B" if free[0] == "A" else "A") + free[1:]), layout)
    assert free[0] == free[1] or not check_character_ok(assemble(layout, free[1] + free[0] + free[2:]), layout)
    assert not check_character_ok("Z" + code[1:], layout)
    assert not check_character_ok(code + "A", layout)
    assert not check_character_ok(code[:-1], layout)


def assemble(layout: CodeLayout, free: str) -> str:
    """The code text with `free` (random characters, then the check character) in the layout's free columns."""
    text = list(layout.template)
    for column, ch in zip(layout.free_columns, free, strict=True):
        text[column] = ch
    return "".join(text)


@pytest.mark.parametrize("charset", list(CHARSETS))
def test_issued_codes_carry_a_check_symbol_of_the_charset_that_holds(charset: str) -> None:
    # Given 20,000 codes made with a check character
    layout = layout_of(charset, "", 16)
    codes = make_formatted_codes(layout, 5_000)
    # Then every check character is a symbol of the charset, every code passes, and every symbol is used
    assert layout.check_column is not None
    checks = {code[layout.check_column] for code in codes}
    assert checks == set(CHARSETS[charset])
    assert all(check_character_ok(code, layout) for code in codes)


def test_check_column_agrees_with_the_check_symbol_of_each_code() -> None:
    # Given 32 random columns (the lanes are reduced several times) of 2,000 codes over a 36-symbol alphabet
    alphabet = CHARSETS["alphanumeric"]
    rng = random.Random(7)
    parts = ["".join(rng.choice(alphabet) for _ in range(32)) for _ in range(2_000)]
    columns = ["".join(part[i] for part in parts).encode() for i in range(32)]
    # When the check column is computed column-wise
    column = check_character.check_column(alphabet, columns, len(parts))
    # Then each code's symbol is the one computed alone, and a code without a symbol is marked
    for part, symbol in zip(parts, column, strict=True):
        expected = check_character.check_symbol(alphabet, part)
        assert symbol == (check_character.NO_SYMBOL if expected is None else ord(expected))


@pytest.mark.parametrize(("size", "length"), [(3, 4), (4, 3), (5, 3), (10, 3), (8, 4)])
def test_valid_parts_counts_the_parts_that_have_a_check_symbol(size: int, length: int) -> None:
    # Given every random part of a small format
    alphabet = "ABCDEFGHIJ"[:size]
    parts = ("".join(chars) for chars in itertools.product(alphabet, repeat=length))
    # Then the exact count is the number of parts whose check value has a symbol
    assert check_character.valid_parts(size, length) == sum(
        check_character.check_symbol(alphabet, part) is not None for part in parts
    )


@pytest.mark.parametrize(("size", "modulus"), [(3, 3), (4, 5), (10, 11), (26, 29), (29, 29), (32, 37), (36, 37)])
def test_check_modulus_is_the_smallest_prime_at_least_the_alphabet(size: int, modulus: int) -> None:
    assert check_character.check_modulus(size) == modulus


def test_check_character_refuses_alphabets_of_fewer_than_three_symbols() -> None:
    assert check_character.refusal(3) is None
    reason = check_character.refusal(2)
    assert reason is not None and reason.startswith("check_character:") and "2" in reason
