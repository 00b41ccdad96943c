"""edge-report's library: merge edge-bench rows from many devices into Markdown, plots and HTML.

One table per device (rows from several runs of the same device merge: repeated rounds of the
same artifact file on the same device x backend x threads x delegate become one row whose
latencies are the median of the rounds' medians; a re-exported artifact, with another checksum,
replaces the older file's rows), a PSNR-vs-latency plot per device
with the Pareto front marked (what is worth shipping: nothing else is both faster and better),
and one self-contained HTML page with the plots inlined, so the report can be mailed or attached
to an issue as a single file.
"""

from __future__ import annotations

import base64
import html
import re
import statistics
from collections import defaultdict
from pathlib import Path

from ..io import atomic_write

__all__ = ["merge_repeats", "pareto_front", "is_nas_model", "markdown_report", "plot_device", "html_report", "write_report"]

_KEY = ("device_id", "artifact", "backend", "threads", "delegate", "requested_device")
LATENCY_KEY = "latency_720p"


def _same_file(a: dict, b: dict) -> bool:
    """Both rows timed one artifact file (checksum known and equal) with one backend version."""
    return (a.get("artifact_sha256") is not None
            and (a.get("artifact_sha256"), a.get("backend_version")) == (b.get("artifact_sha256"), b.get("backend_version")))


def _merge_latency(stats: list[dict]) -> dict:
    """One latency entry from several rounds' entries: the median of their medians.

    The median of per-round medians is what a round-robin (interleaved) benchmark is for: a round
    slowed by another job's burst moves it less than it moves the newest round alone.
    """
    medians = [float(s["median"]) for s in stats]
    merged = {"median": round(statistics.median(medians), 3), "rounds": len(stats),
              "round_medians": [round(m, 3) for m in medians],
              "runs": sum(int(s.get("runs") or 0) for s in stats)}
    mins = [float(s["min"]) for s in stats if s.get("min") is not None]
    if mins:
        merged["min"] = round(min(mins), 3)
    return merged


def _merge_rounds(rounds: list[dict]) -> dict:
    newest = rounds[-1]
    if len(rounds) == 1:
        return newest
    merged = dict(newest)
    for key, value in newest.items():
        if key.startswith("latency_") and isinstance(value, dict) and value.get("median") is not None:
            stats = [r[key] for r in rounds if isinstance(r.get(key), dict) and r[key].get("median") is not None]
            merged[key] = _merge_latency(stats)
    for key in ("overhead_ms", "overhead_pct"):
        values = [float(r[key]) for r in rounds if r.get(key) is not None]
        if values:
            merged[key] = round(statistics.median(values), 3)
    rss = [float(r["peak_rss_mb"]) for r in rounds if r.get("peak_rss_mb") is not None]
    if rss:
        merged["peak_rss_mb"] = max(rss)
    merged["rounds"] = len(rounds)
    return merged


