"""What a run shows: the table printed at the end, the plots, and docs/benchmarks.md (full runs)."""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.formats import table as formats_table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS = PROJECT_ROOT / "docs"
IMAGES = DOCS / "img"
LATENCY_PLOT = IMAGES / "bench-latency.png"
JOB_RATE_PLOT = IMAGES / "bench-job-rate.png"
JOB_MEMORY_PLOT = IMAGES / "bench-job-memory.png"
PROCESSES = ("bench", "stack", "dynamodb_local", "moto")


def _met(flag: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "—"}[flag]


def _spread(spread: dict[str, float], unit: str = "", digits: int = 2) -> tuple[str, str, str]:
    return tuple(f"{spread[key]:,.{digits}f}{unit}" for key in ("median", "min", "max"))  # type: ignore[return-value]


def headline_rows(results: dict[str, Any]) -> list[list[str]]:
    """figure | median | min | max | target | met"""
    kernel = results["details"]["kernel"]
    targets = results["targets"]
    rows = [
        ["kernel codes/s (1,000,000 x 16 chars)", *_spread(kernel["kernel_codes_per_s"], digits=0)],
        ["kernel ÷ naive secrets.choice loop", *_spread(kernel["kernel_vs_naive"], "x")],
        ["kernel ÷ nanoid", *_spread(kernel["kernel_vs_nanoid"], "x")],
    ]
    for row, key in zip(rows, ("kernel_codes_per_s", "kernel_vs_naive", "kernel_vs_nanoid"), strict=True):
        row += [targets[key]["target"], _met(targets[key]["met"])]
    request_target = targets["request_vs_floor"]
    for level in results["details"]["request"]["levels"]:
        if level["concurrency"] in (1, 10):
            ratio = level["request_vs_floor"]
            rows.append(
                [
                    f"request ÷ floor, p50, {level['concurrency']} client(s)",
                    *_spread(ratio, "x"),
                    request_target["target"],
                    _met(ratio["median"] <= 1.5),
                ]
            )
    job = targets["job_vs_floor"]
    if job["value"] is None:
        rows.append(["job ÷ floor", "skipped", "", "", job["target"], "—"])
    else:
        rows.append(["job ÷ floor (slowest quantity)", f"{job['value']:.2f}x", "", "", job["target"], _met(job["met"])])
    return rows


def latency_rows(results: dict[str, Any]) -> list[list[str]]:
    """clients | request p50 | request p99 | floor p50 | floor p99 | ratio p50 (median, min-max) | codes/s"""
    rows = []
    for level in results["details"]["request"]["levels"]:
        ratio = level["request_vs_floor"]
        rows.append(
            [
                str(level["concurrency"]),
                f"{level['request_p50_ms']:,.0f}",
                f"{level['request_p99_ms']:,.0f}",
                f"{level['floor_p50_ms']:,.0f}",
                f"{level['floor_p99_ms']:,.0f}",
                f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})",
                f"{level['request_codes_per_s']['median']:,.0f} / {level['floor_codes_per_s']['median']:,.0f}",
                str(level["samples"]),
            ]
        )
    return rows


