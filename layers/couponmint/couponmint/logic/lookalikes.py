"""Reading a typed code the way the unambiguous charset means it.

The unambiguous charset has no I, L, O or U, so a person who types `O` meant `0`, and `I` or `L` meant `1`
(U has no look-alike in the charset and is left as typed, so such a code is simply not found). Case never
matters: every charset is upper case.

Literal text (a prefix, a pattern's literals) may legitimately hold O, I and L, so the mapping applies only to
the random characters and the check character. With the layout known, `normalise_typed` does exactly that;
without it (find by text across a store), `lookalike_candidates` lists the few texts worth looking up.
"""

import itertools
import re

from couponmint.logic.code_layout import CodeLayout

TYPED_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
READS_LOOKALIKES = frozenset({"unambiguous"})
# Without the layout, a code's segments (between - and _) are each read as typed or through the look-alikes;
# past this many candidates a typed code is too unlike any code to be worth more lookups.
MAX_CANDIDATES = 8
_SEGMENTS = re.compile(r"([-_])")


def normalise_typed(typed: str, layout: CodeLayout) -> str:
    """The typed code as the layout means it: upper case, and for the unambiguous charset O -> 0 and
    I, L -> 1 at the random characters and the check character only. A text of the wrong length is only
    upper-cased (it cannot be a code of this layout anyway)."""
    text = typed.upper()
    if layout.charset not in READS_LOOKALIKES or len(text) != layout.length:
        return text
    characters = list(text)
    for column in layout.free_columns:
        characters[column] = characters[column].translate(TYPED_LOOKALIKES)
    return "".join(characters)


def lookalike_candidates(typed: str) -> list[str]:
    """The distinct texts to look up for a typed code whose layout is unknown, most likely first.

    First the text as typed (upper-cased), which finds every code whose charset is not unambiguous and every
    code typed right. Then the text with the look-alikes read in every segment, then in some segments only (a
    literal segment such as `GOLD` in `GOLD-7K30` must stay as typed); segments are split at `-` and `_`, and
    only segments holding O, I or L are varied. A literal fused to random characters without a delimiter is
    only found through the layout (`normalise_typed`).
    """
    text = typed.upper()
    parts = _SEGMENTS.split(text)
    varied = [index for index, part in enumerate(parts) if part != part.translate(TYPED_LOOKALIKES)]
    candidates = [text]
    for size in range(len(varied), 0, -1):
        for chosen in itertools.combinations(varied, size):
            mapped = [part.translate(TYPED_LOOKALIKES) if i in chosen else part for i, part in enumerate(parts)]
            candidates.append("".join(mapped))
            if len(candidates) == MAX_CANDIDATES:
                return candidates
    return candidates
