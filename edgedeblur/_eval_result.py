"""The result types of an evaluation (:mod:`edgedeblur.evaluate`): per-image scores, failures,
the means, and the JSON report and text table made from them."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .io import atomic_write

__all__ = ["ImageScore", "EvalFailure", "EvalResult", "machine_description"]


@dataclass
class ImageScore:
    """Scores of one restored image (``kernel`` names the blur kernel file when there is one)."""

    name: str
    psnr: float
    ssim: float
    seconds: float
    megapixels: float
    input_psnr: float
    kernel: str | None = None
    cpu_seconds: float | None = None  # process CPU time of restore: robust on a busy machine

    @property
    def seconds_per_mp(self) -> float:
        return self.seconds / self.megapixels


@dataclass
class EvalFailure:
    """An image that could not be evaluated, with the reason (the error message)."""

    name: str
    error: str


@dataclass
class EvalResult:
    """Per-image scores, failures, and what was run; means are over the scored images."""

    method: str
    data: str
    degradation: str
    seed: int
    protocol: dict[str, object]
    degradation_spec: dict[str, object] | None = None
    scores: list[ImageScore] = field(default_factory=list)
    failures: list[EvalFailure] = field(default_factory=list)
    machine: str = field(default_factory=lambda: machine_description())

    @property
    def psnr(self) -> float:
        return _mean([s.psnr for s in self.scores])

    @property
    def ssim(self) -> float:
        return _mean([s.ssim for s in self.scores])

    @property
    def input_psnr(self) -> float:
        return _mean([s.input_psnr for s in self.scores])

    @property
    def seconds_per_mp(self) -> float:
        """Total restore (wall) time over total megapixels (robust to a mix of image sizes)."""
        mp = sum(s.megapixels for s in self.scores)
        return sum(s.seconds for s in self.scores) / mp if mp else float("nan")

    @property
    def cpu_seconds_per_mp(self) -> float:
        """Total restore CPU time (all threads of this process) over total megapixels."""
        mp = sum(s.megapixels for s in self.scores)
        cpu = [s.cpu_seconds for s in self.scores]
        return sum(cpu) / mp if mp and None not in cpu else float("nan")  # type: ignore[arg-type]

    def summary(self) -> dict[str, object]:
        """The top-level ``summary`` object of the JSON report."""
        return {
            "psnr": _round(self.psnr, 4),
            "ssim": _round(self.ssim, 5),
            "seconds_per_mp": _round(self.seconds_per_mp, 4),
            "cpu_seconds_per_mp": _round(self.cpu_seconds_per_mp, 4),
            "input_psnr": _round(self.input_psnr, 4),
            "images": len(self.scores),
            "failed": len(self.failures),
            "method": self.method,
            "data": self.data,
            "degradation": self.degradation,
            "degradation_spec": self.degradation_spec,
            "seed": self.seed,
            "protocol": self.protocol,
            "machine": self.machine,
        }

    def to_dict(self) -> dict[str, object]:
        images = []
        for s in self.scores:
            row = asdict(s)
            row["seconds_per_mp"] = s.seconds_per_mp
            images.append(row)
        return {
            "summary": self.summary(),
            "images": images,
            "failures": [asdict(f) for f in self.failures],
        }

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` atomically (temporary file + rename)."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=True) + "\n"
        return atomic_write(path, lambda tmp: tmp.write_text(text))

    def format_table(self) -> str:
        """A plain-text table, one row per image, then the mean row."""
        has_kernel = any(s.kernel for s in self.scores)
        head = f"{'image':<24}" + (f"{'kernel':<14}" if has_kernel else "")
        head += f"{'input dB':>9}{'PSNR dB':>9}{'SSIM':>8}{'s/MP':>10}"
        lines = [head, "-" * len(head)]
        for s in self.scores:
            row = f"{s.name[:23]:<24}" + (f"{(s.kernel or '')[:13]:<14}" if has_kernel else "")
            row += f"{s.input_psnr:9.2f}{s.psnr:9.2f}{s.ssim:8.4f}{s.seconds_per_mp:10.3f}"
            lines.append(row)
        lines.append("-" * len(head))
        mean = f"{'mean (' + str(len(self.scores)) + ' images)':<24}" + (" " * 14 if has_kernel else "")
        mean += f"{self.input_psnr:9.2f}{self.psnr:9.2f}{self.ssim:8.4f}{self.seconds_per_mp:10.3f}"
        lines.append(mean)
        return "\n".join(lines)


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _round(value: float, digits: int) -> float:
    return round(value, digits) if np.isfinite(value) else value


def machine_description() -> str:
    """One line naming the CPU, core count and Python/numpy versions, for reports."""
    from ._machine import cpu_model

    cpu = cpu_model()
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
