"""The run log: one CSV row per logged step, a JSON summary, and a PNG of the curves.

The CSV is appended to (so ``--resume`` continues it; rows past the resumed step are dropped
first), the summary and the PNG are rewritten atomically at every validation.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from ..io import atomic_write

__all__ = ["RunLog"]

FIELDS = ["step", "seconds", "lr", "loss", "l1", "charbonnier", "fft", "adv", "d_loss", "val_psnr"]


class RunLog:
    """Append-only CSV log of a run plus summary/curve writers."""

    def __init__(self, run_dir: Path, *, resume_step: int | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.csv_path = self.run_dir / "log.csv"
        self.rows: list[dict[str, Any]] = []
        if resume_step is not None and self.csv_path.is_file():
            with self.csv_path.open(newline="", encoding="utf-8") as fh:
                self.rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= resume_step]
            self._rewrite()
        elif self.csv_path.exists():
            self.csv_path.unlink()

    def _rewrite(self) -> None:
        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, FIELDS)
                writer.writeheader()
                writer.writerows(self.rows)

        atomic_write(self.csv_path, write, suffix=".csv")

    def add(self, row: dict[str, Any]) -> None:
        """Append one row (unknown keys are ignored; missing ones are left empty)."""
        clean = {k: _fmt(row.get(k)) for k in FIELDS}
        self.rows.append(clean)
        new = not self.csv_path.exists()
        with self.csv_path.open("a", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, FIELDS)
            if new:
                writer.writeheader()
            writer.writerow(clean)

    def write_summary(self, summary: dict[str, Any]) -> Path:
        """Atomically write ``summary.json``."""
        path = self.run_dir / "summary.json"
        atomic_write(path, json.dumps(summary, indent=2, sort_keys=True))
        return path

    def plot(self) -> Path | None:
        """Draw loss and validation PSNR against step into ``curves.png`` (matplotlib, Agg)."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return None
        steps = [int(r["step"]) for r in self.rows if r["loss"] != ""]
        losses = [float(r["loss"]) for r in self.rows if r["loss"] != ""]
        vsteps = [int(r["step"]) for r in self.rows if r["val_psnr"] != ""]
        vpsnr = [float(r["val_psnr"]) for r in self.rows if r["val_psnr"] != ""]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
        ax1.plot(steps, losses, lw=0.8)
        ax1.set_xlabel("step")
        ax1.set_ylabel("training loss")
        if losses and min(losses) > 0:
            ax1.set_yscale("log")
        ax2.plot(vsteps, vpsnr, "o-", ms=3)
        ax2.set_xlabel("step")
        ax2.set_ylabel("validation PSNR (dB, EMA model)")
        fig.suptitle(self.run_dir.name)
        fig.tight_layout()
        path = self.run_dir / "curves.png"
        try:
            return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=90), suffix=".png")
        finally:
            plt.close(fig)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return str(value)
