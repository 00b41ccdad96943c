"""Parity at export: run the artifact through the runtime runner and compare with PyTorch.

"Nothing is exported until the runner has run it": the artifact is loaded with
``edgedeblur.runtime.load`` (the code the device runs) and fed the held-out degraded patches.
We report PSNR of the artifact vs the PyTorch float output, and of both vs the clean patches;
``drop_db`` is how much PSNR vs ground truth the artifact lost against float.

A deblur pipeline prior is fed what the pipeline feeds it: 4-channel patches (the Wiener data
step and the noise map, see ``edgedeblur.calibration``). PyTorch gets that tensor; the runtime
gets it through ``Runner.restore(rgb, sigma=...)``, which builds the same noise map itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..calibration import Patch, to_batch
from ..metrics import psnr

#: Parity PSNRs are float PSNRs (``metrics.psnr(quantize=False)``) capped here, so identical
#: outputs give a finite number.
PARITY_MAX_DB = 100.0


def runtime_runner(artifact: Path) -> Callable[[np.ndarray], np.ndarray]:
    """``restore(HxWx3 float32) -> HxWx3 float32`` through the edge runtime's runner.

    A conditioned prior's input is HxWx4 (RGB + noise map): the runner gets the RGB and the
    sigma the map encodes, and rebuilds the identical map (``noise_map_input``).
    """
    from ..runtime import load
    from ..runtime.pipeline import NOISE_MAP_SCALE

    runner = load(artifact)

    def restore(img: np.ndarray) -> np.ndarray:
        if img.ndim == 3 and img.shape[2] == 4:
            if not runner.conditioned:
                raise ValueError(f"{artifact.name} takes 3 channels, given a 4-channel patch")
            sigma = float(img[0, 0, 3]) / NOISE_MAP_SCALE
            out = np.asarray(runner.restore(np.ascontiguousarray(img[..., :3]), sigma=sigma))
        else:
            out = np.asarray(runner.restore(img))
        if out.dtype == np.uint8:
            out = out.astype(np.float32) / 255.0
        elif out.dtype == np.uint16:
            out = out.astype(np.float32) / 65535.0
        return out.astype(np.float32)

    return restore


def torch_restore(model) -> Callable[[np.ndarray], np.ndarray]:  # noqa: ANN001
    """The PyTorch float reference for the same patches (HxWxC in, C = the model's channels)."""
    import torch

    def restore(img: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            y = model(torch.from_numpy(to_batch(img)))
        return y[0].permute(1, 2, 0).numpy().astype(np.float32)

    return restore


@dataclass
class Parity:
    """Parity numbers as stored in the manifest's ``parity`` block."""

    psnr_vs_float_db: float
    psnr_vs_gt_db: float
    psnr_float_vs_gt_db: float
    drop_db: float
    max_drop_db: float
    patches: int
    patch_size: int

    @property
    def passed(self) -> bool:
        return self.drop_db <= self.max_drop_db

    def to_dict(self) -> dict:
        return {"psnr_vs_float_db": round(self.psnr_vs_float_db, 3), "psnr_vs_gt_db": round(self.psnr_vs_gt_db, 3),
                "psnr_float_vs_gt_db": round(self.psnr_float_vs_gt_db, 3), "drop_db": round(self.drop_db, 4),
                "max_drop_db": self.max_drop_db, "passed": self.passed, "patches": self.patches,
                "patch_size": self.patch_size}


def measure_parity(restore: Callable[[np.ndarray], np.ndarray], reference: Callable[[np.ndarray], np.ndarray],
                   patches: Sequence[Patch], max_drop_db: float) -> Parity:
    """Mean PSNRs over ``patches``; the drop is float-vs-GT minus artifact-vs-GT (>= 0 is a loss)."""
    vs_float, vs_gt, float_gt = [], [], []
    for p in patches:
        ref = np.clip(reference(p.degraded), 0, 1)
        out = np.clip(restore(p.degraded), 0, 1)
        vs_float.append(_psnr(ref, out))
        vs_gt.append(_psnr(p.clean, out))
        float_gt.append(_psnr(p.clean, ref))
    a, b = float(np.mean(vs_gt)), float(np.mean(float_gt))
    return Parity(float(np.mean(vs_float)), a, b, b - a, max_drop_db, len(patches), patches[0].clean.shape[0])


def _psnr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """The parity PSNR (``metrics.psnr`` unquantised, capped); NaN for a non-finite output, so
    an artifact that computes NaNs fails parity instead of stopping the export."""
    if not (np.isfinite(reference).all() and np.isfinite(estimate).all()):
        return float("nan")
    return psnr(reference, estimate, quantize=False, max_db=PARITY_MAX_DB)
