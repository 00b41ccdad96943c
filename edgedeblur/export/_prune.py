"""``--prune RATIO``: structured channel pruning with torch-pruning, then a short fine-tune.

Why torch-pruning: it follows dependencies through concat/add skips and depthwise convs, and
works with torch 2.13; NNI 3.0's ``ModelSpeedup`` crashes in its tracer with torch 2.13
(see /work/shared/toolchain-notes.md). torch-pruning silently breaks convs feeding PixelShuffle
(their channels come in groups of r^2), so those and the RGB output conv are ignored, and a
forward pass right after pruning proves the graph is still valid.

Fine-tune: the trainer's ``edgedeblur.train.train`` with the model's recipe (EMA off, head not
re-initialised, nothing shipped) when the model has a recipe; otherwise a minimal L1 loop on
calibration-style pairs (a different seed from the calibration and parity patches).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

import numpy as np

from ..calibration import CalibrationSource, to_batch
from ..errors import ExportError, InvalidInputError, require
from ..metrics import psnr
from ._model import ResolvedModel
from ._parity import PARITY_MAX_DB


def _pixelshuffle_feeders(model: Any) -> list[Any]:
    """Convs whose output reaches a PixelShuffle through elementwise ops only (via torch.fx)."""
    torch = require("torch", "export", "pruning")
    import torch.fx as fx

    try:
        gm = fx.symbolic_trace(model)
    except Exception:  # untraceable control flow: rely on the post-prune forward check
        return []
    mods = dict(gm.named_modules())
    found = []
    for node in gm.graph.nodes:
        is_ps = (node.op == "call_module" and isinstance(mods.get(node.target), torch.nn.PixelShuffle)) or \
            (node.op == "call_function" and node.target is torch.nn.functional.pixel_shuffle)
        stack = list(node.all_input_nodes) if is_ps else []
        while stack:
            n = stack.pop()
            if n.op == "call_module" and isinstance(mods.get(n.target), torch.nn.Conv2d):
                found.append(mods[n.target])
            elif n.op in ("call_module", "call_function", "call_method"):
                stack.extend(n.all_input_nodes)
    return found


def _latency_ms(model: Any, size: int, runs: int = 5) -> float:
    torch = require("torch", "export", "pruning")
    from ..models._macs import input_channels

    x = torch.rand(1, input_channels(model), size, size)
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(runs):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _eval_psnr(model: Any, calib: CalibrationSource) -> float:
    torch = require("torch", "export", "pruning")
    vals = []
    with torch.no_grad():
        for p in calib.heldout_patches:
            y = model(torch.from_numpy(to_batch(p.degraded))).clamp(0, 1)[0].permute(1, 2, 0).numpy()
            vals.append(psnr(p.clean, y, quantize=False, max_db=PARITY_MAX_DB))
    return float(np.mean(vals))


def _stats(model: Any, calib: CalibrationSource) -> dict:
    from ..models import count_macs, count_params

    return {"params": int(count_params(model)), "macs_720p": int(count_macs(model, 720, 1280)),
            "latency_ms_torch_1thread": round(_latency_ms(model, calib.patch), 2),
            "psnr_heldout_db": round(_eval_psnr(model, calib), 3)}


def _finetune_trainer(model: Any, name: str, steps: int) -> str | None:
    """Fine-tune with the trainer and the model's recipe; None when the model has no recipe."""
    try:
        from ..train import load_recipe, train

        # train.init off: the pruned net keeps its own weights (a recipe's warm start, e.g. the
        # prior's zoo:mnv2unet_m_denoise, would not even fit the pruned shapes)
        recipe = load_recipe(name, [f"train.steps={steps}", "train.max_minutes=10", "train.ema=0.0",
                                    "train.zero_init_head=false", "train.warmup=0", "checkpoint.ship=false",
                                    f"val.every={steps}", f"checkpoint.every={steps}", ("train.init", "")])
    except Exception:  # no recipe for this model, or trainer not installed
        return None
    with tempfile.TemporaryDirectory(prefix="edgedeblur-prune-") as run:
        train(recipe, run, model=model, show_progress=False)
    return f"edgedeblur.train.train with recipe {name} ({steps} steps, EMA off)"


def _finetune_l1(model: Any, calib: CalibrationSource, steps: int, seed: int) -> str:
    """Minimal L1 loop on degraded/clean pairs drawn like the calibration patches."""
    torch = require("torch", "export", "pruning")
    pairs = CalibrationSource(calib.root, images=max(16, min(64, steps)), heldout=0, patch=min(calib.patch, 64),
                              task=calib.task, recipe=calib.recipe, seed=seed + 1000).calib
    x = torch.from_numpy(np.stack([to_batch(p.degraded)[0] for p in pairs]))
    y = torch.from_numpy(np.stack([to_batch(p.clean)[0] for p in pairs]))
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (8,), generator=g)
        loss = (model(x[idx]) - y[idx]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return f"minimal L1 loop: {steps} steps, Adam lr 5e-4, batch 8 of {len(x)} {pairs[0].clean.shape[0]}px pairs"


def prune_and_finetune(model: ResolvedModel, ratio: float, calib: CalibrationSource, *, steps: int = 200,
                       seed: int = 0) -> dict:
    """Prune ``model.module`` in place by ``ratio`` of channels, fine-tune, return the record."""
    if not 0.0 < ratio < 0.9:
        raise InvalidInputError("prune ratio out of range", given=ratio, allowed="0 < RATIO < 0.9",
                                hint="try --prune 0.3")
    torch = require("torch", "export", "pruning")
    tp = require("torch_pruning", "export", "channel pruning (torch-pruning)")
    net = model.module
    for p in net.parameters():
        p.requires_grad_(True)
    before = _stats(net, calib)
    ignored = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.out_channels in (1, 3)]
    ignored += _pixelshuffle_feeders(net)
    from ..models._macs import input_channels

    channels = input_channels(net)  # 4: a deblur prior (RGB + noise map in, RGB out)
    example = torch.rand(1, channels, calib.patch, calib.patch)
    pruner = tp.pruner.MetaPruner(net, example, importance=tp.importance.GroupMagnitudeImportance(p=2),
                                  pruning_ratio=ratio, ignored_layers=ignored, round_to=4)
    pruner.step()
    try:
        with torch.no_grad():
            out = net(example)
        expected = (1, 3 if channels == 4 else channels, calib.patch, calib.patch)
        if tuple(out.shape) != expected:
            raise RuntimeError(f"output shape {tuple(out.shape)} != {expected}")
    except RuntimeError as exc:
        raise ExportError(f"the pruned model no longer runs: {exc}",
                          hint="try a smaller --prune ratio or report the architecture") from exc
    pruned = _stats(net.eval(), calib)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    how = _finetune_trainer(net, model.name, steps) or _finetune_l1(net, calib, steps, seed)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    after = _stats(net, calib)
    return {"params": after["params"], "macs_720p": after["macs_720p"],
            "pruning": {"method": "torch-pruning MetaPruner, GroupMagnitudeImportance(p=2), round_to=4",
                        "ratio": ratio, "ignored_layers": len(ignored), "finetune": how,
                        "before": before, "after_prune": pruned, "after_finetune": after}}
