"""Reading a typed code through the store's formats: is it malformed (a failing check character, known before any
code is read), and which texts to look up (the unambiguous charset's look-alikes: O for 0, I or L for 1).

A code's text alone does not say which format made it, so the store remembers the formats it issued codes in
that change how a code is read (a check character, the unambiguous charset): one small item, registered when
codes are asked for in such a format and cached per process.
"""

import hashlib
import json
import time
from dataclasses import dataclass

from couponmint.logic.code_layout import CodeLayout
from couponmint.logic.expiring import ExpiringCache
from couponmint.logic.formats import check_character_ok, random_part

__all__ = ["Reading", "check_character_ok", "read_code", "remember"]
from couponmint.logic.lookalikes import READS_LOOKALIKES, normalise_typed
from couponmint.models.codegen import CodeFormat
from couponmint.service.ports import PromotionStore

# A format registered by one process is seen by the others within this time (a code of a new format typed
# wrong in that time is looked up rather than refused at once: answered NOT_FOUND instead of MALFORMED).
FORMATS_CACHE_SECONDS = 60.0
_store_formats: ExpiringCache[str, list[CodeLayout]] = ExpiringCache(FORMATS_CACHE_SECONDS)
_registered: ExpiringCache[tuple[str, str], bool] = ExpiringCache(24 * 3600.0)


def reads_specially(code_format: CodeFormat) -> bool:
    """Whether a typed code of this format is read other than as typed."""
    return code_format.check_character or code_format.layout.charset in READS_LOOKALIKES


def remember(promotions: PromotionStore, store_hash: str, code_format: CodeFormat) -> None:
    """Register `code_format` for the store if a typed code of it is read specially (once per process)."""
    if not reads_specially(code_format):
        return
    described = code_format.model_dump(mode="json")
    name = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]
    now = time.monotonic()
    if _registered.get((store_hash, name), now):
        return
    promotions.register_format(store_hash, name, described)
    _registered.put((store_hash, name), True, now)
    _store_formats.forget(store_hash)


@dataclass(frozen=True)
class Reading:
    """How a typed code reads in a store: the texts to look up, most likely first, or malformed."""

    candidates: list[str]
    malformed: bool


def read_code(promotions: PromotionStore, store_hash: str, typed: str) -> Reading:
    """The typed code, read through the store's formats.

    Malformed when it has the shape of one or more of the store's formats with a check character, fails the
    check of each of them, and has the shape of no other registered format (a code of any other format, or one
    made by hand, is then looked up as typed).
    """
    shaped = [layout for layout in _layouts(promotions, store_hash) if _has_shape(typed, layout)]
    checked = [layout for layout in shaped if layout.check_character]
    if checked and len(checked) == len(shaped) and not any(check_character_ok(typed, each) for each in checked):
        return Reading(candidates=[], malformed=True)
    candidates = dict.fromkeys([typed.upper(), *(normalise_typed(typed, layout) for layout in shaped)])
    return Reading(candidates=list(candidates), malformed=False)


def _has_shape(typed: str, layout: CodeLayout) -> bool:
    text = normalise_typed(typed, layout)
    if layout.check_column is not None:
        # The check character is drawn from the alphabet too: a code whose check symbol is outside it is
        # misshapen for the check, which then fails.
        return len(text) == layout.length and random_part(text, layout) is not None
    return random_part(text, layout) is not None


def _layouts(promotions: PromotionStore, store_hash: str) -> list[CodeLayout]:
    now = time.monotonic()
    layouts = _store_formats.get(store_hash, now)
    if layouts is None:
        layouts = [CodeFormat.model_validate(described).layout for described in promotions.formats(store_hash)]
        _store_formats.put(store_hash, layouts, now)
    return layouts
