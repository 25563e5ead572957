"""The check character: one symbol after a code's random characters that makes typing mistakes detectable.

The design is ISO/IEC 7064's pure system, adapted so that the check symbol always lies in the charset.

- n is the alphabet's size and p the smallest prime >= n. A symbol's value is its index in the alphabet.
- Random character i (0-based, literals are skipped) has weight w_i = 2^(i+1) mod p, and the check character,
  which follows the last of the k random characters, has the next weight w_k = 2^(k+1) mod p.
- The check value c solves sum(w_i * x_i) + w_k * c = 0 (mod p). When c >= n there is no symbol for it: that
  candidate code is not issued (the kernel draws another), so every issued code's check symbol is in the charset.

Why it catches every single substitution: changing one value a into b changes the sum by w * (b - a). p is
prime, w = 2^j mod p is not 0 (p is odd, see below) and 0 < |b - a| < n <= p, so the product is not 0 mod p.

Why it catches every adjacent transposition (the check character included, it is simply position k): swapping
values a != b at positions i and i+1 changes the sum by (w_i - w_{i+1}) * (a - b). Since w_{i+1} = 2 * w_i,
w_i - w_{i+1} = -w_i, which is not 0 mod p, and neither is (a - b), so the sum changes.

Both arguments need p odd (with p = 2, 2^j mod 2 = 0), so an alphabet of fewer than 3 symbols is refused.

The price: a random part's check value c is nearly uniform over 0..p-1 and only c < n is kept, so the format's
space shrinks by about n/p (exactly counted by `valid_parts`): 36/37 for alphanumeric, 32/37 for unambiguous,
26/29 for alphabetic and 10/11 for numeric.

For speed the kernel computes the check column for a whole batch of codes at once (`check_column`): each random
column is mapped to w_i * x_i mod p by one `bytes.translate`, and the columns are added as big integers whose
byte lanes each hold one code's partial sum (`int.from_bytes`). A lane holds a value < p after reduction, so at
most floor(255 / (p - 1)) columns are added before the lanes are reduced mod p again (one more translate): no
carry ever crosses from one code's lane into the next.
"""

import operator
from collections.abc import Sequence
from functools import lru_cache

MIN_ALPHABET = 3
# Marks a code whose check value has no symbol (c >= n); never a character of any alphabet.
NO_SYMBOL = 0


@lru_cache(maxsize=64)
def check_modulus(alphabet_size: int) -> int:
    """p: the smallest prime >= the alphabet's size."""
    candidate = max(alphabet_size, 2)
    while any(candidate % d == 0 for d in range(2, int(candidate**0.5) + 1)):
        candidate += 1
    return candidate


def refusal(alphabet_size: int) -> str | None:
    """Why an alphabet cannot carry a check character, or None when it can."""
    if alphabet_size >= MIN_ALPHABET:
        return None
    return (
        f"check_character: needs at least {MIN_ALPHABET} allowed characters, the charset and exclude_characters"
        f" leave {alphabet_size} (with fewer, two adjacent characters cannot be told apart when swapped)"
    )


@lru_cache(maxsize=256)
def weights(modulus: int, random_count: int) -> tuple[int, ...]:
    """w_0 .. w_k: the random characters' weights, then the check character's."""
    return tuple(pow(2, i + 1, modulus) for i in range(random_count + 1))


@lru_cache(maxsize=64)
def _values(alphabet: str) -> dict[str, int]:
    return {ch: value for value, ch in enumerate(alphabet)}


def check_value(alphabet: str, random_part: str) -> int:
    """c in 0..p-1 for the random characters (in order); no symbol exists for it when c >= len(alphabet)."""
    modulus = check_modulus(len(alphabet))
    weight = weights(modulus, len(random_part))
    values = _values(alphabet)
    total = sum(map(operator.mul, weight, map(values.__getitem__, random_part)))
    return (-total * pow(weight[-1], -1, modulus)) % modulus


def check_symbol(alphabet: str, random_part: str) -> str | None:
    """The check character for these random characters, or None when the code may not be issued."""
    value = check_value(alphabet, random_part)
    return alphabet[value] if value < len(alphabet) else None


def check_holds(alphabet: str, random_part: str, check: str) -> bool:
    """True when `check` is the check character of `random_part`; False for any character outside the alphabet."""
    values = _values(alphabet)
    if check not in values or not all(map(values.__contains__, random_part)):
        return False
    return check_symbol(alphabet, random_part) == check


def valid_parts(alphabet_size: int, random_count: int) -> int:
    """How many random parts have a check symbol: exactly, by counting the weighted sums' residues mod p."""
    modulus = check_modulus(alphabet_size)
    weight = weights(modulus, random_count)
    residues = [1] + [0] * (modulus - 1)
    for w in weight[:-1]:
        step = [0] * modulus
        for residue, ways in enumerate(residues):
            if ways:
                for value in range(alphabet_size):
                    step[(residue + w * value) % modulus] += ways
        residues = step
    inverse = pow(weight[-1], -1, modulus)
    return sum(ways for total, ways in enumerate(residues) if (-total * inverse) % modulus < alphabet_size)


@lru_cache(maxsize=1024)
def _weighted_table(alphabet: str, modulus: int, weight: int) -> bytes:
    """Symbol byte -> weight * value mod p (other bytes -> 0)."""
    table = bytearray(256)
    for value, ch in enumerate(alphabet):
        table[ord(ch)] = weight * value % modulus
    return bytes(table)


@lru_cache(maxsize=64)
def _reduce_table(modulus: int) -> bytes:
    return bytes(b % modulus for b in range(256))


@lru_cache(maxsize=256)
def _symbol_table(alphabet: str, modulus: int, check_weight: int) -> bytes:
    """Reduced sum S -> the check symbol's byte, or NO_SYMBOL when c >= n."""
    inverse = pow(check_weight, -1, modulus)
    table = bytearray([NO_SYMBOL]) * 256
    for total in range(modulus):
        value = (-total * inverse) % modulus
        if value < len(alphabet):
            table[total] = ord(alphabet[value])
    return bytes(table)


def check_column(alphabet: str, columns: Sequence[bytes], count: int) -> bytes:
    """The check symbols of `count` codes whose random characters are given column by column (column i holds
    character i of every code); NO_SYMBOL marks the codes that may not be issued."""
    modulus = check_modulus(len(alphabet))
    weight = weights(modulus, len(columns))
    reduce = _reduce_table(modulus)
    per_round = 255 // (modulus - 1)  # lanes start below p after each reduction, see the module docstring
    total, terms = 0, 0
    for column, w in zip(columns, weight, strict=False):
        if terms == per_round:
            total, terms = int.from_bytes(total.to_bytes(count, "little").translate(reduce), "little"), 1
        total += int.from_bytes(column.translate(_weighted_table(alphabet, modulus, w)), "little")
        terms += 1
    lanes = total.to_bytes(count, "little").translate(reduce)
    return lanes.translate(_symbol_table(alphabet, modulus, weight[-1]))
