"""What machine a run was made on: processor, cores, memory, Python, OS."""

import os
import platform
import subprocess
from pathlib import Path


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_total() -> str:
    """`free -h`'s total, as a person reads it."""
    try:
        output = subprocess.run(["free", "-h"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    for line in output.splitlines():
        if line.startswith("Mem:"):
            return line.split()[1]
    return "unknown"


def describe_machine() -> dict[str, str | int]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 0,
        "memory": _memory_total(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_at_start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
    }
