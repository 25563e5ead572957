"""Formats benchmark: `make_formatted_codes` per charset, plain and with check character + word filter, against a
naive `secrets.choice` loop, in one process. `python -m bench.formats [--quick]` prints a table.

Each repeat measures, per charset, the plain kernel (no check character, no word filter), the kernel as couponmint
issues codes (check character and word filter on), codes.make_codes and the naive loop one after another, so a
noisy neighbour slows all of them alike; ratios are taken per repeat and summarised (median, min, max). The ratio
to make_codes says what the formats cost on any machine, busy or not. The naive loop makes fewer codes
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
from couponmint.logic.codes import make_codes
from couponmint.logic.formats import make_formatted_codes

CODE_LENGTH = 16
PLAIN_TARGET = 2_000_000
CHECKED_TARGET = 1_000_000


@dataclass(frozen=True)
class FormatsSettings:
    repeats: int
    codes: int = 1_000_000
    naive_codes: int = 50_000


def _codes_per_second(make: Callable[[int], list[str]], count: int) -> tuple[float, float, list[str]]:
    """Codes per second of one call making `count` codes, by the wall clock and by this process's CPU time (which
    other processes on a busy machine slow less), and the codes."""
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    codes = make(count)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if len(codes) != count:
        raise AssertionError(f"asked for {count} codes, got {len(codes)}")
    return count / elapsed, count / cpu, codes


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
    keys = ("plain", "checked", "make_codes", "naive", "plain_cpu", "checked_cpu", "make_codes_cpu")
    rates: dict[str, list[float]] = {key: [] for key in keys}
    words: dict[str, int] = {}
    # Untimed warm-up: imports, translation tables, compiled regexes, the allocator's first growth.
    make_formatted_codes(checked, 10_000)
    make_formatted_codes(plain, 10_000)
    for repeat in range(1, settings.repeats + 1):
        for key, layout in (("plain", plain), ("checked", checked)):
            rate, cpu_rate, codes = _codes_per_second(_kernel(layout), settings.codes)
            rates[key].append(rate)
            rates[f"{key}_cpu"].append(cpu_rate)
            if key not in words:
                words[key] = count_words(codes)
            del codes
        rate, cpu_rate, _ = _codes_per_second(
            lambda count: make_codes(CHARSETS[name], CODE_LENGTH, count), settings.codes
        )
        rates["make_codes"].append(rate)
        rates["make_codes_cpu"].append(cpu_rate)
        rates["naive"].append(_codes_per_second(_naive(CHARSETS[name]), settings.naive_codes)[0])
        log(
            f"  {name} repeat {repeat}/{settings.repeats}: plain {rates['plain'][-1]:,.0f} codes/s"
            f" ({rates['plain_cpu'][-1]:,.0f} by CPU time), check + filter {rates['checked'][-1]:,.0f}"
            f" ({rates['checked_cpu'][-1]:,.0f}), make_codes {rates['make_codes'][-1]:,.0f},"
            f" naive {rates['naive'][-1]:,.0f}"
        )
    figures: dict[str, Any] = {f"{key}_codes_per_s": Spread.of(values).as_dict(0) for key, values in rates.items()}
    for key in ("plain", "checked"):
        ratios = [kernel / naive for kernel, naive in zip(rates[key], rates["naive"], strict=True)]
        figures[f"{key}_vs_naive"] = Spread.of(ratios).as_dict(2)
        # make_codes's time over this one's: the share of make_codes's rate this kernel keeps on the same machine.
        shares = [kernel / plain for kernel, plain in zip(rates[key], rates["make_codes"], strict=True)]
        figures[f"{key}_vs_make_codes"] = Spread.of(shares).as_dict(2)
        figures[f"words_in_{key}"] = words[key]
    return figures


def run_formats(settings: FormatsSettings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every charset's figures, with the targets (plain >= 2M codes/s, check + filter >= 1M codes/s, 0 words).

    A rate target is judged on the wall clock's median; `met_by_cpu` judges the CPU-time median, which tells
    whether a miss is the code's or a busy machine's.
    """
    charsets = {name: _charset(name, settings, log) for name in CHARSETS}
    targets: dict[str, dict[str, Any]] = {}
    for key, floor in (("plain_codes_per_s", PLAIN_TARGET), ("checked_codes_per_s", CHECKED_TARGET)):
        cpu_key = key.replace("_codes", "_cpu_codes")
        targets[key] = {
            "target": f">= {floor:,}",
            "value": {name: figures[key]["median"] for name, figures in charsets.items()},
            "value_by_cpu": {name: figures[cpu_key]["median"] for name, figures in charsets.items()},
            "met": all(figures[key]["median"] >= floor for figures in charsets.values()),
            "met_by_cpu": all(figures[cpu_key]["median"] >= floor for figures in charsets.values()),
        }
    targets["words_in_checked"] = {
        "target": "== 0",
        "value": {name: figures["words_in_checked"] for name, figures in charsets.items()},
        "met": all(figures["words_in_checked"] == 0 for figures in charsets.values()),
    }
    return {"settings": asdict(settings), "charsets": charsets, "targets": targets}


def table(results: dict[str, Any]) -> str:
    header = [
        "charset",
        "plain codes/s (CPU)",
        "÷ naive",
        "÷ make_codes",
        "check+filter codes/s (CPU)",
        "÷ naive",
        "÷ make_codes",
        "words plain → filtered",
    ]
    rows = [
        [
            name,
            f"{figures['plain_codes_per_s']['median']:,.0f} ({figures['plain_cpu_codes_per_s']['median']:,.0f})",
            f"{figures['plain_vs_naive']['median']:,.1f}x",
            f"{figures['plain_vs_make_codes']['median']:,.2f}x",
            f"{figures['checked_codes_per_s']['median']:,.0f} ({figures['checked_cpu_codes_per_s']['median']:,.0f})",
            f"{figures['checked_vs_naive']['median']:,.1f}x",
            f"{figures['checked_vs_make_codes']['median']:,.2f}x",
            f"{figures['words_in_plain']:,} → {figures['words_in_checked']:,}",
        ]
        for name, figures in results["charsets"].items()
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    verdicts = []
    for key, spec in results["targets"].items():
        by_cpu = "" if "met_by_cpu" not in spec else f" (by CPU time: {'met' if spec['met_by_cpu'] else 'MISSED'})"
        verdicts.append(f"{key} {spec['target']}: {'met' if spec['met'] else 'MISSED'}{by_cpu}")
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
