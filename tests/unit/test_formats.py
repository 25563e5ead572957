"""Code formats: charsets, patterns, the one CodeLayout, the formatted kernel, capacity and typed look-alikes."""

from collections import Counter

import pytest

from couponmint.logic import wordfilter
from couponmint.logic.code_layout import (
    CHARSETS,
    CodeLayout,
    charset_alphabet,
    code_layout,
    layout_from_pattern,
    parse_pattern,
    validate_charset,
    validate_pattern,
)
from couponmint.logic.formats import (
    check_character_ok,
    format_capacity_shortfall,
    format_space,
    literal_words,
    make_formatted_codes,
)
from couponmint.logic.lookalikes import lookalike_candidates, normalise_typed
from tests.unit.test_codes import chi_square_p_value


def test_charsets_are_bigcommerces_crockfords_digits_and_letters() -> None:
    assert CHARSETS["alphanumeric"] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    assert CHARSETS["unambiguous"] == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert CHARSETS["numeric"] == "0123456789"
    assert CHARSETS["alphabetic"] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert charset_alphabet() == CHARSETS["alphanumeric"]


def test_charset_alphabet_drops_exclusions_in_the_charsets_order() -> None:
    assert charset_alphabet("unambiguous", ["Z", "0", "A", "O"]) == "123456789BCDEFGHJKMNPQRSTVWXY"
    assert charset_alphabet("numeric", "13579") == "02468"


@pytest.mark.parametrize(
    ("charset", "excluded", "field"),
    [
        ("hexadecimal", "", "charset:"),
        ("numeric", "012345678", "exclude_characters:"),
        ("numeric", ["a"], "exclude_characters:"),
        ("alphabetic", ["AB"], "exclude_characters:"),
    ],
)
def test_charset_alphabet_refuses_naming_the_field(charset: str, excluded: str, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}"):
        charset_alphabet(charset, excluded)


def test_validate_charset_returns_a_known_charset() -> None:
    assert validate_charset("unambiguous") == "unambiguous"
    with pytest.raises(ValueError, match=r"^charset: must be one of alphanumeric, unambiguous, numeric, alphabetic"):
        validate_charset("Unambiguous")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "is 0 characters long; 1 to 50"),
        ("#" * 4 + "A" * 47, "is 51 characters long"),
        ("xmas-####", "'amsx' not allowed"),
        ("XMAS ####", "' ' not allowed"),
        ("XMAS-###", "has 3 # .* 4 to 32"),
        ("#" * 33, "has 33 #"),
    ],
)
def test_validate_pattern_refuses_naming_the_field(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^pattern: .*{reason}"):
        validate_pattern(pattern)


def test_parse_pattern_gives_literal_pieces_and_random_runs() -> None:
    assert parse_pattern("XMAS-####-####") == (("XMAS-", "-", ""), (4, 4))
    assert parse_pattern("####") == (("", ""), (4,))
    assert parse_pattern("#A#B##C") == (("", "A", "B", "C"), (1, 1, 2))


def test_bigcommerce_fields_and_a_pattern_map_to_the_same_layout() -> None:
    # Given BigCommerce's fields and the pattern that says the same
    fields = code_layout(prefix="PRE", suffix="SUF", delimiter="-", code_length=6)
    pattern = code_layout(pattern="PRE-######-SUF")
    # Then both are one run of 6 random characters between the same literals
    assert fields.template == pattern.template == "PRE-######-SUF"
    assert (fields.pieces, fields.runs, fields.random_columns) == (pattern.pieces, pattern.runs, pattern.random_columns)
    assert code_layout().template == "#" * 16


def test_code_layout_refuses_a_pattern_with_the_fields_it_replaces() -> None:
    with pytest.raises(ValueError, match=r"^pattern: cannot be combined with prefix, code_length"):
        code_layout(pattern="XMAS-####", prefix="A", code_length=8)


def test_the_check_character_follows_the_last_random_character() -> None:
    layout = layout_from_pattern("XMAS-####-####-GO", check_character=True)
    assert layout.template == "XMAS-####-#####-GO"
    assert layout.random_columns == (5, 6, 7, 8, 10, 11, 12, 13)
    assert layout.check_column == 14


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: layout_from_pattern("####", "numeric", "23456789", True), "^check_character: needs at least 3"),
        (lambda: layout_from_pattern("#" * 10 + "A" * 40, check_character=True), "^pattern: the code is 51 char"),
        (lambda: code_layout(prefix="P" * 20, suffix="S" * 14, code_length=16, check_character=True), "^check_char"),
        (lambda: code_layout(prefix="P*"), "^prefix: may only use"),
    ],
)
def test_layouts_refuse_what_cannot_be_made(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("pieces", "runs", "alphabet"),
    [
        (("", ""), (4,), "A"),
        (("", ""), (4,), "AA"),
        (("", ""), (4,), "A-"),
        (("",), (4,), "AB"),
        (("a", ""), (4,), "AB"),
    ],
)
def test_code_layout_refuses_an_inconsistent_format(
    pieces: tuple[str, ...], runs: tuple[int, ...], alphabet: str
) -> None:
    with pytest.raises(ValueError, match=r"^a layout"):
        CodeLayout(pieces, runs, alphabet)


