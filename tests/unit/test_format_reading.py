"""Reading a typed code through a store's formats: MALFORMED before any code is read, look-alikes found."""

import pytest

from couponmint.logic.formats import make_formatted_codes
from couponmint.models.codegen import CodeFormat
from couponmint.service import formats
from tests.unit.fakes import FakePromotions

CHECKED = CodeFormat(pattern="XMAS-####-####", charset="unambiguous", check_character=True)


def store_with(*code_formats: CodeFormat, store_hash: str) -> FakePromotions:
    promotions = FakePromotions()
    for code_format in code_formats:
        formats.remember(promotions, store_hash, code_format)
    return promotions


def test_read_code_refuses_a_mistyped_checked_code_as_malformed() -> None:
    # Given a store that issues codes with a check character, and one of them
    promotions = store_with(CHECKED, store_hash="read-a")
    code = make_formatted_codes(CHECKED.layout, 1)[0]
    # When it is typed right, in lower case, and with one character changed or two adjacent ones swapped
    right = formats.read_code(promotions, "read-a", code.lower())
    changed = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    swapped = code[:5] + code[6] + code[5] + code[7:]
    # Then the right one is looked up as the stored text; the others are malformed without a lookup
    assert not right.malformed and right.candidates[-1] == code
    assert formats.read_code(promotions, "read-a", changed).malformed
    if code[5] != code[6]:
        assert formats.read_code(promotions, "read-a", swapped).malformed


def test_read_code_finds_unambiguous_look_alikes_and_leaves_literals_alone() -> None:
    # Given a store that issues unambiguous codes after a literal with O, I and L in it
    code_format = CodeFormat(pattern="GOLDIL-########", charset="unambiguous")
    promotions = store_with(code_format, store_hash="read-b")
    code = "GOLDIL-01234501"
    # When a person types O for 0 and I or L for 1 in the random part, in any case
    reading = formats.read_code(promotions, "read-b", "goldil-OI2345OL")
    # Then the stored text is among the texts looked up, the literal left as it is
    assert code in reading.candidates and not reading.malformed


@pytest.mark.parametrize("typed", ["XMAS-ABCD-EFGHJ", "SOMETHING-ELSE", "xmas-12"])
def test_read_code_looks_up_codes_of_no_checked_shape_as_typed(typed: str) -> None:
    # Given a store whose only checked format is XMAS-####-##### and a code made by hand of another shape
    promotions = store_with(CHECKED, CodeFormat(), store_hash="read-c")
    reading = formats.read_code(promotions, "read-c", typed)
    # Then a text of another shape is looked up as typed (upper-cased), never refused
    if typed == "XMAS-ABCD-EFGHJ":
        assert reading.malformed == (not formats.check_character_ok(typed, CHECKED.layout))
    else:
        assert reading == formats.Reading(candidates=[typed.upper()], malformed=False)


def test_remember_registers_only_formats_read_specially() -> None:
    promotions = store_with(CodeFormat(), CodeFormat(prefix="A"), store_hash="read-d")
    assert promotions.registered == {}
    formats.remember(promotions, "read-d", CHECKED)
    assert list(promotions.registered.values()) == [CHECKED.model_dump(mode="json")]
