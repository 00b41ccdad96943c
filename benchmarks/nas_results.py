"""NAS-found models against their hand-designed peers, on equal terms; regenerates the results
section of docs/nas.md and benchmarks/nas/results.json.

    .venv/bin/python benchmarks/nas_results.py --pair deblur:nasunet_epyc_deblur:mnv2unet_s_deblur \
        --pair denoise:nasunet_epyc_denoise:mnv2unet_s_denoise --steps 6000

For each pair (task, NAS zoo entry, hand-designed zoo entry):

1. **Same recipe, same budget**: both are trained by ``edge-train`` from the recipe of the NAS
   entry (``edgedeblur/train/recipes/<nas>.yaml``, a copy of the peer's recipe with only the
   model name changed) for ``--steps`` steps, same seed, same data stream. The NAS run ships
   its weights into the package (it is the zoo entry); the peer run stays in ``--runs-dir``.
   Finished runs are reused (``--resume`` continues an interrupted one).
2. **Accuracy**: the task's benchmark of docs/zoo_results.md (denoise: CBSD68 at sigma 25,
   published protocol, all 68 images; deblur: the first 12 CBSD68 images x the 8 Levin kernels
   + sigma 2.55, blind), PyTorch deploy form.
3. **Latency on this machine**: each trained model is exported to ``tflite-int8`` (256 px tile,
   calibrated on the training photos) and timed by ``edge-bench`` (LiteRT, 1 thread, tile and
   720p frame); the two rows of a pair are measured in the same run, interleaved, so the ratio
   holds even on a busy machine. The rows go to ``docs/bench/nas-front.jsonl`` for ``edge-report``,
   tagged with their pair, replacing that pair's earlier rows.

A NAS entry *dominates* its peer when it is at least 0.2 dB better at no more latency, or at
least 20% faster at no less PSNR (issue 6).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
DOC = REPO / "docs" / "nas.md"
RESULTS = REPO / "benchmarks" / "nas" / "results.json"
BENCH_ROWS = REPO / "docs" / "bench" / "nas-front.jsonl"
START, END = "<!-- nas-results:start -->", "<!-- nas-results:end -->"


def _run(cmd: list[str]) -> None:
    print("$", " ".join(cmd), flush=True)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run(cmd, check=True, env=env)


def _replace_rows(pair: str, rows: list[dict]) -> None:
    """Put this pair's edge-bench rows into ``BENCH_ROWS`` in place of its earlier ones (a
    re-measured or replaced pair must not leave stale points on the report's front)."""
    from edgedeblur.io import atomic_write

    old = BENCH_ROWS.read_text().splitlines() if BENCH_ROWS.is_file() else []
    kept = [line for line in old if line.strip() and json.loads(line).get("pair") != pair]
    text = "".join(line + "\n" for line in kept) + "".join(json.dumps(r) + "\n" for r in rows)
    atomic_write(BENCH_ROWS, text)


def train(model: str, recipe: Path, out: Path, steps: int, ship: bool) -> dict:
    """Train (or finish training) ``model`` with ``recipe`` for ``steps`` steps; the run summary."""
    summary = out / "summary.json"
    if summary.is_file() and json.loads(summary.read_text())["steps"] >= steps:
        return json.loads(summary.read_text())
    cmd = [str(REPO / ".venv/bin/edge-train"), str(recipe), "--out", str(out), "--set", f"model={model}",
           "--set", f"train.steps={steps}", "--set", "train.max_minutes=0", "--set", "train.threads=1"]
    if (out / "checkpoint").exists():
        cmd.append("--resume")
    cmd.append("--ship" if ship else "--no-ship")
    _run(cmd)
    return json.loads(summary.read_text())


