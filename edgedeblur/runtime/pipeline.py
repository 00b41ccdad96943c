"""The PSF-aware deblur pipeline: a frequency-domain data step and a learned, noise-conditioned prior.

``DeblurPipeline.restore(image, kernel=None, sigma=None)``:

1. **The PSF** comes from the caller (a kernel file; later a gyroscope per region) or, when none
   is given, from blind estimation on the photo (:mod:`edgedeblur.runtime.kernel_estimate`). A
   photo the estimator finds sharp gets a delta kernel: the pipeline then only denoises, so it
   never damages a sharp photo. An estimate that fails falls back to the same, with a warning
   and ``last_estimate`` saying why.
2. **The noise level** ``sigma`` (0-255 scale) is given or estimated
   (:func:`edgedeblur.runtime.deconv.estimate_noise_sigma`); the prior was trained for a range
   (``PipelineConfig.sigma_max``), and a level outside it is refused, not silently clipped.
3. **The data step** (float32 numpy, :mod:`edgedeblur.runtime.deconv`): ``mode="wiener"`` is one
   Wiener step regularised less than the stand-alone Wiener (``prior_scale``), followed by one
   prior pass that removes its ringing and noise; ``mode="hqs"`` is ``iterations`` rounds of
   half-quadratic splitting (DPIR / USRNet) with a geometric schedule of prior strengths from
   ``hqs_sigma_start`` down to the noise level.
4. **The prior** is anything with ``restore(rgb_float, sigma=...)`` that takes a noise-level map
   as its 4th input channel: a zoo model in PyTorch (``create_method("mnv2unet_m_prior")``) or an
   exported artifact through the runtime :class:`~edgedeblur.runtime.Runner` (INT8 included).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from .._arrays import check_image, check_kernel
from ..errors import ArtifactError, ConfigError, InvalidInputError, KernelError
from ._fft import irfft2, psf2otf, rfft2
from .deconv import (
    MIN_SIGMA,
    DataStep,
    estimate_noise_sigma,
    in_linear_light,
    linear_to_srgb,
    srgb_to_linear,
    wiener_deconvolve,
    wiener_deconvolve_linear,
)

__all__ = ["noise_map_input", "NOISE_MAP_SCALE", "PipelineConfig", "DeblurPipeline", "PIPELINE_MODES",
           "PSFInfo", "load_pipeline", "load_method"]

log = logging.getLogger(__name__)

#: The prior's 4th input channel holds ``sigma * NOISE_MAP_SCALE`` (sigma on the 0-255 scale):
#: sigma 50 maps to 1.0, so the map spans the input's [0, 1] range and survives INT8.
NOISE_MAP_SCALE = 1.0 / 50.0
PIPELINE_MODES = ("wiener", "hqs")


def noise_map_input(x: np.ndarray, sigma: float) -> np.ndarray:
    """H x W x 4 float32: ``x`` (RGB, clipped to [0, 1]) and a constant noise-level map."""
    rgb = np.repeat(x[..., None], 3, axis=2) if x.ndim == 2 else x
    out = np.empty(rgb.shape[:2] + (4,), dtype=np.float32)
    np.clip(rgb, 0.0, 1.0, out=out[..., :3])
    out[..., 3] = np.float32(sigma * NOISE_MAP_SCALE)
    return out


class Prior(Protocol):
    def restore(self, image: np.ndarray, *, sigma: float | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class PipelineConfig:
    """The pipeline's settings; the manifest's ``pipeline`` section is ``to_dict()``."""

    # defaults decided on the validation split (benchmarks/deblur_eval.py, docs/deblur.md)
    mode: str = "hqs"
    prior_scale: float = 30.0  # Wiener regularisation: sigma^2 / (prior_scale * G); 10 = stand-alone
    # 3 rounds: 26.31 dB vs 26.23 for 4 on the validation split with the shipped prior, 1.8x faster
    iterations: int = 3  # prior passes (hqs: data step + prior rounds)
    hqs_sigma_start: float = 10.0  # hqs: prior strength of the first round (0-255 scale)
    hqs_lambda: float = 0.05  # hqs: rho_k = hqs_lambda * sigma^2 / sigma_k^2 (DPIR's weight 0.23)
    taper: str = "mean"
    sigma_max: float = 15.0  # the largest blur-noise level the prior was trained for
    denoise_sigma_max: float = 50.0  # the largest level without blur (a delta kernel)
    kernel_max: int = 75  # largest PSF side the pipeline accepts
    # blind: re-estimate the kernel from the restored photo this many times (refine_kernel).
    # The restorations the kernel is refined from run refine_rounds prior rounds (the final one
    # runs `iterations`): camera validation, estimates cached, passes 0/1/2/3/4 with full
    # restorations 23.38/24.01/24.18/24.36/24.40 dB, with 1-round ones 3: 24.35, 4: 24.46
    # (JPEG split, 1 -> 3 full passes: 23.62 -> 24.06); the first restoration, from the
    # estimator's kernel, must have every round (1 round there: 24.16). Timed in deblur_eval.
    refine_passes: int = 4
    refine_rounds: int = 1
    # blind: the estimated kernel is refuted when its restoration, blurred again, misses the photo
    # by more than the denoised photo does ("no blur") plus this many noise deviations:
    # r_est > r_none + fallback_margin * sigma of the fit residuals ||k * x - y||. Then the photo
    # is only denoised and the PSF line says why (a large value, e.g. 100, turns the check off).
    # Only refutation: a good denoiser re-explains a blurred photo about as well as a right kernel
    fallback_margin: float = 0.3
    # where the data step runs: a camera blurs light, then its tone curve encodes it (True: the
    # inverse sRGB curve first; the prior still sees sRGB); synthetic benchmarks blur sRGB values
    # (False). "auto": with a given PSF, both are tried on a crop and sRGB is kept only when it
    # re-explains the photo clearly better (by domain_margin of the fit residual); with a blind
    # estimate, linear light (validation: 23.82 dB linear, 23.64 sRGB, 23.74 auto). docs/deblur.md
    linear: bool | str = "auto"
    domain_margin: float = 0.1
    # a gyro PSF grid: its per-tile data step has no HQS loop, so a Wiener step regularised as
    # a stand-alone one, then grid_iterations prior passes. Gyro benchmark on the held-out
    # training photos (benchmarks/gyro_eval.py --photos val): prior_scale 30 / 3 passes (the
    # single-PSF values) 23.15 dB, 30 / 1 23.39, 20 / 1 23.57, 10 / 1 23.78, 5 / 1 23.80, 10 / 2 23.64
    grid_prior_scale: float = 10.0
    grid_iterations: int = 1
    # min_confidence 0.02 (the estimator's own floor is 0.06): the fit check now catches what the
    # floor was for; validation blind 23.88 / 23.70 dB (camera / JPEG) against 23.86 / 23.57
    estimator: dict[str, Any] = field(default_factory=lambda: {"kernel_size": 31, "max_side": 512,
                                                               "time_budget_s": 3.0, "min_confidence": 0.02})

    def __post_init__(self) -> None:
        if self.mode not in PIPELINE_MODES:
            raise InvalidInputError("unknown deblur pipeline mode", given=self.mode,
                                    allowed=", ".join(PIPELINE_MODES))
        if not (isinstance(self.iterations, int) and 1 <= self.iterations <= 16):
            raise InvalidInputError("pipeline iterations must be an integer 1-16", given=self.iterations)
        if not (isinstance(self.refine_passes, int) and 0 <= self.refine_passes <= 4):
            raise InvalidInputError("pipeline refine_passes must be an integer 0-4", given=self.refine_passes)
        if not (isinstance(self.grid_iterations, int) and 1 <= self.grid_iterations <= 16):
            raise InvalidInputError("pipeline grid_iterations must be an integer 1-16", given=self.grid_iterations)
        if not (isinstance(self.refine_rounds, int) and 1 <= self.refine_rounds <= 16):
            raise InvalidInputError("pipeline refine_rounds must be an integer 1-16", given=self.refine_rounds)
        if self.linear not in (True, False, "auto"):
            raise InvalidInputError("pipeline linear must be true, false or auto", given=self.linear,
                                    allowed="true (camera photos), false (sRGB-blurred images), auto")
        if not (isinstance(self.fallback_margin, (int, float)) and 0 <= self.fallback_margin):
            raise InvalidInputError("pipeline fallback_margin must be a number >= 0", given=self.fallback_margin)
        if not (isinstance(self.domain_margin, (int, float)) and np.isfinite(self.domain_margin)):
            raise InvalidInputError("pipeline domain_margin must be a number", given=self.domain_margin)
        for key in ("prior_scale", "hqs_sigma_start", "hqs_lambda", "sigma_max", "denoise_sigma_max",
                    "grid_prior_scale"):
            value = getattr(self, key)
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
                raise InvalidInputError(f"pipeline {key} must be a positive number", given=value)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "psf-deconvolution", **asdict(self), "noise_map_scale": NOISE_MAP_SCALE}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        """From a manifest's ``pipeline`` section or user options; unknown keys are refused."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known - {"kind", "noise_map_scale"}
        if unknown:
            raise ConfigError("unknown deblur pipeline settings", given=", ".join(sorted(unknown)),
                              allowed=", ".join(sorted(known)))
        if "kind" in data and data["kind"] != "psf-deconvolution":
            raise ConfigError("unknown pipeline kind", given=data["kind"], allowed="psf-deconvolution")
        if "noise_map_scale" in data and not np.isclose(float(data["noise_map_scale"]), NOISE_MAP_SCALE):
            raise ConfigError("pipeline noise_map_scale differs from this runtime's", given=data["noise_map_scale"],
                              allowed=NOISE_MAP_SCALE, hint="re-export the prior with this edgedeblur version")
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class PSFInfo:
    """Where the last PSF came from (``edge-deblur`` prints it and ``--save-kernel`` writes it)."""

    source: str  # "given", "estimated", "sharp" (estimated: no blur), "fallback" (estimate failed)
    kernel: np.ndarray
    confidence: float | None = None
    seconds: float = 0.0
    note: str = ""


