"""The code kernel: alphabet, uniformity, exclusions, formats and the capacity guard."""

import math
from collections import Counter

import pytest

from couponmint.logic import codes
from couponmint.logic.codes import (
    BASE_ALPHABET,
    alphabet_without,
    capacity_shortfall,
    code_space,
    make_codes,
    random_text,
)


def chi_square_p_value(counts: Counter[str], categories: str) -> float:
    """Upper-tail p-value of Pearson's chi-square test for a uniform distribution (Wilson-Hilferty)."""
    total = sum(counts.values())
    expected = total / len(categories)
    statistic = sum((counts.get(c, 0) - expected) ** 2 / expected for c in categories)
    dof = len(categories) - 1
    z = ((statistic / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))
    return 0.5 * math.erfc(z / math.sqrt(2))


def test_alphabet_without_drops_excluded_characters_in_fixed_order() -> None:
    # Given excluded characters in any order
    # When the alphabet is built
    alphabet = alphabet_without(["Z", "0", "A"])
    # Then it is A-Z 0-9 without them, in order
    assert alphabet == "BCDEFGHIJKLMNOPQRSTUVWXY123456789"
    assert alphabet_without([]) == BASE_ALPHABET
    assert len(BASE_ALPHABET) == 36


@pytest.mark.parametrize("alphabet", [BASE_ALPHABET, "ABCDEFG", "XY", alphabet_without("0123456789ABCDEFGHIJ")])
def test_random_text_is_uniform_over_the_alphabet(alphabet: str) -> None:
    # Given 360,000 characters drawn from the alphabet
    text = random_text(alphabet, 360_000)
    counts = Counter(text)
    # Then only allowed characters appear, every one of them, with frequencies a chi-square test accepts
    assert set(counts) == set(alphabet)
    assert chi_square_p_value(counts, alphabet) > 1e-4


def test_random_text_detects_a_biased_generator() -> None:
    # Given the same test applied to text that favours its first character by 10 %
    biased = Counter(random_text(BASE_ALPHABET, 360_000))
    biased["A"] += 1_000
    # Then the test rejects it (the uniformity test is able to fail)
    assert chi_square_p_value(biased, BASE_ALPHABET) < 1e-4


def test_translation_table_rejects_bytes_that_would_bias_the_modulo() -> None:
    # Given a 36-character alphabet: 256 = 7 * 36 + 4, so the top 4 byte values must be dropped
    table, rejected = codes._translation(BASE_ALPHABET)
    # Then each character is reachable from exactly 7 byte values and 252..255 are rejected
    assert rejected == bytes([252, 253, 254, 255])
    reachable = Counter(table[b] for b in range(252))
    assert set(reachable.values()) == {7}
    assert len(reachable) == 36


def test_random_text_positions_are_uniform_too() -> None:
    # Given 20,000 codes of 8 characters
    parts = make_codes(BASE_ALPHABET, 8, 20_000)
    # Then every position is uniform (no position favours a character)
    for position in range(8):
        counts = Counter(part[position] for part in parts)
        assert chi_square_p_value(counts, BASE_ALPHABET) > 1e-5


def test_make_codes_wraps_the_random_part_and_never_repeats() -> None:
    # Given a prefix and suffix with delimiters
    made = make_codes("AB", 6, 40, head="PRE_", tail="_POST")
    # Then every code has the format, the random part only uses the alphabet, and none repeats
    assert len(made) == 40 == len(set(made))
    for code in made:
        assert code.startswith("PRE_") and code.endswith("_POST")
        assert set(code[4:10]) <= {"A", "B"}
        assert len(code) == 15


def test_make_codes_avoids_given_codes() -> None:
    # Given all but 2 of the 4 possible codes to avoid
    avoid = {"AA", "AB"}
    # When 2 codes are made
    made = make_codes("AB", 2, 2, avoid=avoid)
    # Then they are exactly the two free ones
    assert sorted(made) == ["BA", "BB"]


def test_random_text_refuses_an_empty_alphabet() -> None:
    with pytest.raises(ValueError, match="empty"):
        random_text("", 5)


def test_code_space_counts_every_random_part() -> None:
    assert code_space(36, 16) == 36**16
    assert code_space(2, 6) == 64


@pytest.mark.parametrize(
    ("alphabet_size", "length", "existing", "requested", "refused"),
    [
        (36, 16, 0, 250, False),
        (2, 6, 0, 1, True),  # 64 codes: even one is more than 1 % of the space
        (10, 6, 9_750, 250, False),  # exactly 1 % of 1,000,000
        (10, 6, 9_751, 250, True),  # one more than 1 %
        (1, 16, 0, 1, True),
    ],
)
def test_capacity_shortfall_refuses_formats_past_one_percent_fill(
    alphabet_size: int, length: int, existing: int, requested: int, refused: bool
) -> None:
    # When the guard checks the store's codes plus the request against the format's space
    reason = capacity_shortfall(alphabet_size, length, existing, requested)
    # Then it refuses exactly past 1 % and names the numbers
    assert (reason is not None) is refused
    if reason:
        assert str(code_space(alphabet_size, length)) in reason
        assert str(existing) in reason and str(requested) in reason


def test_make_codes_makes_nothing_when_asked_for_nothing() -> None:
    assert make_codes(BASE_ALPHABET, 16, 0) == []


def test_make_codes_redraws_repeats_until_every_code_is_distinct() -> None:
    # Given a space of 8 codes ("AB" to the power 3), all of which are asked for
    # When they are made (the first draw almost surely repeats some)
    made = make_codes("AB", 3, 8)
    # Then every possible code comes back exactly once
    assert sorted(made) == sorted(a + b + c for a in "AB" for b in "AB" for c in "AB")


def test_make_codes_avoids_codes_given_as_a_list_and_keeps_the_format() -> None:
    # Given all but one 1-character code to avoid, with a prefix and suffix that are part of the code
    avoid = ["X-A-Y", "X-B-Y"]
    # When one code is made
    made = make_codes("ABC", 1, 1, head="X-", tail="-Y", avoid=avoid)
    # Then it is the free one, whole
    assert made == ["X-C-Y"]


def test_make_codes_keeps_a_prefix_outside_ascii_intact() -> None:
    made = make_codes(BASE_ALPHABET, 6, 3, head="É-")
    assert len(set(made)) == 3
    assert all(code.startswith("É-") and len(code) == 8 for code in made)


def test_make_codes_refuses_a_line_break_in_the_format() -> None:
    with pytest.raises(ValueError, match="line break"):
        make_codes(BASE_ALPHABET, 6, 3, head="A\n")


def test_random_parts_are_count_parts_of_the_length() -> None:
    parts = codes.random_parts("XYZ", 5, 1_000)
    assert len(parts) == 1_000
    assert all(len(part) == 5 and set(part) <= set("XYZ") for part in parts)


def test_a_million_codes_are_distinct_and_well_formed() -> None:
    # Given the benchmark's workload: a million 16-character codes in one call
    made = make_codes(BASE_ALPHABET, 16, 1_000_000)
    # Then they are a million distinct codes of 16 allowed characters
    assert len(made) == len(set(made)) == 1_000_000
    assert {len(code) for code in made} == {16}
    assert set("".join(made[:10_000])) == set(BASE_ALPHABET)
