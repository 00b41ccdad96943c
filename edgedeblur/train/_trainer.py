"""The training loop: recipe in, run folder out (checkpoints, EMA weights, logs, curves).

One function, :func:`train`, does the whole run. It is deterministic for a seed on the CPU (the
data stream is a pure function of ``(seed, step)``, see :mod:`._data`), resumable from its last
checkpoint to the same result as an uninterrupted run, and stops on a wall-clock budget
(``train.max_minutes``) as cleanly as on a step count: the learning-rate schedule follows
whichever of the two is further along, so a budgeted run still anneals to its final rate.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._machine import machine_summary
from .._progress import progress_bar
from ..errors import ConfigError
from ..metrics import psnr_from_mse
from ._checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from ._data import PairStream, batches, validation_pairs
from ._disc import PatchDiscriminator
from ._ema import ModelEMA
from ._log import RunLog
from ._losses import ADVERSARIAL, PixelLoss, gradient_penalty

__all__ = ["train", "TrainResult", "lr_factor", "psnr", "recalibrate_bn", "recalibrate_bn_for_recipe", "has_batchnorm",
           "validation_psnr"]


@dataclass
class TrainResult:
    """What a finished (or budget-stopped) run reports."""

    run_dir: str
    model: str
    steps: int
    seconds: float
    stopped_by: str  # "steps" | "time"
    cpu_seconds: float  # process CPU time: the budget actually consumed on a shared machine
    final_val_psnr: float | None
    best_val_psnr: float | None
    weights: str
    shipped: str | None


def lr_factor(step: int, progress: float, *, warmup: int, schedule: str, min_ratio: float,
              plateau_scale: float = 1.0) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine to ``min_ratio`` (or constant/plateau)."""
    warm = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    if schedule == "cosine":
        p = min(max(progress, 0.0), 1.0)
        return warm * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * p)))
    if schedule == "plateau":
        return warm * plateau_scale
    return warm


_MAX_VAL_DB = 120.0  # the validation PSNR of a perfect output (MSE below 1e-12)


@torch.no_grad()
def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB of [0, 1] image batches (prediction clipped, at most 120 dB), the validation
    metric: the MSE on the tensors' device, the formula ``metrics.psnr_from_mse``."""
    mse = torch.mean((pred.clamp(0, 1).double() - target.double()) ** 2).item()
    return psnr_from_mse(mse, peak=1.0, max_db=_MAX_VAL_DB)