class DeblurPipeline:
    """PSF-aware deblurring as a method: ``restore(image, kernel=None, sigma=None)``."""

    needs_kernel = False
    needs_sigma = False

    def __init__(self, prior: Prior, config: PipelineConfig | None = None, name: str = "deblur") -> None:
        self.prior = prior
        self.config = config or PipelineConfig()
        self.name = name
        self.last_psf: PSFInfo | None = None
        self.last_linear: bool | None = None  # the domain the last data step ran in

    def __repr__(self) -> str:
        return f"DeblurPipeline({self.name!r}, mode={self.config.mode}, prior={self.prior!r})"

    # --- side information ----------------------------------------------------------------
    def _kernel(self, image: np.ndarray, kernel: np.ndarray | None) -> PSFInfo:
        if kernel is not None:
            k = check_kernel(kernel, image_shape=image.shape, normalise=False)  # used as given
            if max(k.shape) > self.config.kernel_max:
                raise KernelError("kernel is larger than the deblur pipeline accepts", given=k.shape,
                                  allowed=f"2-D, at most {self.config.kernel_max} px a side",
                                  hint="crop the PSF to its support, or downscale photo and PSF together")
            return PSFInfo("given", k)
        from .kernel_estimate import estimate_kernel

        started = time.perf_counter()
        try:
            est = estimate_kernel(image, **self.config.estimator)
        except (InvalidInputError, FloatingPointError, np.linalg.LinAlgError) as exc:
            log.warning("deblur: kernel estimation failed (%s); denoising only", exc)
            return PSFInfo("fallback", np.ones((1, 1), np.float32), None,
                           time.perf_counter() - started, f"estimation failed: {exc}; denoised only")
        if est.kernel.size == 1 and not est.sharp:  # too few edges to estimate anything
            reason = est.info.get("stopped", "no usable edges")
            log.warning("deblur: no kernel estimate (%s); denoising only", reason)
            return PSFInfo("fallback", est.kernel, est.confidence, est.seconds,
                           f"estimation failed: {reason}; denoised only")
        source = "sharp" if est.sharp else "estimated"
        return PSFInfo(source, est.kernel, est.confidence, est.seconds,
                       "no blur found: denoised only" if est.sharp else "")

    def _sigma(self, image: np.ndarray, sigma: float | None, blurred: bool) -> float:
        limit = self.config.sigma_max if blurred else self.config.denoise_sigma_max
        if sigma is None:
            sigma = max(estimate_noise_sigma(image), MIN_SIGMA)
            # the estimate reads texture as noise too: up to 20% over the range is the range's end
            if limit < sigma <= 1.2 * limit:
                log.info("deblur: estimated sigma %.1f read as %.0f (the prior's range)", sigma, limit)
                return limit
            if sigma > limit:
                raise InvalidInputError(
                    "estimated noise level is above what the deblur prior was trained for",
                    given=f"sigma {sigma:.1f} (0-255 scale, estimated)", allowed=f"<= {limit:g}",
                    hint="denoise first (-m denoise), or pass --sigma if the estimate is wrong")
            return sigma
        if not np.isfinite(sigma) or sigma < 0 or sigma > limit:
            raise InvalidInputError("noise level outside what the deblur prior was trained for",
                                    given=sigma, allowed=f"0-{limit:g} (0-255 scale)" + (
                                        " with blur" if blurred else " without blur"),
                                    hint="denoise first (-m denoise) for heavier noise")
        return max(float(sigma), MIN_SIGMA / 2)

    # --- the method ----------------------------------------------------------------------
    def restore(self, image: np.ndarray, *, kernel: np.ndarray | None = None,
                sigma: float | None = None, psf_grid: Any = None) -> np.ndarray:
        """Deblur one float H x W or H x W x 3 image in [0, 1]; float32 of the same shape out.

        ``psf_grid`` (a :class:`~edgedeblur.runtime.gyro.PSFGrid`, e.g. from the gyroscope)
        gives a PSF per region instead of one ``kernel``: the data step then runs per tile
        (:func:`~edgedeblur.runtime.gyro.deconvolve_grid`) and the prior passes follow on the
        blended result (the prior does not depend on the PSF).
        """
        image = check_image(image, what="image to deblur", min_side=8)
        self.last_linear = None
        if psf_grid is not None:
            return self._restore_grid(image, psf_grid, sigma)
        psf = self._kernel(image, kernel)
        self.last_psf = psf
        blurred = psf.kernel.size > 1
        s = self._sigma(image, sigma, blurred)
        out = self._deblur(image, psf.kernel, s)
        if psf.source == "estimated" and self.config.refine_passes:
            self.last_psf, out = self._refine(image, psf, out, s)
        if psf.source == "estimated":
            out = self._check_estimate(image, out, s)
        return out.mean(axis=2) if image.ndim == 2 else out

    def _deblur(self, image: np.ndarray, kernel: np.ndarray, s: float, rounds: int | None = None) -> np.ndarray:
        """Data step + prior rounds (``rounds``, default the config's) for one kernel; float32 RGB."""
        if kernel.size > 1 and self.last_linear is None:  # decided once per photo (refinement reuses it)
            linear = self.config.linear
            if linear == "auto":  # a blind estimate is too rough to arbitrate: the camera's domain
                blind = self.last_psf is not None and self.last_psf.source == "estimated"
                linear = blind or domain_evidence(self, image, kernel, s) <= self.config.domain_margin
            self.last_linear = bool(linear)
        if kernel.size == 1:  # no blur: the prior is a denoiser
            return np.asarray(self.prior.restore(_rgb(image), sigma=s), dtype=np.float32)
        return self._rounds(image, kernel, s, bool(self.last_linear), rounds)

    def _rounds(self, image: np.ndarray, kernel: np.ndarray, s: float, linear: bool,
                rounds: int | None = None) -> np.ndarray:
        """The data step and the prior rounds for one kernel (DPIR-style HQS: x = data step(z,
        rho_k); z = prior(x, sigma_k), sigma_k falling from ``hqs_sigma_start`` to the noise
        level; mode "wiener": one data step and one prior pass at the noise level). With
        ``linear`` the data steps run in linear light and the prior rounds in sRGB."""
        cfg = self.config
        sigmas = self._sigmas(s, cfg.iterations if rounds is None else rounds)
        y = _rgb(image)
        if linear:
            x0, data = wiener_deconvolve_linear(y, kernel, taper=cfg.taper, prior_scale=cfg.prior_scale)
            to_data, to_prior = srgb_to_linear, linear_to_srgb
        else:
            data = y
            x0 = np.clip(wiener_deconvolve(y, kernel, sigma=s, prior_scale=cfg.prior_scale, taper=cfg.taper), 0, 1)
            to_data = to_prior = _same
        z = np.asarray(self.prior.restore(x0, sigma=float(sigmas[0])), np.float32)
        step = DataStep(data, kernel, taper=cfg.taper) if len(sigmas) > 1 else None
        for s_k in sigmas[1:]:
            rho = cfg.hqs_lambda * s**2 / float(s_k) ** 2  # DPIR: rho_k = lambda sigma_n^2 / sigma_k^2
            x = step.solve(to_data(z), rho)  # type: ignore[union-attr]
            z = np.asarray(self.prior.restore(to_prior(np.clip(x, 0, 1)), sigma=float(s_k)), np.float32)
        return z

    def _sigmas(self, s: float, rounds: int) -> np.ndarray:
        """The prior's noise level per pass: ``rounds`` falling from ``hqs_sigma_start`` to ``s``
        (mode "hqs"), else one pass at ``s``. Shared by the single-PSF and the PSF-grid loops."""
        if self.config.mode != "hqs" or rounds <= 1:
            return np.array([s])
        return np.geomspace(max(self.config.hqs_sigma_start, s), s, rounds)

    def _refine(self, image: np.ndarray, psf: PSFInfo, out: np.ndarray, s: float) -> tuple[PSFInfo, np.ndarray]:
        """Blind: the restored photo is a far better latent than the estimator's own, so the
        kernel is re-estimated from it (strong edges, sub-pixel centring) and the photo redone."""
        from .kernel_estimate import refine_kernel

        started, k, done, latent_only = time.perf_counter(), psf.kernel, 0, False
        passes = self.config.refine_passes
        for i in range(passes):
            try:
                new = refine_kernel(image, out, k, sigma=s)
            except InvalidInputError as exc:  # e.g. a photo too small for the grown support
                log.info("deblur: kernel not refined (%s)", exc)
                break
            if new.size == 1 or max(new.shape) > self.config.kernel_max:
                break
            k, done = new, done + 1
            # a latent for the next pass needs only refine_rounds (a 1-round latent refined as
            # well as a 3-round one on validation); the result gets every round
            latent_only = i < passes - 1
            out = self._deblur(image, k, s, self.config.refine_rounds if latent_only else None)
        if latent_only:  # a later pass broke off: the last restoration was only a latent
            out = self._deblur(image, k, s)
        if not done:
            return psf, out
        note = f"refined {done}x from the restored photo"
        return PSFInfo(psf.source, k, psf.confidence, psf.seconds + time.perf_counter() - started, note), out

    def _check_estimate(self, image: np.ndarray, out: np.ndarray, s: float) -> np.ndarray:
        """Blind: a wrong kernel leaves a restoration that, blurred again, does not give the photo
        back; the denoised photo (no blur) then explains it better, and is what is returned. With
        ``linear="auto"`` a linear-light restoration the photo refutes is tried once in sRGB (a
        synthetic blur of sRGB values is refuted in linear light) before giving up."""
        psf = self.last_psf
        if psf is None:  # restore() sets it before this runs
            return out
        plain = np.asarray(self.prior.restore(_rgb(image), sigma=s), np.float32)
        excess = self._fit_excess(image, out, psf.kernel, plain)
        if excess > self.config.fallback_margin and self.config.linear == "auto" and self.last_linear:
            self.last_linear = False
            other = self._deblur(image, psf.kernel, s)
            other_excess = self._fit_excess(image, other, psf.kernel, plain)
            if other_excess <= self.config.fallback_margin:
                psf.note = (psf.note + "; " if psf.note else "") + "data step in sRGB (linear light refuted)"
                out, excess = other, other_excess
            else:
                self.last_linear = True
        psf.note = (psf.note + "; " if psf.note else "") + f"fit excess {excess:+.2f} sigma"
        if excess <= self.config.fallback_margin:
            return out
        log.warning("deblur: the estimated kernel does not explain the photo (fit excess %.2f > %.2f sigma); "
                    "denoising only", excess, self.config.fallback_margin)
        self.last_psf = PSFInfo("fallback", psf.kernel, psf.confidence, psf.seconds,
                                f"estimated kernel rejected: the photo restored with it does not blur back "
                                f"into the photo (misses by {excess:.2f} noise deviations more than no blur); "
                                "denoised only")
        return plain

    def _fit_excess(self, image: np.ndarray, out: np.ndarray, kernel: np.ndarray, plain: np.ndarray) -> float:
        """(r_est - r_none) / sigma: how much worse ``kernel * out`` re-explains the photo than the
        denoised photo ``plain`` does, in noise deviations, in the domain of the last data step."""
        y, x_est, x_none = _rgb(image), out, plain
        if self.last_linear:
            y, x_est, x_none = srgb_to_linear(y), srgb_to_linear(x_est), srgb_to_linear(x_none)
        margin = max(kernel.shape) // 2 + 1
        r_est = fit_residual(y, x_est, kernel, margin)
        r_none = fit_residual(y, x_none, np.ones((1, 1), np.float32), margin)
        return (r_est - r_none) / max(estimate_noise_sigma(y), 1e-3)

    def _restore_grid(self, image: np.ndarray, grid: Any, sigma: float | None) -> np.ndarray:
        from .gyro import deconvolve_grid

        side = int(max(grid.kernels.shape[-2:]))
        if side > self.config.kernel_max:
            raise KernelError("the PSF grid's kernels are larger than the deblur pipeline accepts",
                              given=f"{side} px", allowed=f"at most {self.config.kernel_max} px",
                              hint="downscale the photo (and the camera model with it) first")
        rows, cols = grid.shape
        self.last_psf = PSFInfo("gyro", grid.kernels[rows // 2, cols // 2], note=f"{rows}x{cols} PSF grid")
        s = self._sigma(image, sigma, blurred=True)
        # a gyro PSF means a camera photo: linear light unless linear=false asks for sRGB
        self.last_linear = self.config.linear is not False
        cfg = self.config
        if self.last_linear:
            x0, _ = in_linear_light(_rgb(image), lambda lin, s_lin: deconvolve_grid(
                lin, grid, sigma=s_lin, prior_scale=cfg.grid_prior_scale, taper=cfg.taper))
        else:
            x0 = deconvolve_grid(image, grid, sigma=s, prior_scale=cfg.grid_prior_scale, taper=cfg.taper)
        # the per-tile data step has no closed form for a moving z, so passes after the first are
        # prior passes of falling strength (the lambda -> 0 end of HQS); one pass measured best
        sigmas = self._sigmas(s, cfg.grid_iterations)
        z = np.asarray(self.prior.restore(_rgb(np.clip(x0, 0, 1)), sigma=float(sigmas[0])), dtype=np.float32)
        for s_k in sigmas[1:]:
            z = np.asarray(self.prior.restore(z, sigma=float(s_k)), dtype=np.float32)
        return z.mean(axis=2) if image.ndim == 2 else z


def domain_evidence(pipe: DeblurPipeline, image: np.ndarray, kernel: np.ndarray, s: float,
                    crop: int = 320) -> float:
    """How much better the sRGB blur model explains ``image`` than the linear-light one:
    ``(r_linear - r_srgb) / r_srgb`` of the fit residuals (both measured on sRGB values) after
    one data step and one prior pass in each domain, on a centre crop of at most ``crop`` px.
    Near 0 or below for a camera photo (blurred in light); clearly positive for sRGB blur."""
    h, w = image.shape[:2]
    ch, cw = min(h, crop), min(w, crop)
    margin = max(kernel.shape) // 2 + 1
    if min(ch, cw) <= 2 * margin + 8:  # too small to tell: the camera default
        return 0.0
    y = _rgb(image)[(h - ch) // 2:(h - ch) // 2 + ch, (w - cw) // 2:(w - cw) // 2 + cw]
    cfg = pipe.config
    x_s = wiener_deconvolve(y, kernel, sigma=s, prior_scale=cfg.prior_scale, taper=cfg.taper)
    z_s = np.asarray(pipe.prior.restore(np.clip(x_s, 0, 1), sigma=s), np.float32)
    x_l, _ = wiener_deconvolve_linear(y, kernel, taper=cfg.taper, prior_scale=cfg.prior_scale)
    z_l = np.asarray(pipe.prior.restore(x_l, sigma=s), np.float32)
    r_s = fit_residual(y, z_s, kernel, margin)
    reblurred = linear_to_srgb(np.clip(_blur(srgb_to_linear(z_l), kernel, margin), 0, 1))
    r_l = _rms255(reblurred - y, margin)
    return (r_l - r_s) / max(r_s, 1e-6)


def _blur(x: np.ndarray, kernel: np.ndarray, margin: int) -> np.ndarray:
    """``kernel * x`` (true convolution), the frame extended by reflection of ``margin`` px."""
    pad = [(margin, margin), (margin, margin)] + [(0, 0)] * (x.ndim - 2)
    ext = np.pad(np.clip(x, 0.0, 1.0), pad, mode="reflect").astype(np.float32)
    spectrum = rfft2(ext)
    otf = psf2otf(kernel, ext.shape[:2])
    spectrum *= otf[..., None] if ext.ndim == 3 else otf
    return irfft2(spectrum, ext.shape[:2])[margin:-margin, margin:-margin]


def fit_residual(y: np.ndarray, x: np.ndarray, kernel: np.ndarray, margin: int) -> float:
    """RMS of ``kernel * x - y`` on the 0-255 scale, ``margin`` px of border left out (there the
    blur reaches outside the frame)."""
    if kernel.size > 1:
        x = _blur(x, kernel, margin)
    return _rms255(x - y, margin)


def _rms255(diff: np.ndarray, margin: int) -> float:
    """RMS of ``diff`` on the 0-255 scale, ``margin`` px of border left out."""
    diff = diff[margin:-margin or None, margin:-margin or None]
    return float(np.sqrt(np.mean(np.square(diff, dtype=np.float64)))) * 255.0


def _same(x: np.ndarray) -> np.ndarray:
    return x


def _rgb(x: np.ndarray) -> np.ndarray:
    return np.repeat(x[..., None], 3, axis=2) if x.ndim == 2 else x


def load_pipeline(artifact_or_manifest: str, backend: str | None = None, **options: Any) -> DeblurPipeline:
    """The deblur pipeline of an exported prior (``edge-export deblur``): its manifest's
    ``pipeline`` section and the prior artifact on a backend (``options`` go to ``runtime.load``)."""
    from .manifest import Manifest
    from .runner import load

    manifest = Manifest.read(artifact_or_manifest)
    section = manifest.data.get("pipeline")
    if not section:
        raise ArtifactError("manifest has no deblur pipeline section", path=manifest.path,
                            allowed="a manifest written by edge-export deblur",
                            hint="export the pipeline with: edge-export deblur --target onnx-int8")
    if manifest.input.channels != 4:
        raise ArtifactError("the pipeline's prior must take RGB + a noise map (4 channels)",
                            given=manifest.input.channels, path=manifest.path)
    runner = load(manifest.path, backend=backend, **options)
    return DeblurPipeline(runner, PipelineConfig.from_dict(section), name=f"deblur@{runner.name}")


def load_method(artifact_or_manifest: str, **options: Any) -> Any:
    """What a manifest path means as a method: the deblur pipeline when the manifest has a
    ``pipeline`` section (``edge-export deblur``), else the plain :class:`Runner`."""
    from .manifest import Manifest
    from .runner import load

    if Manifest.read(artifact_or_manifest).data.get("pipeline"):
        return load_pipeline(artifact_or_manifest, **options)
    return load(artifact_or_manifest, **options)
