"""Kernel benchmark: `make_codes` against a naive `secrets.choice` loop and `nanoid`, in one process.

Each repeat measures the three one after another, so a noisy neighbour slows all three alike; the ratios are
taken per repeat and summarised (median, min, max). The baselines make fewer codes (their rate does not
depend on how many they make, and the naive loop would take half a minute for a million) and do not check
distinctness, which favours them.
"""

import gc
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from nanoid import generate as nanoid_generate

from bench.stats import Spread
from couponmint.logic.codes import BASE_ALPHABET, make_codes

CODE_LENGTH = 16


@dataclass(frozen=True)
class KernelSettings:
    repeats: int
    kernel_codes: int = 1_000_000
    naive_codes: int = 50_000
    nanoid_codes: int = 200_000


@dataclass(frozen=True)
class KernelResult:
    kernel_codes_per_s: Spread
    naive_codes_per_s: Spread
    nanoid_codes_per_s: Spread
    kernel_vs_naive: Spread
    kernel_vs_nanoid: Spread
    settings: KernelSettings


def naive_code() -> str:
    return "".join(secrets.choice(BASE_ALPHABET) for _ in range(CODE_LENGTH))


def nanoid_code() -> str:
    return str(nanoid_generate(BASE_ALPHABET, CODE_LENGTH))


def _codes_per_second(make: Callable[[int], list[str]], count: int) -> float:
    """Codes per second of one call making `count` codes; freeing them is not timed."""
    gc.collect()
    started = time.perf_counter()
    codes = make(count)
    elapsed = time.perf_counter() - started
    if len(codes) != count:
        raise AssertionError(f"asked for {count} codes, got {len(codes)}")
    del codes
    return count / elapsed


def _kernel(count: int) -> list[str]:
    return make_codes(BASE_ALPHABET, CODE_LENGTH, count)


def _naive(count: int) -> list[str]:
    return [naive_code() for _ in range(count)]


def _nanoid(count: int) -> list[str]:
    return [nanoid_code() for _ in range(count)]


def run_kernel(settings: KernelSettings, log: Callable[[str], None] = print) -> KernelResult:
    kernel_rates: list[float] = []
    naive_rates: list[float] = []
    nanoid_rates: list[float] = []
    # Untimed warm-up: imports, the translation table's cache, the allocator's first growth.
    _kernel(settings.kernel_codes)
    _naive(1_000)
    _nanoid(1_000)
    for repeat in range(1, settings.repeats + 1):
        kernel_rates.append(_codes_per_second(_kernel, settings.kernel_codes))
        naive_rates.append(_codes_per_second(_naive, settings.naive_codes))
        nanoid_rates.append(_codes_per_second(_nanoid, settings.nanoid_codes))
        log(
            f"  kernel repeat {repeat}/{settings.repeats}: {kernel_rates[-1]:,.0f} codes/s,"
            f" naive {naive_rates[-1]:,.0f}, nanoid {nanoid_rates[-1]:,.0f}"
        )
    return KernelResult(
        kernel_codes_per_s=Spread.of(kernel_rates),
        naive_codes_per_s=Spread.of(naive_rates),
        nanoid_codes_per_s=Spread.of(nanoid_rates),
        kernel_vs_naive=Spread.of([k / n for k, n in zip(kernel_rates, naive_rates, strict=True)]),
        kernel_vs_nanoid=Spread.of([k / n for k, n in zip(kernel_rates, nanoid_rates, strict=True)]),
        settings=settings,
    )