def _device(choice: str) -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device=cuda but no CUDA GPU is available", given="cuda",
                          allowed="auto, cpu", hint="use --set train.device=auto")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def _optimizer(params: Any, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    cls = torch.optim.AdamW if cfg["optimizer"] == "adamw" else torch.optim.Adam
    return cls(params, lr=cfg["lr"], betas=tuple(cfg["betas"]), weight_decay=cfg["weight_decay"])


class _Plateau:
    """Halve the rate after 3 validations without a 0.01 dB improvement (for schedule=plateau)."""

    def __init__(self, scale: float = 1.0, best: float = -math.inf, bad: int = 0) -> None:
        self.scale, self.best, self.bad = scale, best, bad

    def observe(self, value: float) -> None:
        if value > self.best + 0.01:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
            if self.bad >= 3:
                self.scale, self.bad = self.scale * 0.5, 0


@torch.no_grad()
def validation_psnr(model: nn.Module, pairs: list[tuple[np.ndarray, np.ndarray]],
                    device: torch.device | str = "cpu") -> float | None:
    """Mean PSNR (dB) of ``model`` on (degraded, clean) NCHW pairs, reflect-padded to its multiple."""
    device = torch.device(device)
    if not pairs:
        return None
    mult = int(getattr(model, "pad_multiple", 1))
    scores = []
    for degraded, clean in pairs:
        x = torch.from_numpy(degraded).to(device)
        h, w = x.shape[-2:]
        ph, pw = (-h) % mult, (-w) % mult
        if ph or pw:
            x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
        y = model(x)[..., :h, :w]
        scores.append(psnr(y.float().cpu(), torch.from_numpy(clean)))
    return float(np.mean(scores))


def _ship(model_name: str, ema: ModelEMA, meta: dict[str, str]) -> str | None:
    """Copy the EMA weights into edgedeblur/models/weights/<name>.safetensors."""
    from ..models import weights_path

    return str(save_weights(weights_path(model_name), ema.state_dict(), meta))


def train(recipe: dict[str, Any], out: str | Path, *, resume: bool = False, model: nn.Module | None = None,
          show_progress: bool = True) -> TrainResult:
    """Train ``recipe['model']`` (or the given ``model``) and write the run into ``out``.

    ``resume`` continues from ``out/checkpoint`` (the recipe must name the same model). The EMA
    weights go to ``out/weights.safetensors`` at every checkpoint and at the end, and also into
    the package (``edgedeblur/models/weights``) when ``checkpoint.ship`` is true.
    """
    cfg, tcfg = recipe, recipe["train"]
    run_dir = Path(out)
    if run_dir.exists() and not resume and (run_dir / "checkpoint").exists():
        raise ConfigError("run folder already holds a checkpoint", path=run_dir,
                          hint="pass --resume to continue it, or choose another --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(tcfg["threads"]))
    torch.manual_seed(int(tcfg["seed"]))
    device = _device(tcfg["device"])
    amp = bool(tcfg["amp"]) and device.type == "cuda"

    name = cfg["model"]
    if model is None:
        from ..models import create_model

        model = create_model(name, pretrained=False)
    init = str(tcfg["init"]).strip()
    if init and not resume:  # a resumed run takes its weights from the checkpoint
        _init_weights(model, name, init)
    elif tcfg["zero_init_head"]:
        _zero_init_head(model)
    model = model.to(device).train()
    ema = ModelEMA(model, tcfg["ema"])
    opt = _optimizer(model.parameters(), tcfg)
    loss_fn = PixelLoss(cfg["loss"])
    adv_w = float(cfg["loss"]["adv"])
    disc = d_opt = None
    if adv_w > 0:
        disc = PatchDiscriminator(3, cfg["gan"]["width"], cfg["gan"]["layers"]).to(device).train()
        d_opt = torch.optim.Adam(disc.parameters(), lr=cfg["gan"]["lr"], betas=(0.5, 0.999))
    d_loss_fn, g_loss_fn = ADVERSARIAL[cfg["gan"]["kind"]]

    step, elapsed_before, cpu_before, best = 0, 0.0, 0.0, None
    plateau = _Plateau()
    if resume:
        ck = load_checkpoint(run_dir)
        st = ck["state"]
        if st.get("model") != name:
            raise ConfigError("--resume with a recipe for another model", given=name,
                              allowed=str(st.get("model")), path=run_dir)
        model.load_state_dict(ck["model"])
        ema.module.load_state_dict(ck["ema"])
        ema.updates = int(st["ema_updates"])
        opt.load_state_dict(st["optimizer"])
        if disc is not None and ck["disc"] is not None:
            disc.load_state_dict(ck["disc"])
            d_opt.load_state_dict(st["d_optimizer"])  # type: ignore[union-attr]
        step, elapsed_before, best = int(st["step"]), float(st["seconds"]), st.get("best_val_psnr")
        cpu_before = float(st.get("cpu_seconds", 0.0))
        plateau = _Plateau(*st.get("plateau", (1.0, -math.inf, 0)))
    (run_dir / "recipe.json").write_text(json.dumps(cfg, indent=2), encoding="utf-8")

    stream = PairStream(cfg["data"], seed=int(tcfg["seed"]))
    val = validation_pairs(cfg["data"])
    log = RunLog(run_dir, resume_step=step if resume else None)
    total, budget_s = int(tcfg["steps"]), float(tcfg["max_minutes"]) * 60.0
    t0, c0 = time.perf_counter(), time.process_time()
    last_val: float | None = None
    stopped_by = "steps"

    def seconds() -> float:
        return elapsed_before + time.perf_counter() - t0

    def cpu_seconds() -> float:
        return cpu_before + time.process_time() - c0

    def meta() -> dict[str, str]:
        return {"model": name, "step": str(step), "recipe": str(cfg.get("description", "")),
                "seconds": f"{seconds():.0f}", "val_psnr": f"{last_val}" if last_val is not None else ""}

    def checkpoint() -> None:
        state = {"model": name, "step": step, "seconds": seconds(), "cpu_seconds": cpu_seconds(),
                 "ema_updates": ema.updates,
                 "optimizer": opt.state_dict(), "best_val_psnr": best,
                 "plateau": (plateau.scale, plateau.best, plateau.bad)}
        if d_opt is not None:
            state["d_optimizer"] = d_opt.state_dict()
        save_checkpoint(run_dir, model=model, ema=ema.module, state=state, disc=disc)
        save_weights(run_dir / "weights.safetensors", ema.state_dict(), meta())
        if cfg["checkpoint"]["ship"]:
            _ship(name, ema, meta())

    bar = _bar(total, step, show_progress, name)
    data_iter = batches(stream, step, total, int(cfg["data"]["workers"]))
    while step < total:
        if budget_s and seconds() >= budget_s:
            stopped_by = "time"
            break
        progress = max(step / total, seconds() / budget_s if budget_s else 0.0)
        factor = lr_factor(step, progress, warmup=int(tcfg["warmup"]), schedule=tcfg["schedule"],
                           min_ratio=float(tcfg["min_lr_ratio"]), plateau_scale=plateau.scale)
        for group in opt.param_groups:
            group["lr"] = tcfg["lr"] * factor
        degraded_np, clean_np = next(data_iter)
        degraded = torch.from_numpy(degraded_np).to(device)
        clean = torch.from_numpy(clean_np).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            pred = model(degraded)
        loss, parts = loss_fn(pred.float(), clean)
        d_loss_value = None
        if disc is not None and step >= cfg["gan"]["start_step"]:
            g_adv, d_loss_value = _gan_step(disc, d_opt, pred, clean, d_loss_fn, g_loss_fn, cfg["gan"], amp, device)
            loss = loss + adv_w * g_adv
            parts["adv"] = float(adv_w * g_adv.detach())
        if not torch.isfinite(loss):
            raise ConfigError(f"training diverged at step {step} (loss {float(loss)})",
                              hint="lower train.lr or raise train.warmup", path=run_dir)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if tcfg["clip"]:
            nn.utils.clip_grad_norm_(model.parameters(), float(tcfg["clip"]))
        opt.step()
        ema.update(model)
        step += 1
        row: dict[str, Any] | None = None
        if step % cfg["log"]["every"] == 0 or step == total:
            row = {"step": step, "seconds": seconds(), "lr": opt.param_groups[0]["lr"],
                   "loss": float(loss.detach()), "d_loss": d_loss_value, **parts}
        if step % cfg["val"]["every"] == 0 or step == total:
            last_val = validation_psnr(ema.module, val, device)
            if last_val is not None:
                best = last_val if best is None else max(best, last_val)
                plateau.observe(last_val)
            row = {**(row or {"step": step, "seconds": seconds()}), "val_psnr": last_val}
        if row:
            log.add(row)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss.detach()):.4f}",
                            val=f"{last_val:.2f}dB" if last_val is not None else "-")
        if step % cfg["checkpoint"]["every"] == 0:
            checkpoint()
            log.plot()
    if bar is not None:
        bar.close()

    recal: dict[str, Any] | None = None
    if int(tcfg["bn_recal"]) and has_batchnorm(ema.module):
        before = validation_psnr(ema.module, val, device)
        recalibrate_bn_for_recipe(ema.module, cfg, device=device)
        last_val = None  # validated again below, with the recomputed statistics
        recal = {"batches": int(tcfg["bn_recal"]), "val_psnr_before": before}
    if last_val is None or stopped_by == "time":
        last_val = validation_psnr(ema.module, val, device)
        if last_val is not None:
            best = last_val if best is None else max(best, last_val)
            log.add({"step": step, "seconds": seconds(), "val_psnr": last_val})
    if recal is not None:
        recal["val_psnr_after"] = last_val
    checkpoint()
    log.plot()
    shipped = str(_ship_path(name)) if cfg["checkpoint"]["ship"] else None
    result = TrainResult(run_dir=str(run_dir), model=name, steps=step, seconds=round(seconds(), 1),
                         stopped_by=stopped_by, cpu_seconds=round(cpu_seconds(), 1), final_val_psnr=last_val, best_val_psnr=best,
                         weights=str(run_dir / "weights.safetensors"), shipped=shipped)
    log.write_summary({**asdict(result), "bn_recal": recal, "recipe": copy.deepcopy(cfg), "device": str(device),
                       "threads": torch.get_num_threads(), "torch": torch.__version__,
                       "machine": machine_summary()})  # measured as the run ends: cores, load
    return result


