"""Peak RSS of the real ``edge-deblur`` command on a 50-megapixel PNG, per backend (goal: <= 1 GiB).

Steps:
1. a child writes ``build/cli-memory/photo50mp.png`` once: 8192 x 6144 RGB uint8 (50.3 MP), a
   CBSD68 photo with Gaussian noise (sigma 25, seed 0) repeated over the frame;
2. for each artifact manifest, ``edge-deblur PHOTO -o OUT -m MANIFEST -q`` runs as a child and
   its own peak RSS is read with ``os.wait4`` (the kernel's ``ru_maxrss`` of that child alone);
3. a baseline child that only reads the PNG and writes it again (``io.read_image`` +
   ``io.write_image``) is measured the same way: what any command that keeps the photo pays.

``--source DIR`` runs ``edge-deblur`` from another copy of the package (e.g. ``git archive`` of
an older commit unpacked in DIR, put first on PYTHONPATH): how the "before" figure was taken.
Writes ``docs/bench/cli_memory.json`` and the table ``docs/bench/cli_memory.md`` (rows of one
``--label`` replace that label's earlier rows, so "before" and "after" stay side by side).

Run: ``nice .venv/bin/python benchmarks/runtime_cli_memory.py build/i23/*.manifest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
H, W = 6144, 8192
GIB = 1024.0
RESULTS = REPO / "docs" / "bench" / "cli_memory.json"

MAKE_PHOTO = """
import sys, numpy as np
from PIL import Image
from edgedeblur.io import read_image
src = read_image(sys.argv[1]).astype(np.float32)
noisy = np.clip(src + np.random.default_rng(0).normal(0, 25, src.shape), 0, 255).astype(np.uint8)
sh, sw = noisy.shape[:2]
img = np.tile(noisy, (-(-{h} // sh), -(-{w} // sw), 1))[:{h}, :{w}]
assert img.shape == ({h}, {w}, 3), img.shape
Image.fromarray(np.ascontiguousarray(img)).save(sys.argv[2], compress_level=1)
"""

COPY = """
import sys
from edgedeblur.io import read_image, write_image
write_image(sys.argv[2], read_image(sys.argv[1]))
"""


def _peak_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; return its own peak RSS (MiB), its wall time (s) and its stderr's tail."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace")[-2000:]
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
    return usage.ru_maxrss / 1024.0, time.perf_counter() - started, tail


def _photo(folder: Path, data: Path) -> Path:
    photo = folder / "photo50mp.png"
    if not photo.exists():
        source = sorted((data / "eval" / "cbsd68").glob("*.png"))[0]
        subprocess.run([sys.executable, "-c", MAKE_PHOTO.format(h=H, w=W), str(source), str(photo)],
                       check=True, cwd=REPO)
    return photo


def _load_average() -> float:
    return round(os.getloadavg()[0], 2)


def _row(label: str, what: str, manifest: Path | None, peak: float, seconds: float, loads: list[float]) -> dict:
    backend = precision = None
    if manifest is not None:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        backend, precision = data["artifact"].get("backend"), data["artifact"]["precision"]
    return {"label": label, "what": what, "backend": backend, "precision": precision,
            "peak_rss_mib": round(peak, 1), "seconds": round(seconds, 1), "load_1min": loads,
            "megapixels": round(H * W / 1e6, 1), "ok": peak <= GIB}


def _table(result: dict) -> str:
    rows, machine = result["rows"], result["machine"]
    lines = [
        "# Peak RSS of `edge-deblur` on a 50-megapixel photo",
        "",
        f"Written by `benchmarks/runtime_cli_memory.py` (do not edit by hand). Machine: {machine}. "
        f"Photo: {W} x {H} RGB uint8 PNG ({H * W / 1e6:.1f} MP, 151 MB of pixels). Peak RSS is the "
        "child's own `ru_maxrss` (`os.wait4`); goal <= 1024 MiB. `baseline` only reads and writes "
        "the PNG (`io.read_image` + `io.write_image`). 1-minute load average before / after each run.",
        "",
        "| run | command | backend | precision | peak RSS MiB | <= 1 GiB | seconds | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        load = " / ".join(f"{v:.1f}" for v in r["load_1min"])
        lines.append(f"| {r['label']} | {r['what']} | {r['backend'] or '-'} | {r['precision'] or '-'} | "
                     f"{r['peak_rss_mib']:.0f} | {'yes' if r['ok'] else 'no'} | {r['seconds']:.0f} | {load} |")
    lines += [""] + [f"- `{label}`: {note}" for label, note in sorted(result.get("notes", {}).items())]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifests", nargs="+", type=Path, help="artifact manifests (one row each)")
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--work", type=Path, default=REPO / "build" / "cli-memory")
    p.add_argument("--label", default="after", help="name of this set of rows (e.g. before, after)")
    p.add_argument("--source", type=Path, help="run edge-deblur from the package copy in this folder")
    p.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS for the children")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--note", help="what this label's rows ran (shown under the table)")
    p.add_argument("--table-only", action="store_true", help="rewrite the table (and --note) from the JSON")
    p.add_argument("-o", "--output", type=Path, default=RESULTS)
    args = p.parse_args()
    sys.path.insert(0, str(REPO))
    from edgedeblur._machine import machine_summary
    from edgedeblur.io import atomic_write

    old = json.loads(args.output.read_text(encoding="utf-8")) if args.output.exists() else {"rows": []}
    notes = {**old.get("notes", {}), **({args.label: args.note} if args.note else {})}
    if args.table_only:
        result = {**old, "notes": notes}
        atomic_write(args.output, json.dumps(result, indent=1) + "\n")
        atomic_write(args.output.with_suffix(".md"), _table(result))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    photo = _photo(args.work, args.data)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    if args.source is not None:
        env["PYTHONPATH"] = str(args.source.resolve()) + os.pathsep + env.get("PYTHONPATH", "")
    rows = []
    if not args.no_baseline:
        before = _load_average()
        peak, sec, _ = _peak_child([sys.executable, "-c", COPY, str(photo), str(args.work / "copy.png")], env)
        rows.append(_row(args.label, "baseline (read + write)", None, peak, sec, [before, _load_average()]))
        print(f"baseline: {peak:.0f} MiB, {sec:.0f} s", flush=True)
    for manifest in args.manifests:
        out = args.work / f"out-{manifest.name.split('.')[1]}"
        out.mkdir(exist_ok=True)
        before = _load_average()
        cmd = [str(BIN / "edge-deblur"), str(photo), "-o", str(out), "-m", str(manifest), "-q"]
        peak, sec, _ = _peak_child(cmd, env)
        what = f"edge-deblur -m {manifest.name}"
        rows.append(_row(args.label, what, manifest, peak, sec, [before, _load_average()]))
        print(f"{what}: {peak:.0f} MiB, {sec:.0f} s", flush=True)
    kept = [r for r in old["rows"] if r["label"] != args.label]
    result = {"machine": machine_summary(), "photo": {"width": W, "height": H}, "notes": notes,
              "rows": kept + rows}
    atomic_write(args.output, json.dumps(result, indent=1) + "\n")
    atomic_write(args.output.with_suffix(".md"), _table(result))
    return 0 if all(r["ok"] for r in rows if r["backend"]) else 1


if __name__ == "__main__":
    sys.exit(main())