def merge_repeats(rows: list[dict]) -> list[dict]:
    """One row per device x artifact x backend x threads x delegate x requested device.

    Rows of the same key measured on the same artifact file (checksum) with the same backend
    version are rounds of one measurement: they merge (latencies: median of the rounds' medians,
    ``rounds`` says how many). Rows of an older file under the same name are stale and dropped.
    A failed newest row stands alone (the artifact failed last time it was tried). Order: the
    first appearance of each key.
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(str(row.get(k)) for k in _KEY), []).append(row)
    out = []
    for group in groups.values():
        group = sorted(group, key=lambda r: str(r.get("time", "")))  # stable: ties keep file order
        newest = group[-1]
        if newest.get("status") != "ok":
            out.append(newest)
            continue
        out.append(_merge_rounds([r for r in group if r is newest or (r.get("status") == "ok" and _same_file(r, newest))]))
    return out


def _lat(row: dict, key: str = LATENCY_KEY) -> float | None:
    value = (row.get(key) or {}).get("median")
    return None if value is None else float(value)


def pareto_front(rows: list[dict], key: str = LATENCY_KEY) -> list[dict]:
    """Rows no other row beats on both latency (lower) and PSNR (higher), fastest first."""
    points = sorted((r for r in rows if _lat(r, key) is not None and r.get("psnr_db") is not None),
                    key=lambda r: (_lat(r, key), -r["psnr_db"]))
    front, best = [], float("-inf")
    for r in points:
        if r["psnr_db"] > best:
            front.append(r)
            best = r["psnr_db"]
    return front


def _by_device(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[str(r.get("device_id") or "unknown device")].append(r)
    return dict(sorted(groups.items()))


def _fmt(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _backend_label(r: dict) -> str:
    label = str(r.get("backend"))
    used = r.get("delegate") if r.get("backend") == "litert" else r.get("device_used")
    if used and used not in ("cpu", "xnnpack"):
        label += f"/{used}"
    if r.get("fallback"):
        label += " (fell back)"
    return label


_COLUMNS = ["model", "artifact", "prec.", "backend", "thr", "tile", "tile ms", "720p ms", "1080p ms", "rounds",
            "PSNR dB", "SSIM", "drop dB", "overhead %", "RSS MB", "load s", "Pareto"]


def _table_rows(rows: list[dict]) -> list[list[str]]:
    front = {id(r) for task in {_task(r) for r in rows} for r in pareto_front([x for x in rows if _task(x) == task])}
    out = []
    for r in sorted(rows, key=lambda r: (str(r.get("model")), _lat(r) or float("inf"))):
        tile = r.get("tile") or {}
        out.append([
            _fmt(r.get("model")), _fmt(r.get("artifact")).removesuffix(".manifest.json"),
            _fmt(r.get("precision")), _backend_label(r), _fmt(r.get("threads")),
            _fmt(tile.get("size")), _fmt(_lat(r, "latency_tile"), 2), _fmt(_lat(r)), _fmt(_lat(r, "latency_1080p")),
            _fmt(r.get("rounds", 1)),
            _fmt(r.get("psnr_db"), 2), _fmt(r.get("ssim"), 4),
            _fmt(r.get("drop_db") if r.get("drop_db") is not None else r.get("drop_db_manifest"), 2),
            _fmt(r.get("overhead_pct")), _fmt(r.get("peak_rss_mb"), 0), _fmt(r.get("load_s"), 2),
            "yes" if id(r) in front else "",
        ])
    return out


def _device_line(rows: list[dict]) -> str:
    d = rows[0].get("device") or {}
    loads = [r["device"].get("load_avg_1m") for r in rows if isinstance(r.get("device"), dict)
             and r["device"].get("load_avg_1m") is not None]
    backends = ", ".join(v for v in (d.get("backends") or {}).values() if v)
    load = f"; 1-min load average during the runs {min(loads):.1f}-{max(loads):.1f}" if loads else ""
    return (f"{d.get('cpu_model')} ({d.get('arch')}, {d.get('cpu_usable') or d.get('cpu_cores')} cores, "
            f"SIMD: {', '.join(d.get('cpu_simd') or []) or '-'}); board: {d.get('board') or '-'}; "
            f"{d.get('os')}; Python {d.get('python')}; {backends}{load}")


def markdown_report(rows: list[dict], plots: dict[str, str] | None = None, problems: list[str] = ()) -> str:
    """The whole report as Markdown (``plots``: device id -> PNG file name to link)."""
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    lines = ["# edgedeblur benchmark report", "",
             f"{len(ok)} measurements on {len(_by_device(ok))} device(s); {len(failed)} failed. "
             "Latencies are medians in ms (tile: at the model's tile size; 720p/1080p: a whole frame "
             "through the runner, tiled where the model needs it); where the same artifact file was "
             "measured in several rounds, the median of the rounds' medians ('rounds'). PSNR/SSIM on the evaluation set "
             "shipped with edgedeblur (`edgedeblur/bench/evalset`). Pareto: no other row of the same "
             "task on the same device is both faster at 720p and better in PSNR.", ""]
    for device, group in _by_device(ok).items():
        lines += [f"## {device}", "", _device_line(group), ""]
        if plots and device in plots:
            lines += [f"![PSNR vs latency on {device}]({plots[device]})", ""]
        lines.append("| " + " | ".join(_COLUMNS) + " |")
        lines.append("|" + "|".join("---" for _ in _COLUMNS) + "|")
        lines += ["| " + " | ".join(cells) + " |" for cells in _table_rows(group)]
        lines.append("")
    if failed:
        lines += ["## Failed measurements", "", "| device | artifact | backend | threads | status | reason |",
                  "|---|---|---|---|---|---|"]
        for r in failed:
            reason = str(r.get("reason") or "").replace("|", "/").replace("\n", " ")
            lines.append(f"| {r.get('device_id')} | {r.get('artifact')} | {r.get('backend')} | "
                         f"{r.get('threads')} | {r.get('status')} | {reason} |")
        lines.append("")
    if problems:
        lines += ["## Unreadable input lines", ""] + [f"- {p}" for p in problems] + [""]
    return "\n".join(lines)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()[:60] or "device"


def _task(row: dict) -> str:
    return str(row.get("evalset_task") or row.get("task") or "?")


def is_nas_model(row: dict) -> bool:
    """Rows of NAS-found zoo entries (the ``nasunet`` family), drawn apart from hand-designed ones."""
    return str(row.get("model") or "").startswith("nasunet")


def plot_device(rows: list[dict], device: str, path: Path) -> Path | None:
    """PSNR vs 720p latency for one device, one panel per task (the PSNR of a deblur eval set and
    a denoise eval set are not comparable, so each task has its own Pareto front); NAS-found
    models are starred. None with no points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [r for r in rows if _lat(r) is not None and r.get("psnr_db") is not None]
    if not points:
        return None
    tasks = sorted({_task(r) for r in points})
    fig, axes = plt.subplots(1, len(tasks), figsize=(7.5 * len(tasks), 4.8), dpi=110, squeeze=False)
    backends = sorted({str(r.get("backend")) for r in points})
    markers = dict(zip(backends, "osD^vP*X", strict=False))
    for ax, task in zip(axes[0], tasks, strict=True):
        sel_task = [r for r in points if _task(r) == task]
        front = pareto_front(sel_task)
        for b in backends:
            sel = [r for r in sel_task if str(r.get("backend")) == b]
            if sel:
                ax.scatter([_lat(r) for r in sel], [r["psnr_db"] for r in sel], marker=markers[b], s=36,
                           label=b, alpha=0.8)
        nas = [r for r in sel_task if is_nas_model(r)]
        if nas:
            ax.scatter([_lat(r) for r in nas], [r["psnr_db"] for r in nas], marker="*", s=180, c="gold",
                       edgecolors="k", lw=0.8, zorder=3, label="NAS-found (edge-nas)")
        ax.plot([_lat(r) for r in front], [r["psnr_db"] for r in front], "k--", lw=1, label="Pareto front")
        ax.scatter([_lat(r) for r in front], [r["psnr_db"] for r in front], s=140, facecolors="none",
                   edgecolors="k", lw=1.2)
        for r in front + [r for r in nas if r not in front]:
            ax.annotate(f"{r.get('model')} {r.get('backend')} {r.get('precision')} t{r.get('threads')}",
                        (_lat(r), r["psnr_db"]), fontsize=7, xytext=(4, 4), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("latency per 1280x720 frame, ms (median, log scale)")
        ax.set_ylabel(f"PSNR on the shipped {task} eval set, dB")
        ax.set_title(f"{device}: {task}", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp), suffix=".png")
    finally:
        plt.close(fig)


