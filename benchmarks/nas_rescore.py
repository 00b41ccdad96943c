"""Re-score the proxy runs of a finished edge-nas search with the current proxy score.

    .venv/bin/python benchmarks/nas_rescore.py runs/nas-denoise-2k --task denoise \
        -o benchmarks/nas/searches/denoise-2k-rescored.json

Why: searches run before 2026-11-30 ranked candidates by the trainer's validation crops with the
raw model's BatchNorm statistics (``--proxy-score val``). This loads every completed proxy run's
EMA weights, re-estimates their BatchNorm statistics as the trainer now does at the end of a run
(``train.bn_recal``: 200 batches of the proxy recipe's data, the trainer's recalibration seed),
and scores them with :func:`edgedeblur.nas._proxy.heldout_score` (whole held-out photos, the
task's fixed benchmark-style degradation), so the old ranking can be compared with the new one
without retraining anything. One CPU thread; about 15 s per candidate on this machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("search", type=Path, help="an edge-nas --out folder (trials.csv, proxy/)")
    p.add_argument("--task", choices=("deblur", "denoise"), required=True)
    p.add_argument("--crop", type=int, default=64, help="proxy crop of the search (recalibration batches)")
    p.add_argument("--batch", type=int, default=8, help="proxy batch of the search")
    p.add_argument("--bn-batches", type=int, default=200)
    p.add_argument("-o", "--out", type=Path, default=None, help="JSON file (default SEARCH/rescored.json)")
    args = p.parse_args(argv)

    import torch

    from edgedeblur.models import create_model
    from edgedeblur.nas._proxy import ProxyConfig, heldout_score, proxy_recipe
    from edgedeblur.train import load_weights, recalibrate_bn_for_recipe

    torch.set_num_threads(1)
    trials = args.search / "trials.csv"
    if not trials.is_file():
        print(f"{trials}: no trials.csv (is this an edge-nas --out folder?)", file=sys.stderr)
        return 2
    recipe = proxy_recipe(args.task, ProxyConfig(crop=args.crop, batch=args.batch))
    rows = []
    for r in csv.DictReader(trials.open(encoding="utf-8")):
        runs = sorted(args.search.glob(f"proxy/t*_{r['key']}"))
        if r["status"] != "complete" or not runs:
            continue
        net = create_model(f"nasunet_{args.task}", pretrained=False, genome=json.loads(r["genome"]))
        net.load_state_dict(load_weights(runs[0] / "weights.safetensors"))
        recalibrate_bn_for_recipe(net, recipe, args.bn_batches)
        score = heldout_score(net.eval(), args.task, recipe["data"])
        rows.append({"trial": int(r["number"]), "key": r["key"], "zoo": r["zoo"] or None,
                     "latency_ms": round(float(r["latency_ms"]), 3), "params": int(r["params"]),
                     "proxy_psnr_search": float(r["psnr"]), "proxy_psnr_heldout": round(float(score), 3),
                     "description": r["description"]})
        print(f"{r['key']}  {float(r['latency_ms']):6.2f} ms  search {float(r['psnr']):6.2f}  "
              f"heldout {score:6.2f}  {r['zoo'] or r['description']}", flush=True)
    out = args.out or args.search / "rescored.json"
    doc = {"search": str(args.search), "task": args.task, "bn_batches": args.bn_batches,
           "score": "heldout (edgedeblur.nas._proxy.heldout_score) after BatchNorm re-estimation",
           "rows": sorted(rows, key=lambda x: x["latency_ms"])}
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