_RECAL_SEED_OFFSET = 1_000_003


def has_batchnorm(model: nn.Module) -> bool:
    """Whether ``model`` has BatchNorm layers (whose running statistics matter at inference)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


@torch.no_grad()
def recalibrate_bn(model: nn.Module, inputs: Any, device: torch.device | str = "cpu") -> int:
    """Recompute every BatchNorm's running mean/variance as the plain average over ``inputs``.

    ``inputs`` yields NCHW float32 numpy batches. Only the BN layers run in train mode (so the
    rest of the net behaves as at inference); the model is left in eval mode. Returns the number
    of batches used. This is "precise BN": the statistics then belong to the weights being
    shipped, not to the raw weights of the last few training steps.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over every batch seen
        m.train()
    n = 0
    try:
        for batch in inputs:
            model(torch.from_numpy(np.ascontiguousarray(batch, np.float32)).to(device))
            n += 1
    finally:
        for m, mom in zip(bns, momenta, strict=True):
            m.momentum = mom
        model.eval()
    return n


def recalibrate_bn_for_recipe(model: nn.Module, recipe: dict[str, Any], batches: int | None = None,
                              device: torch.device | str = "cpu") -> int:
    """:func:`recalibrate_bn` over ``batches`` (default ``train.bn_recal``) batches of ``recipe``'s
    data, as the trainer does at the end of a run.

    The batches come from a stream of their own seed: the same distribution and crop size as
    training, batches no step trains on. The crop matters: the coarse levels of a U-Net see
    mostly padding in small crops, and statistics from 64 px crops cost a 96 px-trained
    mnv2unet_m 0.5 dB on whole photos where its own 96 px crops gained 0.13 dB.
    """
    n = int(recipe["train"]["bn_recal"] if batches is None else batches)
    stream = PairStream(recipe["data"], seed=int(recipe["train"]["seed"]) + _RECAL_SEED_OFFSET)
    return recalibrate_bn(model, (stream.batch(i)[0] for i in range(n)), device)


