"""Proxy training: a short, identical training run that ranks candidate genomes.

Every candidate of a search is trained with the same recipe (the task's shipped ``mnv2unet_s``
recipe: same data, degradations and losses as the zoo models it is compared with), the same
number of steps, the same seed (same weight-init stream and the same batches, see
:mod:`edgedeblur.train._data`) and one CPU thread. Only the architecture differs, so the
validation PSNR after ``steps`` steps is a fair, if short-sighted, ranking signal. Training
goes through :func:`edgedeblur.train.train`, the trainer behind ``edge-train``; nothing here
re-implements a loop.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["ProxyConfig", "proxy_train", "proxy_recipe", "base_recipe_name", "heldout_score", "TASKS", "SCORES"]

#: Tasks a search can target, with the shipped recipe each proxy run starts from.
TASKS = ("deblur", "denoise")
#: How a proxy run is scored (ProxyConfig.score).
SCORES = ("heldout", "val")
#: Seed of the held-out scoring degradations (fixed: every candidate sees the same inputs).
_HELDOUT_SEED = 2024


def base_recipe_name(task: str) -> str:
    """The shipped recipe the proxy starts from (that of the hand-designed reference)."""
    if task not in TASKS:
        raise ConfigError("unknown NAS task", given=task, allowed=", ".join(TASKS),
                          hint="use --task deblur or --task denoise")
    return f"mnv2unet_s_{task}"


@dataclass(frozen=True)
class ProxyConfig:
    """The proxy protocol; one per search (stored with the study, so a resume uses the same)."""

    steps: int = 300
    crop: int = 48
    batch: int = 8
    seed: int = 0
    val_images: int = 8
    val_crop: int = 128
    device: str = "cpu"  # cpu keeps runs deterministic and CPU time comparable between candidates
    # what ranks candidates: "heldout" = PSNR on the whole held-out validation photos under the
    # task's fixed benchmark-style degradation (see heldout_score); "val" = the trainer's own
    # validation (val_crop centre crops, one random recipe degradation each), which misranked
    # the 2026-11-30 denoise search (docs/nas.md)
    score: str = "heldout"

    def __post_init__(self) -> None:
        if self.score not in SCORES:
            raise ConfigError("unknown proxy score", given=self.score, allowed=", ".join(SCORES),
                              hint="--proxy-score heldout")
        for name in ("steps", "crop", "batch", "val_images", "val_crop"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"proxy setting {name!r} must be a positive integer", given=value,
                                  hint=f"e.g. {name}={getattr(ProxyConfig, name)}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (stored in the study and in exported genome files)."""
        return asdict(self)


