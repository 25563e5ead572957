"""The word filter: the blocklist's shape, the fast filter against a plain search, and issued codes spell no word."""

import itertools
import random
import re

import pytest

from couponmint.logic import wordfilter
from couponmint.logic.code_layout import CHARSETS, CodeLayout, layout_from_fields, layout_from_pattern
from couponmint.logic.formats import _draw_batch, _plan, make_formatted_codes


def plain_words(text: str) -> set[str]:
    """Listed words in the reading of `text`, by the plainest search there is (independent of the filter)."""
    read = wordfilter.reading(text)
    return {word for word in wordfilter.blocklist() if word in read}


def test_blocklist_is_upper_case_words_of_three_or_more_letters_none_inside_another() -> None:
    # Given the vendored list
    words = wordfilter.blocklist()
    # Then it is sorted, distinct, A-Z only, at least 3 letters, and minimal (the fast filter relies on that:
    # at most one word starts at a position)
    assert len(words) == 457
    assert list(words) == sorted(set(words))
    assert all(re.fullmatch("[A-Z]{3,}", word) for word in words)
    assert not [(a, b) for a, b in itertools.permutations(words, 2) if a in b]


def test_reading_sees_lookalike_digits_as_letters_and_the_rest_as_breaks() -> None:
    assert wordfilter.reading("b00b-5h1t_2x 7") == "BOOB.SHIT..X.T"


def test_flagged_lines_finds_exactly_the_lines_a_plain_search_finds() -> None:
    # Given 3,000 random 17-character lines over the look-alike-rich characters, and listed words planted at
    # every column (both parities, line starts and ends) of some of them
    rng = random.Random(11)
    alphabet = "ABEIOST0134578269KLMNPU"
    lines = ["".join(rng.choice(alphabet) for _ in range(17)) for _ in range(3_000)]
    words = wordfilter.blocklist()
    for index in range(0, 3_000, 7):
        word = rng.choice(words)[:17]
        column = rng.randrange(18 - len(word))
        lines[index] = lines[index][:column] + word + lines[index][column + len(word) :]
    layout = bytearray("\n".join(lines).encode() + b"\n")
    # When the fast filter runs over the batch
    flagged = wordfilter.flagged_lines(layout, 18)
    # Then it flags exactly the lines in which the plain search finds a word
    assert flagged == {index for index, line in enumerate(lines) if plain_words(line)}
    assert len(flagged) > 450


def test_flagged_lines_ignores_words_wholly_in_the_literals() -> None:
    # Given lines whose literal prefix holds a word (ASS in CLASS) and whose random part holds another or none
    lines = ["CLASS-XQZK", "CLASS-TITQ", "CLASS-QXAS", "CLASSTITQZ"]
    layout = bytearray("\n".join(lines).encode() + b"\n")
    starts = wordfilter.literal_word_starts("CLASS-####", range(6, 10))
    # Then only the words that touch the random part count
    assert starts == {2}
    assert wordfilter.flagged_lines(layout, 11, starts) == {1, 3}


@pytest.mark.parametrize("charset", list(CHARSETS))
def test_issued_codes_spell_no_listed_word(charset: str) -> None:
    # Given 50,000 codes of each charset with a check character, and 2,000 of a pattern whose literals touch
    # the random part (SH + 1 + 7 would read SHIT)
    codes = make_formatted_codes(layout_from_fields(code_length=16, charset=charset, check_character=True), 50_000)
    short = make_formatted_codes(layout_from_pattern("SH####", charset=charset), 2_000)
    # Then no code reads as a listed word (the exact regex over all; the plainest search over a sample)
    reading = wordfilter.reading("\n".join([*codes, *short])).encode()
    assert wordfilter._matchers().exact.search(reading) is None
    assert not plain_words("\n".join(codes[:5_000] + short))


def test_rejected_candidates_are_exactly_the_codes_with_a_word() -> None:
    # Given raw candidates of a pattern whose literals hold a word (CLASS) and lead into the random part (SH)
    layout = layout_from_pattern("CLASS-SH#####", charset="numeric")
    starts = wordfilter.literal_word_starts(layout.template, layout.free_columns)
    # When candidates are drawn
    codes, issuable = _draw_batch(layout, _plan(layout), 20_000)
    # Then the rejected ones are those with a word that is not wholly literal, and no others
    assert issuable is not None
    rejected = [index for index, flag in enumerate(issuable) if not flag]
    expected = [index for index, code in enumerate(codes) if any(s not in starts for s, _ in wordfilter.words_in(code))]
    assert rejected == expected and expected


def test_share_bound_is_an_upper_bound_on_the_share_left_out() -> None:
    # Given every code of a small numeric format with a literal that leads into it
    layout = CodeLayout(("B", ""), (4,), CHARSETS["numeric"])
    codes = ["B" + "".join(digits) for digits in itertools.product("0123456789", repeat=4)]
    left_out = sum(bool(wordfilter.words_in(code)) for code in codes) / len(codes)
    # Then the bound is at least the real share, and not far above it
    bound = wordfilter.share_bound(layout.template, layout.free_columns, layout.alphabet)
    assert left_out > 0
    assert left_out <= bound <= 3 * left_out
