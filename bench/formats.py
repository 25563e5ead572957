"""Formats benchmark: `make_formatted_codes` per charset, plain and with check character + word filter, against a
naive `secrets.choice` loop, in one process. `python -m bench.formats [--quick]` prints a table.

Each repeat measures, per charset, the plain kernel (no check character, no word filter), the kernel as couponmint
issues codes (check character and word filter on) and the naive loop one after another, so a noisy neighbour slows
all three alike; ratios are taken per repeat and summarised (median, min, max). The naive loop makes fewer codes
(its rate does not depend on how many), checks no distinctness and filters no words, which favours it.

The filtered output of the first repeat is searched for listed words with the exact regex over its look-alike
reading (not the trigram filter under test): the count must be 0. The plain output's count shows what the filter
takes out.
"""

import argparse
import gc
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.stats import Spread
from couponmint.logic import wordfilter
from couponmint.logic.code_layout import CHARSETS, CodeLayout, layout_from_fields
from couponmint.logic.formats import make_formatted_codes

CODE_LENGTH = 16
PLAIN_TARGET = 2_000_000
CHECKED_TARGET = 1_000_000


@dataclass(frozen=True)
class FormatsSettings:
    repeats: int
    codes: int = 1_000_000
    naive_codes: int = 50_000


def _codes_per_second(make: Callable[[int], list[str]], count: int) -> tuple[float, list[str]]:
    """Codes per second of one call making `count` codes, and the codes."""
    gc.collect()
    started = time.perf_counter()
    codes = make(count)
    elapsed = time.perf_counter() - started
    if len(codes) != count:
        raise AssertionError(f"asked for {count} codes, got {len(codes)}")
    return count / elapsed, codes


def _naive(alphabet: str) -> Callable[[int], list[str]]:
    def make(count: int) -> list[str]:
        return ["".join(secrets.choice(alphabet) for _ in range(CODE_LENGTH)) for _ in range(count)]

    return make


def _kernel(layout: CodeLayout) -> Callable[[int], list[str]]:
    def make(count: int) -> list[str]:
        return make_formatted_codes(layout, count)

    return make


def count_words(codes: list[str]) -> int:
    """Listed words (non-overlapping) in the look-alike reading of the codes."""
    reading = wordfilter.reading("\n".join(codes)).encode("ascii")
    return sum(1 for _ in wordfilter._matchers().exact.finditer(reading))


def _charset(name: str, settings: FormatsSettings, log: Callable[[str], None]) -> dict[str, Any]:
    plain = layout_from_fields(code_length=CODE_LENGTH, charset=name, word_filter=False)
    checked = layout_from_fields(code_length=CODE_LENGTH, charset=name, check_character=True)
    plain_rates: list[float] = []
    checked_rates: list[float] = []
    naive_rates: list[float] = []
    words: dict[str, int] = {}
    # Untimed warm-up: imports, translation tables, compiled regexes, the allocator's first growth.
    make_formatted_codes(checked, 10_000)
    make_formatted_codes(plain, 10_000)
    for repeat in range(1, settings.repeats + 1):
        rate, codes = _codes_per_second(_kernel(plain), settings.codes)
        plain_rates.append(rate)
        if not words:
            words["plain"] = count_words(codes)
        del codes
        rate, codes = _codes_per_second(_kernel(checked), settings.codes)
        checked_rates.append(rate)
        if "checked" not in words:
            words["checked"] = count_words(codes)
        del codes
        naive_rates.append(_codes_per_second(_naive(CHARSETS[name]), settings.naive_codes)[0])
        log(
            f"  {name} repeat {repeat}/{settings.repeats}: plain {plain_rates[-1]:,.0f} codes/s,"
            f" check + filter {checked_rates[-1]:,.0f}, naive {naive_rates[-1]:,.0f}"
        )
    return {
        "plain_codes_per_s": Spread.of(plain_rates).as_dict(0),
        "checked_codes_per_s": Spread.of(checked_rates).as_dict(0),
        "naive_codes_per_s": Spread.of(naive_rates).as_dict(0),
        "plain_vs_naive": Spread.of([p / n for p, n in zip(plain_rates, naive_rates, strict=True)]).as_dict(2),
        "checked_vs_naive": Spread.of([c / n for c, n in zip(checked_rates, naive_rates, strict=True)]).as_dict(2),
        "words_in_plain": words["plain"],
        "words_in_checked": words["checked"],
    }


def run_formats(settings: FormatsSettings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every charset's figures, with the targets (plain >= 2M codes/s, check + filter >= 1M codes/s, 0 words)."""
    charsets = {name: _charset(name, settings, log) for name in CHARSETS}
    targets = {
        "plain_codes_per_s": {"target": f">= {PLAIN_TARGET:,}", "value": {}, "met": True},
        "checked_codes_per_s": {"target": f">= {CHECKED_TARGET:,}", "value": {}, "met": True},
        "words_in_checked": {"target": "== 0", "value": {}, "met": True},
    }
    for name, figures in charsets.items():
        for key, floor in (("plain_codes_per_s", PLAIN_TARGET), ("checked_codes_per_s", CHECKED_TARGET)):
            targets[key]["value"][name] = figures[key]["median"]
            targets[key]["met"] &= figures[key]["median"] >= floor
        targets["words_in_checked"]["value"][name] = figures["words_in_checked"]
        targets["words_in_checked"]["met"] &= figures["words_in_checked"] == 0
    return {"settings": asdict(settings), "charsets": charsets, "targets": targets}


def table(results: dict[str, Any]) -> str:
    header = ["charset", "plain codes/s", "÷ naive", "check+filter codes/s", "÷ naive", "words plain → filtered"]
    rows = [
        [
            name,
            f"{figures['plain_codes_per_s']['median']:,.0f}",
            f"{figures['plain_vs_naive']['median']:,.1f}x",
            f"{figures['checked_codes_per_s']['median']:,.0f}",
            f"{figures['checked_vs_naive']['median']:,.1f}x",
            f"{figures['words_in_plain']:,} → {figures['words_in_checked']:,}",
        ]
        for name, figures in results["charsets"].items()
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    verdicts = [
        f"{key} {spec['target']}: {'met' if spec['met'] else 'MISSED'}" for key, spec in results["targets"].items()
    ]
    return "\n".join([*lines, "", *verdicts])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.formats", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="measurements per figure (default 5)")
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    args = parser.parse_args(argv)
    settings = FormatsSettings(repeats=3 if args.quick else args.repeats)
    print(
        f"formats: {settings.codes:,} codes of {CODE_LENGTH} random characters per call, median of {settings.repeats}"
    )
    results = run_formats(settings, lambda line: print(line, flush=True))
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
