"""What CPU this is, read once for every report (benchmarks, evaluation, edge-bench rows).

Standard library only, so the edge runtime's benchmark can use it on any board. ARM kernels
name the chip under ``Hardware``/``Processor`` rather than ``model name``; all are accepted.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["cpu_info", "cpu_model", "machine_summary"]

_SIMD_FLAGS = {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8",
               "neon", "asimd", "asimddp", "i8mm", "sve", "fp16", "asimdhp"}


def cpu_info() -> dict:
    """``{"cpu_model": str, "cpu_simd": [flags that matter for INT8/fp16 speed]}``."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    model = None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key in ("model name", "hardware", "processor") and not model and not value.isdigit():
            model = value
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return {
        "cpu_model": model or platform.processor() or platform.machine(),
        "cpu_simd": sorted(flags & _SIMD_FLAGS),
    }


def cpu_model() -> str:
    """The CPU's marketing name (e.g. ``AMD EPYC 7B13``), or the machine type when unknown."""
    return cpu_info()["cpu_model"]


def machine_summary() -> str:
    """This machine as it is now, in one line, e.g. ``AMD EPYC 7B13, 2 cores, load 5.1``.

    The cores are those this process may run on (a container's or a CPU set's share: "2 of 64
    cores" when fewer than the machine has); the load is the 1-minute load average where the OS
    keeps one, so a load above the core count says the machine was shared with other work.
    """
    total = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else total
    cores = f"{usable} cores" if usable == total else f"{usable} of {total} cores"
    try:
        load = f", load {os.getloadavg()[0]:.1f}"
    except (OSError, AttributeError):  # no load average on this OS
        load = ""
    return f"{cpu_model()}, {cores}{load}"