def accuracy(model: str, task: str, weights: Path) -> dict:
    """The task's benchmark (see the module docstring) of ``model`` with ``weights``."""
    from safetensors.torch import load_file
    from zoo_eval import DATA, deblur_spec

    from edgedeblur.degrade import paper_awgn
    from edgedeblur.evaluate import evaluate
    from edgedeblur.models import create_model
    from edgedeblur.models._method import ModelMethod

    net = create_model(model, pretrained=False)
    net.load_state_dict(load_file(str(weights)))
    method = ModelMethod(net.eval(), model)
    if task == "denoise":
        res = evaluate(method, DATA / "eval/cbsd68", paper_awgn(25), seed=0)
        bench = "cbsd68_sigma25"
    else:
        res = evaluate(method, DATA / "eval/cbsd68", deblur_spec(), seed=0, kernels=DATA / "kernels/levin09", limit=12)
        bench = "levin8_cbsd68"
    print(f"  {model} {bench}: {res.psnr:.3f} dB", flush=True)
    return {"benchmark": bench, "psnr": round(res.psnr, 3), "ssim": round(res.ssim, 4),
            "input_psnr": round(res.input_psnr, 3), "images": len(res.scores)}


def export_int8(model: str, weights: Path, out: Path, shipped: bool) -> Path:
    """tflite-int8 artifact of the trained model; returns its manifest path."""
    from edgedeblur.export import export_model

    kw = {} if shipped else {"arch": model}
    results = export_model(model if shipped else str(weights), "tflite-int8", out, tile=256, calib_images=32,
                           heldout=4, force=True, max_drop_db=100.0, **kw)
    res = results[0]
    if isinstance(res, Exception):
        raise res
    return Path(res.manifest)


