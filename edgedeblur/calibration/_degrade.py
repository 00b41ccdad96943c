"""How calibration inputs are degraded: the model's training recipe when known, else a default.

Calibration ranges are only right when the inputs look like what the model was trained on: a
denoiser calibrated on clean photos sees no noise and clips it. ``edgedeblur.degrade`` (when it
is installed and the recipe names a degradation spec) is used first; otherwise these documented
per-task defaults apply, and the manifest records which one was used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ConfigError

#: Default degradation per task when no recipe spec is available (documented in docs/export.md).
DEFAULT_DEGRADATIONS = {
    "denoise": "gaussian noise sigma uniform in [5, 50]/255",
    "deblur": "gaussian blur sigma uniform in [0.8, 3.0] px, then noise sigma 2/255",
    "deblur_denoise": "gaussian blur sigma uniform in [0.8, 3.0] px, then noise sigma uniform in [2, 15]/255",
    "restore": "gaussian blur sigma uniform in [0.8, 3.0] px, then noise sigma uniform in [2, 15]/255",
}

Degrader = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(img, sigma=(sigma, sigma, 0), mode="reflect")


def _noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return img + rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma)


def default_degrader(task: str) -> Degrader:
    """The built-in degradation for ``task`` (HxWx3 float32 in [0, 1] in and out)."""
    if task not in DEFAULT_DEGRADATIONS:
        raise ConfigError("no default calibration degradation for this task", given=task,
                          allowed=", ".join(DEFAULT_DEGRADATIONS))

    def degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = img
        if task == "denoise":
            out = _noise(out, rng.uniform(5, 50) / 255, rng)
        else:
            out = _blur(out, rng.uniform(0.8, 3.0))
            sigma = 2 / 255 if task == "deblur" else rng.uniform(2, 15) / 255
            out = _noise(out, sigma, rng)
        return np.clip(out, 0.0, 1.0).astype(np.float32)

    return degrade


def recipe_degrader(model_name: str) -> tuple[Degrader, str] | None:
    """The degradation mix of ``model_name``'s training recipe, or None when it has none.

    Uses ``edgedeblur.train.load_recipe`` and ``edgedeblur.degrade`` (the trainer's own spec
    parser), picking one entry of ``data.degradations`` per patch by its ``weight``, like the
    trainer. The result is clipped to [0, 1]: a deployed model only ever sees camera frames.
    """
    try:
        from ..degrade import degrade as apply
        from ..degrade import parse_degradation
        from ..train import load_recipe

        recipe = load_recipe(model_name)
    except Exception:  # no recipe for this model, or trainer/degrade not installed: use the default
        return None
    entries = recipe.get("data", {}).get("degradations") or []
    specs, weights = [], []
    for e in entries:
        specs.append(parse_degradation(blur=e.get("blur"), noise=e.get("noise"), jpeg=e.get("jpeg"),
                                       linear=e.get("linear", True), clip=e.get("clip", True),
                                       quantize=e.get("quantize", True)))
        weights.append(float(e.get("weight", 1.0)))
    if not specs:
        return None
    probs = np.asarray(weights) / sum(weights)

    def degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        spec = specs[int(rng.choice(len(specs), p=probs))]
        out = apply(img, spec, rng).degraded
        return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)

    desc = "recipe " + model_name + ": " + "; ".join(
        f"w={w:g} " + " ".join(f"{k}={e[k]}" for k in ("blur", "noise", "jpeg") if e.get(k)) for e, w in zip(entries, weights, strict=True))
    return degrade, desc