def _md_table_to_html(md: str) -> str:
    """The report's Markdown subset (headings, paragraphs, tables, images, bullets) to HTML."""
    out, table = [], []

    def flush() -> None:
        if table:
            head, body = table[0], table[2:]
            out.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body)
                       + "</table>")
            table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip("|").split("|")])
            continue
        flush()
        if line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif m := re.match(r"!\[(.*)\]\((.*)\)", line):
            out.append(f'<img alt="{html.escape(m.group(1))}" src="{html.escape(m.group(2))}">')
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    flush()
    return "\n".join(out)


def html_report(markdown: str, images: dict[str, Path]) -> str:
    """One self-contained HTML page: the Markdown rendered, PNGs inlined as base64 data URIs."""
    body = _md_table_to_html(markdown)
    for name, path in images.items():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        body = body.replace(f'src="{html.escape(name)}"', f'src="data:image/png;base64,{data}"')
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
             "table{border-collapse:collapse;font-size:13px;margin-bottom:1em}"
             "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eee}"
             "img{max-width:100%}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>edgedeblur benchmark report</title>"
            f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")


def write_report(rows: list[dict], out_dir: Path, problems: list[str] = (), plots: bool = True) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and one ``pareto_<device>.png`` per device."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = merge_repeats(rows)
    ok = [r for r in rows if r.get("status") == "ok"]
    images: dict[str, Path] = {}
    links: dict[str, str] = {}
    if plots:
        for device, group in _by_device(ok).items():
            png = plot_device(group, device, out_dir / f"pareto_{slug(device)}.png")
            if png is not None:
                images[png.name] = png
                links[device] = png.name
    md = markdown_report(rows, links, list(problems))
    atomic_write(out_dir / "report.md", md)
    atomic_write(out_dir / "report.html", html_report(md, images))
    return {"markdown": out_dir / "report.md", "html": out_dir / "report.html",
            **{f"plot:{k}": v for k, v in images.items()}}