def bench_pair(manifests: list[Path], rounds: int) -> list[list[dict]]:
    """``rounds`` interleaved edge-bench rows per manifest (1 thread, tile + 720p)."""
    from edgedeblur.bench.fingerprint import device_fingerprint
    from edgedeblur.bench.measure import ROW_SCHEMA, BenchConfig, bench_isolated

    fingerprint = device_fingerprint()  # as edge-bench does, so edge-report can group the rows
    rows: list[list[dict]] = [[] for _ in manifests]
    for _ in range(rounds):
        for i, m in enumerate(manifests):
            row = bench_isolated(BenchConfig(artifact=str(m), threads=1, runs=15, frames=["720p"], frame_runs=3))
            row.update(schema=ROW_SCHEMA, device_id=fingerprint["device_id"], device=fingerprint)
            rows[i].append(row)
            print(f"  {m.name}: tile {row.get('latency_tile', {}).get('median')} ms, "
                  f"720p {row.get('latency_720p', {}).get('median')} ms", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pair", action="append", required=True, help="TASK:NAS_MODEL:PEER_MODEL")
    p.add_argument("--steps", type=int, default=6000, help="training steps for both (same recipe, same budget)")
    p.add_argument("--runs-dir", type=Path, default=REPO / "runs", help="training run folders")
    p.add_argument("--export-dir", type=Path, default=REPO / "runs" / "nas-export")
    p.add_argument("--rounds", type=int, default=3, help="interleaved edge-bench rounds per pair")
    p.add_argument("--skip-train", action="store_true", help="use the finished runs only")
    args = p.parse_args(argv)
    from edgedeblur._machine import cpu_model
    from edgedeblur.models import get_card, weights_path

    results = []
    BENCH_ROWS.parent.mkdir(parents=True, exist_ok=True)
    for spec in args.pair:
        task, nas, peer = spec.split(":")
        recipe = REPO / "edgedeblur" / "train" / "recipes" / f"{nas}.yaml"
        runs = {nas: args.runs_dir / f"nasbudget-{nas}", peer: args.runs_dir / f"nasbudget-{peer}"}
        entry = {"task": task, "steps": args.steps, "recipe": str(recipe.relative_to(REPO)), "models": {}}
        for model in (nas, peer):
            summary = (json.loads((runs[model] / "summary.json").read_text()) if args.skip_train
                       else train(model, recipe, runs[model], args.steps, ship=model == nas))
            weights = weights_path(nas) if model == nas else runs[model] / "weights.safetensors"
            card = get_card(model)
            entry["models"][model] = {
                "role": "nas" if model == nas else "hand-designed", "params": card.params, "macs_720p": card.macs_720p,
                "train": {"steps": summary["steps"], "cpu_minutes": round(summary.get("cpu_seconds", 0) / 60, 1),
                          "val_psnr": summary.get("final_val_psnr")},
                "accuracy": accuracy(model, task, weights),
                "manifest": str(export_int8(model, weights, args.export_dir / model, shipped=model == nas)),
            }
        manifests = [Path(entry["models"][m]["manifest"]) for m in (nas, peer)]
        rows = bench_pair(manifests, args.rounds)
        _replace_rows(spec, [{**r, "pair": spec} for per in rows for r in per])
        for model, per in zip((nas, peer), rows, strict=True):
            entry["models"][model]["int8_tile_ms"] = statistics.median([r["latency_tile"]["median"] for r in per])
            entry["models"][model]["int8_720p_ms"] = statistics.median([r["latency_720p"]["median"] for r in per])
            entry["models"][model]["int8_psnr_evalset"] = per[-1].get("psnr_db")
        a, b = entry["models"][nas], entry["models"][peer]
        gain = a["accuracy"]["psnr"] - b["accuracy"]["psnr"]
        speed = 1.0 - a["int8_720p_ms"] / b["int8_720p_ms"]
        entry["psnr_gain_db"] = round(gain, 3)
        entry["faster_pct"] = round(100 * speed, 1)
        entry["dominates"] = bool((gain >= 0.2 and speed >= 0.0) or (speed >= 0.2 and gain >= 0.0))
        results.append(entry)
    # merge with the pairs measured by earlier runs (one pair per run is fine)
    old = json.loads(RESULTS.read_text())["results"] if RESULTS.is_file() else []
    done = {(e["task"], *e["models"]) for e in results}  # a pair: (task, NAS model, peer)
    results = [e for e in old if (e["task"], *e["models"]) not in done] + results
    doc = {"machine": cpu_model(), "threads": 1, "results": results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    render(doc)
    return 0


def render(doc: dict) -> None:
    """The results section of docs/nas.md (between the markers)."""
    from edgedeblur.io import atomic_write

    lines = [START, "",
             f"Measured by `benchmarks/nas_results.py` on {doc['machine']}, LiteRT INT8 with 1 thread "
             "(median of the interleaved edge-bench rounds); accuracy in PyTorch (deploy form) on the "
             "zoo benchmarks of docs/zoo_results.md. Both nets of a pair: same recipe, same steps, same seed.", "",
             "| task | model | role | params | GMAC/720p | train steps (CPU min) | benchmark PSNR dB | "
             "INT8 ms/256 tile | INT8 ms/720p | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for e in doc["results"]:
        for name, m in e["models"].items():
            verdict = ""
            if m["role"] == "nas":
                verdict = (f"{e['psnr_gain_db']:+.2f} dB, {e['faster_pct']:+.1f}% faster: "
                           + ("**dominates**" if e["dominates"] else "does not dominate"))
            lines.append(f"| {e['task']} | `{name}` | {m['role']} | {m['params']:,} | {m['macs_720p'] / 1e9:.2f} | "
                         f"{m['train']['steps']} ({m['train']['cpu_minutes']}) | {m['accuracy']['psnr']:.2f} "
                         f"({m['accuracy']['benchmark']}) | {m['int8_tile_ms']:.1f} | {m['int8_720p_ms']:.0f} | {verdict} |")
    lines += ["", END]
    text = DOC.read_text()
    block = "\n".join(lines)
    if START in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    atomic_write(DOC, text)
    print("\n".join(lines[4:-2]))


if __name__ == "__main__":
    sys.exit(main())