def cpu_rows(results: dict[str, Any]) -> list[list[str]]:
    """clients | what | CPU ms per call of each process"""
    rows = []
    for level in results["details"]["request"]["levels"]:
        for what, key in (("request", "request_cpu_ms"), ("floor", "floor_cpu_ms")):
            spent = level[key]
            rows.append(
                [str(level["concurrency"]), what]
                + [f"{spent.get(name, 0):.0f}" for name in PROCESSES]
                + [f"{sum(spent.values()):.0f}"]
            )
    return rows


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]], right_from: int = 1) -> str:
    align = ["---" if n < right_from else "---:" for n in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


HEADLINE_HEADER = ["figure", "median", "min", "max", "target", ""]
LATENCY_HEADER = [
    "clients",
    "request p50 ms",
    "request p99 ms",
    "floor p50 ms",
    "floor p99 ms",
    "request ÷ floor (p50)",
    "codes/s request / floor",
    "requests",
]
CPU_HEADER = ["clients", "per call", *(f"{name} ms" for name in PROCESSES), "total ms"]


def print_table(results: dict[str, Any]) -> None:
    print()
    print(text_table(HEADLINE_HEADER, headline_rows(results)))
    print()
    print(text_table(LATENCY_HEADER, latency_rows(results)))
    print()
    print("CPU per call (ms):")
    print(text_table(CPU_HEADER, cpu_rows(results)))
    print()
    memory = results["peak_rss_mb"]
    print("peak RSS (MB): " + ", ".join(f"{name} {memory.get(name, 0):,.0f}" for name in PROCESSES))
    if results["job_skipped"]:
        print(f"jobs: skipped: {results['job_skipped']}")
    if "formats" in results["details"]:
        print()
        print(formats_table(results["details"]["formats"]))
    print()


def write_plots(results: dict[str, Any]) -> list[Path]:
    IMAGES.mkdir(parents=True, exist_ok=True)
    written = [_latency_plot(results)]
    jobs = [job for job in results["details"]["jobs"] if job["status"] == "COMPLETED"]
    if jobs:
        written += _job_plots(results, jobs)
    return written


def _latency_plot(results: dict[str, Any]) -> Path:
    levels = results["details"]["request"]["levels"]
    clients = [level["concurrency"] for level in levels]
    figure, (latency, ratio) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label, style in (
        ("request_p50_ms", "request p50", "o-"),
        ("request_p99_ms", "request p99", "o--"),
        ("floor_p50_ms", "floor p50", "s-"),
        ("floor_p99_ms", "floor p99", "s--"),
    ):
        latency.plot(clients, [level[key] for level in levels], style, label=label)
    latency.set(xlabel="concurrent clients", ylabel="latency (ms)", title="250-code codegen request vs its floor")
    latency.set_xticks(clients)
    _from_zero(latency)
    medians = [level["request_vs_floor"]["median"] for level in levels]
    lows = [level["request_vs_floor"]["median"] - level["request_vs_floor"]["min"] for level in levels]
    highs = [level["request_vs_floor"]["max"] - level["request_vs_floor"]["median"] for level in levels]
    ratio.errorbar(clients, medians, yerr=[lows, highs], fmt="o-", capsize=4, label="request ÷ floor (p50)")
    ratio.axhline(1.5, color="tab:red", linestyle=":", label="target ≤ 1.5")
    ratio.set(xlabel="concurrent clients", ylabel="ratio", title="median of rounds, bars: min-max")
    ratio.set_xticks(clients)
    _from_zero(ratio)
    return _save(figure, LATENCY_PLOT)


def _job_plots(results: dict[str, Any], jobs: list[dict[str, Any]]) -> list[Path]:
    quantities = [job["quantity"] for job in jobs]
    floor = next(level for level in results["details"]["request"]["levels"] if level["concurrency"] == 10)
    floor_rate = floor["floor_codes_per_s"]["median"]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(quantities, [job["codes_per_s"] for job in jobs], "o-", label="job codes/s")
    axes.axhline(floor_rate, color="tab:gray", linestyle="--", label="floor, 10 writers")
    axes.axhline(0.7 * floor_rate, color="tab:red", linestyle=":", label="target 0.7 x floor")
    axes.set(xscale="log", xlabel="codes in the job", ylabel="codes/s", title="bulk job throughput")
    _from_zero(axes)
    rate = _save(figure, JOB_RATE_PLOT)
    figure, axes = plt.subplots(figsize=(6, 4))
    for name in PROCESSES:
        axes.plot(quantities, [job["peak_rss_mb"].get(name, 0) for job in jobs], "o-", label=name)
    axes.set(xscale="log", xlabel="codes in the job", ylabel="peak RSS during the job (MB)", title="memory")
    _from_zero(axes)
    return [rate, _save(figure, JOB_MEMORY_PLOT)]


def _from_zero(axes: Any) -> None:
    """The y axis from 0, a light grid and the legend: every plot's dress."""
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_markdown(results: dict[str, Any]) -> Path:
    from bench.document import render_benchmarks

    target = DOCS / "benchmarks.md"
    target.write_text(render_benchmarks(results))
    return target
