"""What a search writes: trials.csv, pareto.json, pareto.png and zoo genome files.

Split from :mod:`.search` so the driver stays readable; ``edgedeblur.nas.search`` re-exports
every public name here.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..io import atomic_write
from ._study import STUDY_FILE

if TYPE_CHECKING:
    from .search import SearchResult, TrialRecord

__all__ = ["genome_document", "check_genome_path", "write_genome_file", "write_outputs", "plot_pareto"]

_CSV_FIELDS = ("number", "zoo", "key", "status", "feasible", "latency_ms", "psnr", "params",
               "macs_720p", "cpu_seconds", "description", "genome")


def genome_document(result: SearchResult, name: str, record: TrialRecord | None = None) -> dict[str, Any]:
    """A ``edgedeblur/models/genomes/<name>.json`` document for ``record`` (default: the best)."""
    from .search import best_record

    record = record or best_record(result)
    if record is None:
        raise ConfigError("no candidate within the latency budget to export", given=f"{result.budget_ms:g} ms",
                          hint="raise --latency-budget or run more --trials")
    search = {"key": record.key, "trial": record.number, "psnr_proxy_db": record.psnr,
              "predicted_ms": record.latency_ms, "budget_ms": result.budget_ms, "params": record.params,
              "macs_720p": record.macs_720p, "trials": len(result.records), "profile": result.profile,
              "proxy": result.proxy, "study": str(Path(result.out_dir) / STUDY_FILE)}
    return {"name": name, "task": result.task, "genome": record.genome, "search": search}


def check_genome_path(path: str | Path, task: str) -> Path:
    """A genome file is ``<name>.json``, the name a lower-case zoo name (letters, digits, _)."""
    path = Path(path)
    name = path.stem
    if path.suffix != ".json" or not name.replace("_", "").isalnum() or not name.isascii() \
            or name != name.lower() or not name[0].isalpha():
        raise ConfigError("a genome file is <name>.json with a lower-case zoo name", given=str(path),
                          allowed="letters, digits and _ starting with a letter",
                          hint=f"e.g. nas_mydevice_{task}.json")
    return path


def write_genome_file(result: SearchResult, path: str | Path, record: TrialRecord | None = None) -> Path:
    """Write :func:`genome_document` to ``path`` (the model name is the file stem); checked on read back."""
    from ..models.nasunet import load_genome_file

    path = check_genome_path(path, result.task)
    doc = genome_document(result, path.stem, record)
    text = json.dumps(doc, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    load_genome_file(path)  # what the zoo will do at import: fail now, not then
    return path


def write_outputs(result: SearchResult) -> dict[str, str]:
    """trials.csv, pareto.json and pareto.png in ``result.out_dir``; returns their paths."""
    from .search import best_record

    out = Path(result.out_dir)
    paths = {"study": str(out / STUDY_FILE), "trials_csv": str(out / "trials.csv"),
             "pareto_json": str(out / "pareto.json")}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in result.records:
        row = {k: v for k, v in r.as_json().items() if k in _CSV_FIELDS}
        writer.writerow({**row, "genome": json.dumps(r.genome, separators=(",", ":"))})
    atomic_write(out / "trials.csv", lambda p: p.write_text(buf.getvalue(), encoding="utf-8"))
    best = best_record(result)
    doc = {"task": result.task, "budget_ms": result.budget_ms, "profile": result.profile,
           "proxy": result.proxy, "trials": len(result.records),
           "front": [r.as_json() for r in result.front],
           "zoo": [r.as_json() for r in result.records if r.zoo],
           "best": best.as_json() if best else None}
    text = json.dumps(doc, indent=2)
    atomic_write(out / "pareto.json", lambda p: p.write_text(text + "\n", encoding="utf-8"))
    png = plot_pareto(result, out / "pareto.png")
    if png is not None:
        paths["pareto_png"] = str(png)
    return paths


def plot_pareto(result: SearchResult, path: str | Path) -> Path | None:
    """All scored candidates as dots, the front as a line, zoo points labelled, the budget line."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # plotting is a convenience; the CSV and JSON carry the numbers
        return None
    scored = [r for r in result.records if r.scored]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for feasible, colour, label in ((True, "tab:blue", "within budget"), (False, "0.6", "over budget")):
        pts = [r for r in scored if (r.latency_ms <= result.budget_ms) == feasible and not r.zoo]
        ax.scatter([r.latency_ms for r in pts], [r.psnr for r in pts], s=18, c=colour, label=label)
    if result.front:
        ax.plot([r.latency_ms for r in result.front], [r.psnr for r in result.front], "-o",
                c="tab:red", ms=4, lw=1.5, label="Pareto front")
    for r in (r for r in scored if r.zoo):
        ax.scatter([r.latency_ms], [r.psnr], marker="s", s=40, c="black")
        ax.annotate(r.zoo, (r.latency_ms, r.psnr), textcoords="offset points", xytext=(5, -10), fontsize=8)
    ax.axvline(result.budget_ms, ls="--", c="tab:green", label=f"budget {result.budget_ms:g} ms")
    dev = result.profile
    ax.set_xlabel(f"predicted latency, ms ({dev.get('device')}, {dev.get('target')}, "
                  f"{dev.get('threads')} threads, tile {dev.get('tile')})")
    score = "held-out photos" if result.proxy.get("score", "val") == "heldout" else "validation crops"
    ax.set_ylabel(f"proxy PSNR on {score}, dB ({result.proxy.get('steps')} steps)")
    ax.set_title(f"edge-nas {result.task}: {len(scored)} scored of {len(result.records)} trials")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    out = Path(path)
    atomic_write(out, lambda p: fig.savefig(p, dpi=110, format="png"), suffix=".png")
    plt.close(fig)
    return out

