"""Protocol check: colour BM3D on CBSD68 at sigma 25 must score 30.71 +- 0.15 dB (published CBM3D).

(`--set set12|bsd68|mcmaster` checks the other published BM3D figures the same way.)

Why: if our noise model, quantisation or PSNR differ from the papers' protocol, every number we
publish for the zoo is off by an unknown amount. BM3D has a published figure on this exact set,
so it pins the whole evaluation chain (``edgedeblur.degrade.paper_awgn``-equivalent noise ->
registry method ``bm3d`` = ``bm3d.bm3d_rgb(noisy, sigma_psd=25/255)`` -> ``edgedeblur.metrics``).

It runs ``edge-eval`` itself (same code path as a user), then checks the JSON summary:

    nice -n 10 .venv/bin/python benchmarks/bm3d_cbsd68.py          # ~30 s per image on 2 cores

which is

    edge-eval --method bm3d --data ../shared/data/eval/cbsd68 --noise gaussian:sigma=25 \\
        --seed 0 --json benchmarks/results/bm3d_cbsd68.json

Exit status 0 when within tolerance, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

#: BM3D / CBM3D at sigma 25 from ../shared/data/README.md (the papers' tables); --set picks one.
PUBLISHED_SIGMA25 = {"cbsd68": 30.71, "set12": 29.97, "bsd68": 28.57, "mcmaster": 31.66}
TOLERANCE_DB = 0.15
REPO = Path(__file__).resolve().parents[1]


def _run_shards(cmd: list[str], jobs: int, out: Path) -> int:
    """Run ``edge-eval`` in ``jobs`` niced processes (``--shard k/jobs``), merge their reports."""
    from edgedeblur.evaluate import EvalFailure, EvalResult, ImageScore

    parts = [out.with_name(f"{out.stem}.part{k}of{jobs}.json") for k in range(jobs)]
    procs = [subprocess.Popen([sys.executable, "-m", "edgedeblur.cli.evaluate", *cmd, "--json", str(part),
                               "--shard", f"{k}/{jobs}"]) for k, part in enumerate(parts)]
    try:
        codes = [proc.wait() for proc in procs]
    finally:  # stopping this script stops its shards too
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
    reports = [json.loads(part.read_text()) for part in parts if part.exists()]
    if len(reports) != jobs:
        return max(codes) or 1
    first = reports[0]["summary"]
    merged = EvalResult(method=first["method"], data=first["data"], degradation=first["degradation"],
                        seed=first["seed"], protocol=first["protocol"],
                        degradation_spec=first["degradation_spec"], machine=first["machine"])
    fields = ("name", "psnr", "ssim", "seconds", "megapixels", "input_psnr", "kernel", "cpu_seconds")
    rows = [row for report in reports for row in report["images"]]
    merged.scores = [ImageScore(**{f: row[f] for f in fields}) for row in sorted(rows, key=lambda r: r["name"])]
    merged.failures = [EvalFailure(**f) for report in reports for f in report["failures"]]
    merged.write_json(out)
    for part in parts:
        part.unlink()
    print(merged.format_table())
    return max(codes)


def summarise_log(log: Path) -> int:
    """Mean of the per-image lines edge-eval printed so far (for a run stopped before the end)."""
    import re

    text = log.read_text(errors="replace").replace("\r", "\n")
    rows = dict(re.findall(r"^\s+(\S+\.\w+): ([0-9.]+) dB, SSIM", text, flags=re.M))
    ssims = dict(re.findall(r"^\s+(\S+\.\w+): [0-9.]+ dB, SSIM ([0-9.]+)", text, flags=re.M))
    if not rows:
        print(f"no per-image lines in {log}")
        return 1
    for name in sorted(rows):
        print(f"{name:<14}{float(rows[name]):8.2f} dB  SSIM {float(ssims[name]):.4f}")
    values = [float(v) for v in rows.values()]
    print(f"partial: {len(values)} images, mean PSNR {sum(values) / len(values):.2f} dB, "
          f"mean SSIM {sum(float(v) for v in ssims.values()) / len(ssims):.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from edgedeblur.cli.evaluate import main as edge_eval

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=sorted(PUBLISHED_SIGMA25), default="cbsd68",
                        help="which published BM3D figure to check (default cbsd68: CBM3D 30.71 dB)")
    parser.add_argument("--data", help="the set's folder (default ../shared/data/eval/SET)")
    parser.add_argument("--sigma", type=float, default=25.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="first N images only (a quick look)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="split the run over this many processes (edge-eval --shard) and merge")
    parser.add_argument("--json", help="report path (default benchmarks/results/bm3d_SET.json)")
    parser.add_argument("--from-log", metavar="LOG",
                        help="only summarise the per-image lines of an unfinished run's output")
    args = parser.parse_args(argv)
    if args.from_log:
        return summarise_log(Path(args.from_log))
    args.data = args.data or str(REPO.parent / "shared" / "data" / "eval" / args.set)
    if args.json is None:
        args.json = str(REPO / "benchmarks" / "results" / f"bm3d_{args.set}.json")
    published = PUBLISHED_SIGMA25[args.set]
    if args.sigma != 25.0:
        parser.error("the published figures in this script are for --sigma 25")

    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    cmd = ["--method", "bm3d", "--data", args.data, "--noise", f"gaussian:sigma={args.sigma:g}",
           "--seed", str(args.seed)]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    print("edge-eval " + " ".join(cmd) + f" --json {args.json}"
          + (f"  (as {args.jobs} shards)" if args.jobs > 1 else ""), flush=True)
    if args.jobs > 1:
        code = _run_shards(cmd, args.jobs, Path(args.json))
    else:
        code = edge_eval([*cmd, "--json", args.json])
    if code != 0:
        print(f"edge-eval exited with {code}: FAIL")
        return 1
    summary = json.loads(Path(args.json).read_text())["summary"]
    gap = summary["psnr"] - published
    ok = abs(gap) <= TOLERANCE_DB
    print(f"{args.set}: mean PSNR {summary['psnr']:.2f} dB vs published BM3D {published} dB "
          f"(gap {gap:+.2f}, tolerance {TOLERANCE_DB}), SSIM {summary['ssim']:.5f}, "
          f"{summary['seconds_per_mp']:.1f} s/MP wall, {summary['cpu_seconds_per_mp']:.1f} CPU-s/MP on {summary['machine']}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