def proxy_recipe(task: str, config: ProxyConfig, *, data_root: str | None = None) -> dict[str, Any]:
    """The full, validated recipe every candidate of ``task`` is trained with."""
    from ..train import load_recipe

    steps = config.steps
    overrides: list[tuple[str, Any]] = [
        ("model", f"nasunet_{task}"),
        ("description", f"NAS proxy: {steps} steps of the {base_recipe_name(task)} recipe"),
        ("train.steps", steps),
        ("train.max_minutes", 0.0),  # a step budget, never a clock: the ranking must not depend on load
        ("train.warmup", steps // 10),  # the shipped 200-step warm-up would eat most of a short run
        ("train.seed", config.seed),
        ("train.threads", 1),
        ("train.device", config.device),
        ("data.crop", config.crop),
        ("data.batch", config.batch),
        ("data.workers", 0),
        ("data.val_images", config.val_images),
        ("data.val_crop", config.val_crop),
        ("val.every", steps),
        ("log.every", max(1, steps // 10)),
        ("checkpoint.every", steps),
        ("checkpoint.ship", False),
        # BatchNorm statistics re-estimated for the final EMA weights (see train.bn_recal): without
        # it the score carries the raw model's last ~10 batches, noise of the order of the
        # differences between candidates. Forward passes only: about a third of a step each.
        ("train.bn_recal", min(200, max(50, steps // 5))),
    ]
    if data_root is not None:
        overrides.append(("data.root", str(data_root)))
    return load_recipe(base_recipe_name(task), overrides)


def heldout_score(net: Any, task: str, data: dict[str, Any]) -> float | None:
    """PSNR of ``net`` on the whole held-out validation photos (the trainer's, never the eval
    sets) under one fixed degradation per task, scored as the zoo benchmarks score:

    - denoise: AWGN sigma 25 added in float, unclipped (the CBSD68 protocol's setting);
    - deblur: the recipe's own degradations, drawn once per photo with a fixed seed (the
      benchmark's Levin kernels stay out of the search).

    Whole photos instead of 128 px crops and one fixed setting instead of a random one per crop:
    the trainer's validation ranked a 2000-step denoise front 2 dB above ``mnv2unet_s`` while the
    benchmark put it 0.5 dB below; this score ranked the same runs as the benchmark did.
    """
    from ..degrade import paper_awgn
    from ..train import validation_pairs, validation_psnr

    spec = paper_awgn(25) if task == "denoise" else None
    return validation_psnr(net, validation_pairs(data, crop=0, degradation=spec, seed=_HELDOUT_SEED))


def proxy_train(genome: dict[str, Any], task: str, *, steps: int = 300, crop: int = 48, batch: int = 8,
                seed: int = 0, out_dir: str | Path, val_images: int = 8, val_crop: int = 128,
                data_root: str | None = None, keep_checkpoint: bool = False) -> dict[str, Any]:
    """Train ``genome`` for ``task`` with the proxy protocol; return its scores.

    Returns ``{val_psnr, steps, cpu_seconds, seconds, params, macs_720p, run_dir, diverged}``.
    ``val_psnr`` is the ranking score of the EMA model (BN statistics re-estimated): by default
    :func:`heldout_score`, with ``ProxyConfig(score="val")`` the trainer's validation PSNR, which
    is always returned as ``trainer_val_psnr`` too (``None`` when the run diverged). The run
    folder keeps the EMA weights, log and summary; the resumable checkpoint (optimizer state) is
    deleted unless ``keep_checkpoint``.
    """
    config = ProxyConfig(steps=steps, crop=crop, batch=batch, seed=seed, val_images=val_images,
                         val_crop=val_crop)
    return run_proxy(genome, task, config, out_dir=out_dir, data_root=data_root,
                     keep_checkpoint=keep_checkpoint)


def run_proxy(genome: dict[str, Any], task: str, config: ProxyConfig, *, out_dir: str | Path,
              data_root: str | None = None, keep_checkpoint: bool = False) -> dict[str, Any]:
    """:func:`proxy_train` with a :class:`ProxyConfig` (what the search calls)."""
    import torch

    from ..models import count_macs, count_params, create_model
    from ..train import train

    recipe = proxy_recipe(task, config, data_root=data_root)
    torch.set_num_threads(1)
    # the trainer seeds torch only after the net exists: seed here so every candidate's
    # initial weights come from the same stream
    torch.manual_seed(config.seed)
    net = create_model(f"nasunet_{task}", pretrained=False, genome=genome)
    params, macs = count_params(net), count_macs(net, 720, 1280)
    run_dir = Path(out_dir)
    try:
        result = train(recipe, run_dir, model=net, show_progress=False)
    except ConfigError as exc:
        # the trainer reports a non-finite loss as a ConfigError; a genome that cannot be
        # trained with the shared recipe is a result (ranked last), not a crash of the search
        if not exc.what.startswith("training diverged"):
            raise
        return {"val_psnr": None, "steps": None, "cpu_seconds": None, "seconds": None, "params": params,
                "macs_720p": macs, "run_dir": str(run_dir), "diverged": True}
    if not keep_checkpoint:
        shutil.rmtree(run_dir / "checkpoint", ignore_errors=True)
    score = result.final_val_psnr
    if config.score == "heldout" and score is not None:
        # the trainer left the EMA weights (BN re-estimated) in the run folder: score those
        from ..train import load_weights

        net.load_state_dict(load_weights(run_dir / "weights.safetensors"))
        score = heldout_score(net.eval(), task, recipe["data"])
    return {"val_psnr": score, "trainer_val_psnr": result.final_val_psnr, "steps": result.steps, "cpu_seconds": result.cpu_seconds,
            "seconds": result.seconds, "params": params, "macs_720p": macs, "run_dir": str(run_dir),
            "diverged": False}
