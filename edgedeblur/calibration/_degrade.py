"""How calibration inputs are degraded: the model's training recipe when known, else a default.

Calibration ranges are only right when the inputs look like what the model was trained on: a
denoiser calibrated on clean photos sees no noise and clips it. ``edgedeblur.degrade`` (when it
is installed and the recipe names a degradation spec) is used first; otherwise these documented
per-task defaults apply, and the manifest records which one was used.

The deblur pipeline's prior (task ``prior``) never sees a blurred photo: it sees the pipeline's
Wiener data step next to a noise-level map. :func:`prior_degrader` makes exactly that input from
a clean crop (blur + noise, then the runtime's own ``wiener_deconvolve`` and ``noise_map_input``
with the pipeline's default settings), seeded like the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

#: Default degradation per task when no recipe spec is available (documented in docs/export.md).
DEFAULT_DEGRADATIONS = {
    "denoise": "gaussian noise sigma uniform in [5, 50]/255",
    "deblur": "gaussian blur sigma uniform in [0.8, 3.0] px, then noise sigma 2/255",
    "deblur_denoise": "gaussian blur sigma uniform in [0.8, 3.0] px, then noise sigma uniform in [2, 15]/255",
    "restore": "gaussian blur sigma uniform in [0.8, 3.0] px, then noise sigma uniform in [2, 15]/255",
    "prior": "camera-shake (9-35 px) or defocus (radius 1-6 px) blur, {noise} ({domain}, clipped, 8-bit), "
             "then the deblur pipeline's Wiener data step ({step}, prior_scale {prior_scale:g}, the true "
             "kernel) and the noise-level map",
}

#: The blur and noise of the prior's calibration inputs (``edgedeblur.degrade`` spec strings).
PRIOR_BLUR = "shake:size=9-35|defocus:radius=1-6"
PRIOR_NOISE = "gaussian:sigma=0-15"
#: ... and in linear light (the pipeline's default domain for camera photos): sensor noise as the
#: stage-3 prior's recipe draws it
PRIOR_NOISE_LINEAR = "poisson-gaussian:gain=0-0.008,read=0-0.008"
#: Pixels of context around a prior patch: the data step runs on the larger crop, as on a whole
#: photo, and the patch is its centre (so the FFT border handling is not what is calibrated).
PRIOR_MARGIN = 32

Degrader = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(img, sigma=(sigma, sigma, 0), mode="reflect")


def _noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return img + rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma)


def describe_default(task: str, prior_scale: float | None = None) -> str:
    """The documented default degradation of ``task`` (the prior's with its ``prior_scale``)."""
    if task == "prior":
        from ..runtime.pipeline import PipelineConfig

        cfg = PipelineConfig()
        scale = cfg.prior_scale if prior_scale is None else prior_scale
        if cfg.linear is not False:
            noise, domain = "Poisson-Gaussian sensor noise gain 0-0.008, read 0-0.008", "in linear light, then sRGB"
            step = "in linear light, as the pipeline runs a camera photo; sigma estimated as it does"
        else:
            noise, domain, step = "gaussian noise sigma uniform in [0, 15]/255", "sRGB", "in sRGB, the given sigma"
        return DEFAULT_DEGRADATIONS["prior"].format(prior_scale=scale, noise=noise, domain=domain, step=step)
    return DEFAULT_DEGRADATIONS[task]


def default_degrader(task: str) -> Degrader:
    """The built-in degradation for ``task`` (HxWx3 float32 in [0, 1] in and out)."""
    if task not in DEFAULT_DEGRADATIONS or task == "prior":
        raise ConfigError("no default calibration degradation for this task", given=task,
                          allowed=", ".join(t for t in DEFAULT_DEGRADATIONS if t != "prior"),
                          hint="a deblur prior's inputs come from prior_degrader()")

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


@dataclass
class PriorSample:
    """One input of the deblur pipeline's prior and how it was made (all H x W, float32)."""

    input: np.ndarray  # H x W x 4: the Wiener data step (clipped to [0, 1]) and the noise map
    observed: np.ndarray  # H x W x 3: the blurred, noisy photo the pipeline was given
    kernel: np.ndarray  # the PSF (the data step gets the true one)
    sigma: float  # the noise level given to the data step and the map (0-255 scale)


def prior_degrader(prior_scale: float | None = None) -> Callable[[np.ndarray, np.random.Generator], PriorSample]:
    """What the deblur pipeline hands its prior, made from a clean H x W x 3 crop.

    Blur (``PRIOR_BLUR``) and noise (``PRIOR_NOISE``) through :func:`edgedeblur.degrade.degrade`
    (clipped and quantised to 8 bit: a camera frame; in linear light when the pipeline's
    default ``linear`` is on, and then the data step is
    :func:`~edgedeblur.runtime.deconv.wiener_deconvolve_linear`, as the pipeline runs it), else what
    :meth:`edgedeblur.runtime.pipeline.DeblurPipeline.restore` does with a given kernel and
    sigma: ``wiener_deconvolve(y, kernel, sigma=s, prior_scale=..., taper=...)`` with the
    pipeline's defaults and ``noise_map_input(x0, s)``, ``s`` floored as the pipeline floors a
    given sigma. ``prior_scale`` defaults to ``PipelineConfig().prior_scale``.
    """
    from ..degrade import degrade, parse_degradation
    from ..runtime.deconv import (
        MIN_SIGMA,
        estimate_noise_sigma,
        wiener_deconvolve,
        wiener_deconvolve_linear,
    )
    from ..runtime.pipeline import PipelineConfig, noise_map_input

    cfg = PipelineConfig()
    scale = cfg.prior_scale if prior_scale is None else float(prior_scale)
    linear = cfg.linear is not False
    spec = parse_degradation(blur=PRIOR_BLUR, noise=PRIOR_NOISE_LINEAR if linear else PRIOR_NOISE, linear=linear,
                             clip=True, quantize=True)

    def make(img: np.ndarray, rng: np.random.Generator) -> PriorSample:
        result = degrade(img, spec, rng)
        y = np.asarray(result.degraded, dtype=np.float32)
        if linear:  # sensor noise: the pipeline estimates the sRGB level (and reads its range's end)
            sigma = min(max(estimate_noise_sigma(y), MIN_SIGMA), cfg.sigma_max)
            x0 = wiener_deconvolve_linear(y, result.kernel, prior_scale=scale, taper=cfg.taper)[0]
            return PriorSample(noise_map_input(x0, sigma), y, np.asarray(result.kernel, np.float32), sigma)
        sigma = max(float(result.sigma or 0.0), MIN_SIGMA / 2)  # DeblurPipeline._sigma for a given sigma
        x0 = wiener_deconvolve(y, result.kernel, sigma=sigma, prior_scale=scale, taper=cfg.taper)
        return PriorSample(noise_map_input(x0, sigma), y, np.asarray(result.kernel, np.float32), sigma)

    return make
