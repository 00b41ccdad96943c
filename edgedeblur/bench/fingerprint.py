"""Who ran a benchmark: CPU, board, OS, Python, backend versions, so rows from many devices merge.

Why files and not a library: the runtime goes on Raspberry Pi, Jetson and Android (Termux) with
numpy and one backend only, and each platform says what it is in its own file or command.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .._machine import cpu_info
from ..runtime.backends import BACKENDS

__all__ = ["device_fingerprint", "backend_versions", "device_id"]


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip("\x00\n ")
    except OSError:
        return None


def _getprop(name: str) -> str | None:
    if not shutil.which("getprop"):
        return None
    try:
        out = subprocess.run(["getprop", name], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out or None


def _board() -> str | None:
    """Raspberry Pi / SBC model, Jetson release, or Android device, when the platform says."""
    model = _read("/proc/device-tree/model")
    if model:
        return model
    tegra = _read("/etc/nv_tegra_release")
    if tegra:
        return "NVIDIA Jetson (" + tegra.splitlines()[0].lstrip("# ").strip() + ")"
    android = _getprop("ro.product.model")
    if android:
        soc = _getprop("ro.soc.model") or _getprop("ro.board.platform")
        return f"{_getprop('ro.product.manufacturer') or ''} {android} ({soc})".strip()
    return _read("/sys/class/dmi/id/product_name")


def _os() -> str:
    release = _read("/etc/os-release") or ""
    pretty = next((line.split("=", 1)[1].strip('"') for line in release.splitlines()
                   if line.startswith("PRETTY_NAME=")), None)
    android = _getprop("ro.build.version.release")
    if android:
        pretty = f"Android {android} (API {_getprop('ro.build.version.sdk')})"
    return f"{pretty or platform.system()} / kernel {platform.release()}"


def backend_versions() -> dict[str, str | None]:
    """Installed version of each backend's package (None when not installed)."""
    found: dict[str, str | None] = {}
    for backend, spec in BACKENDS.items():
        found[backend] = None
        for pkg in spec.packages:
            try:
                found[backend] = f"{pkg} {metadata.version(pkg)}"
                break
            except metadata.PackageNotFoundError:
                continue
    return found


def device_fingerprint() -> dict:
    """A JSON-able description of this device (cheap: files and one or two commands)."""
    info = {
        **cpu_info(),
        "cpu_cores": os.cpu_count(),
        "arch": platform.machine(),
        "board": _board(),
        "os": _os(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "backends": backend_versions(),
        "hostname": platform.node(),
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpu_usable"] = len(os.sched_getaffinity(0))
    try:
        info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    except OSError:
        info["load_avg_1m"] = None
    info["device_id"] = device_id(info)
    info["executable"] = sys.executable
    return info


def device_id(info: dict) -> str:
    """A short human-readable key: board or CPU model, arch and cores."""
    base = info.get("board") or info.get("cpu_model") or "unknown"
    return f"{base} ({info.get('arch')}, {info.get('cpu_usable') or info.get('cpu_cores')} cores)"


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None
