"""``edge-nas-profile``: build the measured INT8 latency profile ``edge-nas`` searches against.

Thin: parse, call :mod:`edgedeblur.nas.latency`, print a summary. Subcommands:

  measure   sample N random genomes (+ the four mnv2unet variants), export and time each here,
            fit on N - K, report the error on the K held out, write the profile and a scatter PNG
  export    export candidates for another device (Pi, phone) + candidates.json
  fit       fit a profile from that device's edge-bench output
  show      print a profile: device, coefficients, error
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._common import EXIT_OK, EXIT_SOME_FAILED, cli_entry

EPILOG = """examples:
  edge-nas-profile measure --candidates 40 --heldout 10 -o benchmarks/nas/profile.json
  edge-nas-profile export --candidates 40 -o pi_candidates/      # then on the Pi:
      edge-bench pi_candidates/ --threads 4 --frames none --no-accuracy -o bench.jsonl
  edge-nas-profile fit --candidates pi_candidates/candidates.json --bench bench.jsonl --heldout 10 -o pi5.json
  edge-nas-profile show benchmarks/nas/profile.json

Deblur and denoise nets of one genome are the same graph, so one profile serves both tasks.
Weights are random: INT8 speed depends on shapes and ops, not on weight values.
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default="deblur", choices=("deblur", "denoise"),
                   help="which nasunet entry to export (same graph for both; default: %(default)s)")
    p.add_argument("--candidates", type=int, default=40, help="random genomes to sample (default: %(default)s)")
    p.add_argument("--no-zoo", action="store_true", help="do not add the four mnv2unet genomes")
    p.add_argument("--target", default="tflite-int8", help="edge-export target (default: %(default)s)")
    p.add_argument("--tile", type=int, default=256, help="tile size the nets are exported at (default: %(default)s)")
    p.add_argument("--max-levels", type=int, default=5, help="largest number of U-Net levels sampled (3..5)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling and the held-out split (default: %(default)s)")


