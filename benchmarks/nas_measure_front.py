"""Measure the real INT8 latency of a search's best candidates against the zoo reference.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/nas_measure_front.py runs/nas-denoise-6k-fast \
        runs/nas-denoise-6k-acc --task denoise --min-psnr 29.15 \
        -o benchmarks/nas/searches/denoise-6k-measured.json

Why: the latency profile predicts within about 9% (MAPE), the size of the margins a pick is
judged on (20% faster). Before a candidate gets its full training run, this exports every scored
candidate at or above ``--min-psnr`` (proxy score) and predicted under ``--max-ms``, plus the
reference ``mnv2unet_<ref>``, with random weights (INT8 speed does not depend on the values) and
times them with the runtime, ``--rounds`` passes over the whole list keeping each net's least
disturbed round (``edgedeblur.nas._measure.measure_candidates``, as ``edge-nas-profile`` does).
Prints and writes each candidate's measured ms and its speed-up over the reference.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("searches", nargs="+", type=Path, help="edge-nas --out folders")
    p.add_argument("--task", choices=("deblur", "denoise"), required=True)
    p.add_argument("--min-psnr", type=float, required=True, help="proxy score threshold (dB)")
    p.add_argument("--max-ms", type=float, default=11.0, help="predicted latency limit (ms per tile)")
    p.add_argument("--ref", default="s", help="mnv2unet size of the reference (default s)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--work", type=Path, default=Path("runs/nas-measure"), help="artifacts and measured.jsonl")
    p.add_argument("-o", "--out", type=Path, default=None, help="JSON file of the results")
    args = p.parse_args(argv)

    from edgedeblur._machine import cpu_model
    from edgedeblur.nas._measure import measure_candidates
    from edgedeblur.nas.search import load_search
    from edgedeblur.nas.space import describe_genome, genome_from_mnv2unet

    best: dict = {}
    for folder in args.searches:
        for r in load_search(folder):
            if r.scored and r.psnr >= args.min_psnr and r.latency_ms <= args.max_ms:
                best.setdefault(r.key, r)
    records = sorted(best.values(), key=lambda r: r.latency_ms)
    genomes = [genome_from_mnv2unet(args.ref)] + [r.genome for r in records]
    rows = measure_candidates(genomes, args.work, task=args.task, rounds=args.rounds, progress=False)
    ref_ms = rows[0]["ms"]
    results = []
    if ref_ms is None:
        print(f"mnv2unet_{args.ref} could not be measured: {rows[0]['status']}: {rows[0]['reason']}", file=sys.stderr)
        return 1
    failed = 0
    for r, row in zip(records, rows[1:], strict=True):
        if row["ms"] is None:  # reported, and the others still measured
            failed += 1
            print(f"{r.key}  NOT MEASURED ({row['status']}: {row['reason']})", file=sys.stderr)
            continue
        faster = 100 * (1 - row["ms"] / ref_ms)
        results.append({"key": r.key, "description": describe_genome(r.genome), "proxy_psnr": r.psnr,
                        "predicted_ms": r.latency_ms, "measured_ms": row["ms"], "faster_pct": round(faster, 1)})
        print(f"{r.key}  proxy {r.psnr:.3f} dB  predicted {r.latency_ms:.2f} ms  measured {row['ms']:.2f} ms "
              f"({faster:+.1f}% faster)  {describe_genome(r.genome)}")
    if args.out:
        doc = {"machine": cpu_model(), "target": "tflite-int8", "tile": 256, "threads": 1, "rounds": args.rounds,
               "reference": {"name": f"mnv2unet_{args.ref}", "measured_ms": ref_ms}, "candidates": results}
        args.out.write_text(json.dumps(doc, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