@pytest.mark.parametrize("charset", list(CHARSETS))
def test_make_formatted_codes_follows_the_pattern(charset: str) -> None:
    # Given a pattern with literals around and between two runs, with a check character
    layout = layout_from_pattern("XMAS-####-####", charset=charset, check_character=True)
    # When 5,000 codes are made
    codes = make_formatted_codes(layout, 5_000)
    # Then they are distinct, keep the literals, use the charset only, and pass their check
    assert len(set(codes)) == 5_000
    assert all(code[:5] == "XMAS-" and code[9] == "-" and len(code) == 15 for code in codes)
    assert set("".join(code[5:9] + code[10:] for code in codes)) == set(CHARSETS[charset])
    assert all(check_character_ok(code, layout) for code in codes)


def test_make_formatted_codes_draws_every_position_uniformly() -> None:
    # Given 36,000 codes of two runs with neither check character nor word filter (both leave some codes out)
    layout = layout_from_pattern("###-###", charset="alphanumeric", word_filter=False)
    codes = make_formatted_codes(layout, 36_000)
    # Then each random position is uniform over the charset
    for column in layout.random_columns:
        counts = Counter(code[column] for code in codes)
        assert chi_square_p_value(counts, layout.alphabet) > 1e-5


def test_make_formatted_codes_redraws_repeats_and_avoids_given_codes() -> None:
    # Given a space of 16 codes (2 characters, 4 positions), 2 of which are to be avoided
    layout = CodeLayout(("", ""), (4,), "AB", word_filter=False)
    avoid = {"AAAA", "BBBB"}
    # When the other 14 are asked for (the first draw almost surely repeats some)
    codes = make_formatted_codes(layout, 14, avoid=avoid)
    # Then each comes back exactly once
    every = {f"{n:04b}".replace("0", "A").replace("1", "B") for n in range(16)}
    assert sorted(codes) == sorted(every - avoid)
    assert make_formatted_codes(layout, 0) == []


def test_make_formatted_codes_keeps_a_literal_word_and_avoids_others() -> None:
    # Given a pattern whose literal holds a listed word (ASS in CLASS)
    layout = layout_from_pattern("CLASS-####", charset="alphabetic")
    # When codes are made
    codes = make_formatted_codes(layout, 3_000)
    # Then the literal word stays, and no other word appears
    assert all(code.startswith("CLASS-") for code in codes)
    assert {word for code in codes for _, word in wordfilter.words_in(code)} == {"ASS"}


def test_literal_words_names_what_the_literals_spell_alone() -> None:
    assert literal_words(layout_from_pattern("CLASS-####-5H17")) == ["ASS", "SHIT"]
    assert literal_words(layout_from_pattern("SH####")) == []


def test_check_character_ok_reads_any_case_and_the_unambiguous_lookalikes() -> None:
    # Given an unambiguous code with a literal holding O, I and L
    layout = layout_from_pattern("GOLDI-########", charset="unambiguous", check_character=True)
    code = next(c for c in make_formatted_codes(layout, 2_000) if "0" in c[6:] and "1" in c[6:])
    typed = code[:6] + code[6:].replace("0", "o").replace("1", "l")
    # Then the typed code passes, reads as the code, and the literal is not read through look-alikes
    assert check_character_ok(typed.lower(), layout)
    assert normalise_typed(typed.lower(), layout) == code
    assert not check_character_ok("G0LD1" + code[5:], layout)


def test_check_character_ok_has_nothing_to_check_without_a_check_character() -> None:
    assert check_character_ok("ANY TEXT", layout_from_pattern("####"))


def test_normalise_typed_leaves_other_charsets_as_typed() -> None:
    layout = layout_from_pattern("####-####", charset="alphanumeric")
    assert normalise_typed("abc0-oil1", layout) == "ABC0-OIL1"


def test_lookalike_candidates_are_as_typed_then_through_lookalikes_segment_by_segment() -> None:
    assert lookalike_candidates("gold-7k3o") == ["GOLD-7K3O", "G01D-7K30", "G01D-7K3O", "GOLD-7K30"]
    assert lookalike_candidates("7K3A-B2C9") == ["7K3A-B2C9"]
    assert len(lookalike_candidates("O-I-L-O-I-L")) == 8


def test_format_space_counts_exclusions_check_character_and_words() -> None:
    # Given 8 random characters of the unambiguous charset less one, with a check character
    layout = layout_from_pattern("####-####", charset="unambiguous", exclude_characters="Z", check_character=True)
    # Then the space is 31^8, the check keeps about 31/31 of it (p = 31), and few are left out for words
    space = format_space(layout)
    assert (space.alphabet_size, space.random_characters, space.possible) == (31, 8, 31**8)
    assert abs(space.with_check / space.possible - 31 / 31) < 0.01
    assert 0 < space.filtered_share < 0.05
    assert space.usable == int(space.with_check * (1 - space.filtered_share))


@pytest.mark.parametrize(("beyond", "refused"), [(-10_000, False), (0, False), (1, True)])
def test_format_capacity_shortfall_refuses_past_one_percent_with_the_numbers(beyond: int, refused: bool) -> None:
    # Given a numeric format of 7 random characters with a check character (about 9 million usable codes), and a
    # store holding so many codes that 50,000 more fill 1 % of them, give or take `beyond`
    layout = layout_from_pattern("A-#######", charset="numeric", check_character=True)
    space = format_space(layout)
    existing = int(space.usable * 0.01) - 50_000 + beyond
    # When the guard checks
    reason = format_capacity_shortfall(layout, existing, 50_000)
    # Then past 1 % of the usable codes it refuses, naming the fields and the numbers
    assert (reason is not None) is refused
    if reason:
        assert reason.startswith("pattern, charset, exclude_characters, check_character:")
        for number in (10, 7, space.possible, space.with_check, space.usable, existing, 50_000):
            assert str(number) in reason