def _stat(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stat", default="median", choices=("median", "min"),
                   help="timing to fit: median of the runs, or the fastest run when other processes share "
                        "the CPU (the median then measures the load too; default: %(default)s)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="edge-nas-profile", description=__doc__.split("\n")[0].split(": ", 1)[1],
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    m = sub.add_parser("measure", help="export + time candidates here and fit a profile")
    _common(m)
    m.add_argument("--heldout", type=int, default=10, help="candidates scored, not fitted (default: %(default)s)")
    m.add_argument("--threads", type=int, default=1, help="runtime threads while timing (default: %(default)s)")
    m.add_argument("--runs", type=int, default=15, help="timed runs per candidate (default: %(default)s)")
    m.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs (default: %(default)s)")
    m.add_argument("--rounds", type=int, default=2,
                   help="passes over all candidates; each keeps its least disturbed pass (default: %(default)s)")
    _stat(m)
    m.add_argument("--work", type=Path, default=None,
                   help="folder for artifacts and measured.jsonl (default: <output>.work/); rerun to resume")
    m.add_argument("-o", "--output", type=Path, required=True, help="profile JSON to write")
    e = sub.add_parser("export", help="export candidates to time on another device")
    _common(e)
    e.add_argument("-o", "--output", type=Path, required=True, help="folder for the artifacts and candidates.json")
    f = sub.add_parser("fit", help="fit a profile from edge-bench rows measured on another device")
    f.add_argument("--candidates", type=Path, required=True, help="candidates.json written by 'export'")
    f.add_argument("--bench", type=Path, nargs="+", required=True, help="edge-bench output (.jsonl)")
    f.add_argument("--heldout", type=int, default=0, help="candidates scored, not fitted (default: %(default)s)")
    f.add_argument("--threads", type=int, default=None, help="pick rows of this thread count (when mixed)")
    f.add_argument("--seed", type=int, default=0, help="seed of the held-out split (default: %(default)s)")
    _stat(f)
    f.add_argument("-o", "--output", type=Path, required=True, help="profile JSON to write")
    s = sub.add_parser("show", help="print a profile")
    s.add_argument("profile", type=Path)
    return p


def _genomes(args: argparse.Namespace) -> tuple[list[dict], int]:
    """Random genomes first, then the zoo's mnv2unet points (not held out: they seed the search)."""
    import numpy as np

    from ..errors import InvalidInputError
    from ..nas.space import genome_from_mnv2unet, genome_key, sample_genome

    if args.candidates < 0 or not 3 <= args.max_levels <= 5:
        raise InvalidInputError("--candidates must be >= 0 and --max-levels 3..5",
                                given=f"{args.candidates}, {args.max_levels}")
    rng = np.random.default_rng(args.seed)
    genomes, seen = [], set()
    while len(genomes) < args.candidates:  # distinct nets only
        g = sample_genome(rng, args.max_levels)
        if genome_key(g) not in seen:
            seen.add(genome_key(g))
            genomes.append(g)
    n_random = len(genomes)
    if not args.no_zoo:
        genomes += [genome_from_mnv2unet(s) for s in ("xs", "s", "m", "l")]
    return genomes, n_random


def _setup_threads() -> None:
    # export work is not timed; keep it to one core (the machine may be shared)
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _measure(args: argparse.Namespace) -> int:
    from ..bench.fingerprint import device_fingerprint
    from ..nas.latency import LatencyModel, measure_candidates, split_heldout

    genomes, n_random = _genomes(args)
    _setup_threads()
    work = args.work or args.output.with_name(args.output.name + ".work")
    fingerprint = device_fingerprint()
    print(f"device: {fingerprint['device_id']} | load {fingerprint['load_avg_1m']} | {len(genomes)} candidates "
          f"-> {work}/", file=sys.stderr)
    rows = measure_candidates(genomes, work, task=args.task, target=args.target, tile=args.tile,
                              threads=args.threads, runs=args.runs, warmup=args.warmup, rounds=args.rounds,
                              seed=args.seed)
    tagged = [{**r, "zoo": i >= n_random} for i, r in enumerate(rows)]
    fit, held = split_heldout(tagged, args.heldout, args.seed,
                              eligible=lambda r: not r["zoo"] and r.get("ms") is not None)
    fingerprint["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    backend = next((r.get("backend") for r in rows if r.get("backend")), None)
    model = LatencyModel.fit(fit, tile=args.tile, heldout_rows=held, stat=args.stat, target=args.target,
                             backend=backend, threads=args.threads, device=fingerprint)
    return _finish(model, args.output)


def _export(args: argparse.Namespace) -> int:
    from ..nas.latency import export_candidates

    genomes, _ = _genomes(args)
    _setup_threads()
    path = export_candidates(genomes, args.output, task=args.task, target=args.target, tile=args.tile,
                             seed=args.seed)
    print(f"wrote {len(genomes)} candidates and {path}")
    print("next, on the device (copy the folder there first):")
    print(f"  edge-bench {args.output} --threads 1 --frames none --no-accuracy -o bench.jsonl")
    print(f"then here: edge-nas-profile fit --candidates {path} --bench bench.jsonl --heldout 10 -o profile.json")
    return EXIT_OK


def _fit(args: argparse.Namespace) -> int:
    from ..nas.latency import fit_from_bench

    model = fit_from_bench(args.candidates, args.bench, heldout=args.heldout, seed=args.seed, threads=args.threads,
                           stat=args.stat)
    return _finish(model, args.output)


def _finish(model, output: Path) -> int:  # noqa: ANN001
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output)
    plot = _plot(model, output.with_suffix(".png"))
    _show(model)
    print(f"\nwrote {output}" + (f" and {plot}" if plot else ""))
    failed = [r for r in model.rows if r.get("status") not in (None, "ok")]
    for r in failed:
        print(f"  FAILED {r.get('key')}: {r.get('reason')}", file=sys.stderr)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _show(model) -> None:  # noqa: ANN001
    from ..nas.latency import STATS

    dev = model.device or {}
    col = STATS[model.stat]
    ok = [r for r in model.rows if r.get(col) is not None]
    print(f"device : {dev.get('device_id', '?')} | {dev.get('os', '?')} | load {dev.get('load_avg_1m', '?')}")
    print(f"target : {model.target} ({model.backend}), {model.threads} thread(s), tile {model.tile}, "
          f"{len(ok)} measured nets ({min(r[col] for r in ok):.2f} .. {max(r[col] for r in ok):.2f} ms, {model.stat})"
          if ok else f"target : {model.target}, no measured rows")
    print(f"\n{'feature':<12} {'cost':>14}  {'share':>6}  per")
    for e in model.explain():
        print(f"{e['feature']:<12} {_unit(e['coef_ms']):>14}  {e['share_pct']:>5}%  {e['per']}")
    if model.heldout:
        h = model.heldout
        print(f"\nheld-out error ({h['n']} nets not fitted): MAPE {h['mape_pct']:.1f}%  MAE {h['mae_ms']:.2f} ms  "
              f"worst {h['max_ape_pct']:.1f}%")
    if len(ok) >= 5:
        cv = model.cross_validated_error()
        print(f"{cv['k']}-fold CV over all {cv['n']} nets: MAPE {cv['mape_pct']:.1f}%  MAE {cv['mae_ms']:.2f} ms")


def _unit(ms: float) -> str:
    """A coefficient in the unit that reads best (ms per unit -> ns / us / ms)."""
    if ms == 0:
        return "0"
    if ms < 1e-3:
        return f"{ms * 1e6:.4g} ns"
    return f"{ms * 1e3:.4g} us" if ms < 1 else f"{ms:.4g} ms"


def _plot(model, path: Path) -> Path | None:  # noqa: ANN001
    """Predicted vs measured scatter (fit and held-out nets), with the +-10% band."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return None
    from ..io import atomic_write
    from ..nas.latency import STATS

    col = STATS[model.stat]
    fig, ax = plt.subplots(figsize=(5, 5))
    hi = 0.0
    for split, colour in (("fit", "tab:blue"), ("heldout", "tab:red")):
        rows = [r for r in model.rows if r.get("split") == split and r.get(col) is not None]
        if rows:
            meas = [r[col] for r in rows]
            pred = [model.predict_features(r["features"]) for r in rows]
            hi = max(hi, *meas, *pred)
            ax.scatter(meas, pred, s=18, c=colour, label=f"{split} ({len(rows)})")
    ax.plot([0, hi], [0, hi], "k-", lw=0.8)
    ax.fill_between([0, hi], [0, 0.9 * hi], [0, 1.1 * hi], color="grey", alpha=0.2, label="+-10%")
    ax.set_xlabel(f"measured ms / tile ({model.stat} of the runs)")
    ax.set_ylabel("predicted ms / tile")
    title = f"{model.target}, {model.threads} thr, tile {model.tile}"
    if model.heldout:
        title += f"\nheld-out MAPE {model.heldout['mape_pct']:.1f}%"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"), suffix=".png")
    plt.close(fig)
    return path


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "show":
        from ..nas.latency import LatencyModel

        _show(LatencyModel.load(args.profile))
        return EXIT_OK
    return {"measure": _measure, "export": _export, "fit": _fit}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
