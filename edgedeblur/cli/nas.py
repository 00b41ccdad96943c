"""``edge-nas``: search a deblur/denoise U-Net for a device's latency budget.

    edge-nas --task deblur --device-profile profiles/pi5_tflite_int8.json --latency-budget 400 --trials 40
    edge-nas ... --trials 60                     # same command, more trials: continues the search
    edge-nas ... --export-genome nas_pi5_deblur.json

Each trial proposes a genome (NSGA-II), predicts its INT8 latency with the device profile and,
if it is not far over budget, trains it briefly with the task's recipe (the proxy). The
hand-designed mnv2unet xs/s/m are evaluated first as references.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ._common import EXIT_OK, cli_entry

if TYPE_CHECKING:
    from ..nas.search import SearchResult

_EPILOG = """\
The device profile is made by edge-nas-profile from INT8 latencies measured on the device
(edge-bench output); see docs/nas.md. Everything goes to --out (default runs/nas-<task>):
  study.log    the Optuna journal: rerun the same command to resume or extend (--trials is the total)
  trials.csv   one row per trial: genome, status, predicted ms, proxy PSNR, params, MACs, CPU s
  pareto.json  the front within the budget (sorted by latency), the zoo references, the best genome
  pareto.png   PSNR against predicted latency, front, references and budget
  proxy/       one short training run per trained candidate (EMA weights, log)
A search of N trials costs about N x (proxy steps x 0.1 s) of one CPU core at the defaults.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (separate so docs and tests can inspect it)."""
    p = argparse.ArgumentParser(
        prog="edge-nas",
        description="Hardware-aware architecture search: maximise proxy PSNR, minimise the device's "
                    "predicted INT8 latency, within a latency budget.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--task", required=True, choices=("deblur", "denoise"),
                   help="what the searched nets restore (selects the proxy training recipe)")
    p.add_argument("--device-profile", required=True, type=Path, metavar="FILE",
                   help="latency profile JSON of the target device (edge-nas-profile measure or fit)")
    p.add_argument("--latency-budget", required=True, type=float, metavar="MS",
                   help="latency limit in ms per tile, as the profile measures it")
    p.add_argument("--trials", type=int, default=40,
                   help="total trials of the search, counting earlier runs in --out (default 40)")
    p.add_argument("--out", "-o", type=Path, default=None, help="search folder (default runs/nas-<task>)")
    p.add_argument("--proxy-steps", type=int, default=300,
                   help="training steps per candidate (default 300; the same for every candidate)")
    p.add_argument("--proxy-crop", type=int, default=48, help="proxy training crop size (default 48)")
    p.add_argument("--proxy-batch", type=int, default=8, help="proxy training batch size (default 8)")
    p.add_argument("--proxy-device", choices=("cpu", "cuda", "auto"), default="cpu",
                   help="where proxy runs train (default cpu: deterministic, CPU time comparable)")
    p.add_argument("--proxy-score", choices=("heldout", "val"), default="heldout",
                   help="what ranks candidates (default heldout: PSNR on the whole held-out validation"
                        " photos under the task's fixed benchmark-style degradation; val: the trainer's"
                        " own validation crops, which misranked denoisers, docs/nas.md)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampler and of every proxy run (default 0)")
    p.add_argument("--strategy", choices=("evolution", "nsga2"), default="evolution",
                   help="evolution (default): mutate the best recent nets within the budget, zoo references "
                        "first; nsga2: Optuna's NSGA-II over the whole space, the budget as a constraint")
    p.add_argument("--warm-start", action="append", default=[], type=Path, metavar="DIR",
                   help="an earlier search folder with the same task, profile and proxy settings "
                        "(any budget): its trained candidates join this search first, free; repeatable")
    p.add_argument("--enqueue", action="append", default=[], type=Path, metavar="FILE",
                   help="a JSON genome (a zoo genome file, a genome object or a list of them) to train "
                        "first, before the search's own proposals; counted as trials; repeatable")
    p.add_argument("--no-zoo", action="store_true",
                   help="do not evaluate the hand-designed mnv2unet xs/s/m references first")
    p.add_argument("--data-root", default=None,
                   help="training data folder (default $EDGEDEBLUR_DATA or ../shared/data)")
    p.add_argument("--export-genome", type=Path, default=None, metavar="FILE",
                   help="write the best genome within budget as a zoo genome file <name>.json "
                        "(the model name is the file stem, e.g. nas_pi5_deblur.json)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return p


def _fmt(value: object, spec: str, default: str = "-") -> str:
    return default if value is None else format(value, spec)


def _print_front(result: SearchResult, stream: TextIO) -> None:
    from ..nas.search import best_record

    front = result.front
    print(f"Pareto front within {result.budget_ms:g} ms ({len(front)} of {len(result.records)} trials):",
          file=stream)
    print(f"  {'ms':>8} {'PSNR dB':>8} {'params':>8} {'GMAC720p':>8}  {'key':12}  description", file=stream)
    rows = list(front) + [r for r in result.records if r.zoo and r not in front]
    for r in rows:
        tag = f"  [{r.zoo}]" if r.zoo else ""
        mark = "" if r in front else " (reference, not on the front)"
        print(f"  {r.latency_ms:8.1f} {_fmt(r.psnr, '8.2f'):>8} {_fmt(r.params, '8d'):>8} "
              f"{_fmt(r.macs_720p and r.macs_720p / 1e9, '8.2f'):>8}  {r.key:12}  {r.description}{tag}{mark}",
              file=stream)
    best = best_record(result)
    if best is None:
        print("  no candidate within the budget yet: raise --latency-budget or --trials", file=stream)
    else:
        print(f"best within budget: {best.psnr:.2f} dB at {best.latency_ms:.1f} ms, trial {best.number} "
              f"({best.key}{', ' + best.zoo if best.zoo else ''})", file=stream)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """Parse, run (or resume) the search, print the front and the paths written."""
    args = build_parser().parse_args(argv)
    from ..nas._proxy import ProxyConfig
    from ..nas._warm_start import read_genome_files
    from ..nas.search import check_genome_path, run_search, write_genome_file

    if args.export_genome is not None:
        check_genome_path(args.export_genome, args.task)  # before the search, not hours after
    enqueue = read_genome_files(args.enqueue)
    out = args.out or Path("runs") / f"nas-{args.task}"
    result = run_search(args.task, args.device_profile, args.latency_budget, args.trials, out,
                        proxy_steps=args.proxy_steps, seed=args.seed, include_zoo=not args.no_zoo,
                        progress=not args.quiet, data_root=args.data_root, strategy=args.strategy,
                        warm_start=args.warm_start, enqueue=enqueue,
                        proxy=ProxyConfig(crop=args.proxy_crop, batch=args.proxy_batch,
                                          device=args.proxy_device, score=args.proxy_score))
    stream = sys.stderr
    counts: dict[str, int] = {}
    for r in result.records:
        counts[r.status] = counts.get(r.status, 0) + 1
    prof = result.profile
    print(f"edge-nas {result.task}: {len(result.records)} trials ({result.new_trials} new; "
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
          + f") on {prof.get('device')} / {prof.get('target')}, budget {result.budget_ms:g} ms", file=stream)
    _print_front(result, stream)
    for label, path in result.paths.items():
        print(f"  {label:12} {path}", file=stream)
    if args.export_genome is not None:
        path = write_genome_file(result, args.export_genome)
        print(f"  genome file  {path} (copy into edgedeblur/models/genomes/ and train it with edge-train)",
              file=stream)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
