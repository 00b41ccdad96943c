"""The search's proxy score (held-out photos, the task's fixed degradation) of fully trained nets.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/nas_heldout.py --task denoise \
        mnv2unet_s_denoise=runs/nasbudget-mnv2unet_s_denoise/weights.safetensors nasunet_xeon_denoise

Why: a search with ``--proxy-steps`` equal to the comparison budget ranks candidates by this
score; scoring the hand-designed peer's own full run the same way puts the reference on the
search's scale (the 2026-11-30 6000-step denoise searches ran with ``--no-zoo``). Each argument
is a zoo name (its shipped weights) or NAME=WEIGHTS. Scored as is: the weights already carry
their BatchNorm re-estimation from training (``train.bn_recal``). One CPU thread.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="+", help="zoo name, or NAME=path/to/weights.safetensors")
    p.add_argument("--task", choices=("deblur", "denoise"), required=True)
    args = p.parse_args(argv)

    import torch

    from edgedeblur.models import create_model, weights_path
    from edgedeblur.nas._proxy import ProxyConfig, heldout_score, proxy_recipe
    from edgedeblur.train import load_weights

    torch.set_num_threads(1)
    data = proxy_recipe(args.task, ProxyConfig())["data"]
    for item in args.models:
        name, _, path = item.partition("=")
        net = create_model(name, pretrained=False)
        net.load_state_dict(load_weights(path or weights_path(name)))
        print(f"{name}: {heldout_score(net.eval(), args.task, data):.3f} dB ({path or 'shipped weights'})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
