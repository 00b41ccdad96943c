"""``edge-train``: train a zoo model from a YAML recipe.

    edge-train mnv2unet_s_denoise --out runs/s_denoise --max-minutes 30
    edge-train my_recipe.yaml --steps 2000 --set train.lr=1e-3 --set data.batch=16
    edge-train mnv2unet_s_denoise --out runs/s_denoise --resume

Precedence: built-in defaults < recipe file < ``--set`` < explicit flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import EXIT_OK, cli_entry

_EPILOG = """\
recipes shipped with edgedeblur: see edgedeblur/train/recipes/ (pass a name or a path).
Every recipe key can be overridden with --set section.key=value, e.g.
  --set train.lr=1e-3  --set data.crop=96  --set loss.fft=0.1  --set checkpoint.ship=false
The run folder gets: checkpoint/ (resumable), weights.safetensors (EMA), log.csv,
summary.json, curves.png and recipe.json. Training data is read from $EDGEDEBLUR_DATA or
../shared/data (train/ only; the eval sets are never used for training).
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (separate so docs and tests can inspect it)."""
    p = argparse.ArgumentParser(
        prog="edge-train",
        description="Train a zoo model (denoise/deblur) from a YAML recipe, on CPU or CUDA.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("recipe", help="recipe YAML path or shipped recipe name (e.g. mnv2unet_s_denoise)")
    p.add_argument("--out", "-o", type=Path, default=None,
                   help="run folder (default: runs/<recipe name>)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    p.add_argument("--steps", type=int, default=None, help="total optimiser steps (train.steps)")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="wall-clock budget in minutes, 0 = none (train.max_minutes)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (train.threads)")
    p.add_argument("--seed", type=int, default=None, help="random seed (train.seed)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None, help="train.device")
    p.add_argument("--ship", action=argparse.BooleanOptionalAction, default=None,
                   help="also write the EMA weights into edgedeblur/models/weights (checkpoint.ship)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any recipe key (repeatable)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return p


def _flag_overrides(args: argparse.Namespace) -> list[tuple[str, object]]:
    flags = {"train.steps": args.steps, "train.max_minutes": args.max_minutes,
             "train.threads": args.threads, "train.seed": args.seed, "train.device": args.device,
             "checkpoint.ship": args.ship}
    return [(k, float(v) if k == "train.max_minutes" else v) for k, v in flags.items() if v is not None]


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """Parse, load the recipe with overrides, train, print the summary."""
    args = build_parser().parse_args(argv)
    from ..train import load_recipe, parse_override, train

    overrides = [parse_override(o) for o in args.overrides] + _flag_overrides(args)
    recipe = load_recipe(args.recipe, overrides)
    out = args.out or Path("runs") / Path(str(args.recipe)).stem
    result = train(recipe, out, resume=args.resume, show_progress=not args.quiet)
    val = f"{result.final_val_psnr:.2f} dB" if result.final_val_psnr is not None else "n/a"
    best = f"{result.best_val_psnr:.2f} dB" if result.best_val_psnr is not None else "n/a"
    print(f"trained {result.model}: {result.steps} steps in {result.seconds / 60:.1f} min "
          f"(stopped by {result.stopped_by}); validation PSNR {val} (best {best})", file=sys.stderr)
    print(f"  run folder: {result.run_dir}", file=sys.stderr)
    print(f"  weights:    {result.weights}" + (f" (shipped to {result.shipped})" if result.shipped else ""),
          file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