def _init_weights(model: nn.Module, name: str, init: str) -> None:
    """Load ``train.init`` into the model: a fine-tuning start.

    ``pretrained``: the model's shipped weights; ``zoo:OTHER``: another zoo entry's shipped
    weights, where input convolutions that take more channels here (the conditioned prior's
    noise map) get zero weights for the new channels, so the start computes what OTHER did;
    anything else: a ``.safetensors`` file.
    """
    from ..models import weights_path

    source = init[4:] if init.startswith("zoo:") else None
    path = weights_path(source or name) if source or init == "pretrained" else Path(init).expanduser()
    if not path.is_file():
        raise ConfigError("train.init names no weights file", given=init, path=path,
                          allowed="'pretrained' (the shipped weights), 'zoo:NAME' or a .safetensors file",
                          hint="e.g. --set train.init=runs/mnv2unet_m_denoise/weights.safetensors")
    state = load_weights(path)
    if source:
        state = _widen_inputs(state, model.state_dict())
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ConfigError(f"train.init weights do not fit {name}: {str(exc).splitlines()[0]}",
                          given=str(path), hint="train.init must hold weights of the recipe's model") from exc


def _widen_inputs(state: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Zero-pad conv weights whose input-channel axis is narrower than the target's."""
    out = dict(state)
    for key, want in target.items():
        have = state.get(key)
        if have is not None and have.ndim == 4 and have.shape != want.shape \
                and have.shape[0] == want.shape[0] and have.shape[2:] == want.shape[2:] \
                and have.shape[1] < want.shape[1]:
            wide = torch.zeros_like(want)
            wide[:, : have.shape[1]] = have
            out[key] = wide
    return out


def _zero_init_head(model: nn.Module) -> None:
    """Zero the last conv of a residual head so the untrained net is the identity ``x + 0``.

    A randomly initialised head adds values of order 1 to the input, which the output clamp then
    saturates: clamped pixels get no gradient, and the first hundreds of steps are wasted.
    """
    head = getattr(model, "head", None)
    conv = getattr(head, "conv", None) if head is not None else getattr(model, "final", None)
    if conv is None:
        convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
        conv = convs[-1] if convs else None
    if isinstance(conv, nn.Conv2d):
        with torch.no_grad():
            conv.weight.zero_()
            if conv.bias is not None:
                conv.bias.zero_()


def _ship_path(name: str) -> Path:
    from ..models import weights_path

    return weights_path(name)


def _gan_step(disc: nn.Module, d_opt: Any, pred: torch.Tensor, clean: torch.Tensor, d_loss_fn: Any,
              g_loss_fn: Any, gcfg: dict[str, Any], amp: bool, device: torch.device) -> tuple[torch.Tensor, float]:
    """One discriminator update, then the generator's adversarial loss (graph kept for backward)."""
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        d_real = disc(clean).float()
        d_fake = disc(pred.detach()).float()
    d_loss = d_loss_fn(d_real, d_fake)
    if gcfg["kind"] == "wgan_gp":
        d_loss = d_loss + gcfg["gp_weight"] * gradient_penalty(disc, clean, pred)
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    for p in disc.parameters():
        p.requires_grad_(False)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        g_real = disc(clean).float().detach()
        g_fake = disc(pred).float()
    for p in disc.parameters():
        p.requires_grad_(True)
    return g_loss_fn(g_real, g_fake), float(d_loss.detach())


def _bar(total: int, start: int, show: bool, name: str) -> Any:
    return progress_bar(total, initial=start, desc=f"train {name}", unit="step", show=show)
