"""Blind blur-kernel estimation from one photo, numpy only (no torch, no scipy at import).

Method: coarse-to-fine alternating minimisation with an L0 gradient prior, the natural-image
form of Pan, Hu, Su & Yang, "Deblurring text images via L0-regularized intensity and gradient
prior" (CVPR 2014; the intensity term is for text and is left out here), cf. Xu, Zheng & Jia,
"Unnatural L0 sparse representation for natural image deblurring" (CVPR 2013):

    min_{x,k} ||k * x - y||^2 + lam ||grad x||_0 + gamma ||k||^2,   k >= 0, sum k = 1

* latent step (k fixed): half-quadratic splitting. An auxiliary gradient field g is the hard
  threshold of grad x at sqrt(lam / beta), then x has a closed form in the Fourier domain;
  beta grows geometrically. The L0 prior keeps only strong edges, so x is a "cartoon" whose
  step edges are what makes the kernel identifiable (a blurry x explains y with a delta).
* kernel step (x fixed): least squares on gradients, ||grad x * k - grad y||^2 + gamma ||k||^2,
  with k confined to its support. Its normal equations are a small Toeplitz system built from
  the autocorrelation of grad x and the cross-correlation of grad x and grad y (two inverse FFTs
  of the image), solved by conjugate gradients with small FFTs. Then negatives and values
  below max/20 are zeroed, and connected components with under 10 % of the mass dropped.
* pyramid: the image and kernel shrink by sqrt(2) per level down to a ~5 px kernel, so the
  coarse levels fix the kernel's overall shape where the problem is nearly convex, and the
  kernel is upsampled to seed the next level.
* sharpness test first: two single-scale iterations from a delta (see estimate_kernel); the
  pyramid still runs, and overrules a "sharp" verdict with a blur clearly larger than the
  haloes it makes of sharp photos (noise can hold the test at a delta).
* the final kernel is centred to sub-pixel precision, so the restoration sits where the photo
  does.

:func:`refine_kernel` re-fits a kernel afterwards from the photo and a *restored* latent (the
deblur pipeline's output with the estimate): the same kernel step at full resolution on the
latent's strongest edges, with a sub-pixel centring. On the validation photos, estimate ->
pipeline -> refine -> pipeline gained a median 1.0 dB over the estimate alone
(benchmarks/blind_refine_eval.py).

A photo larger than ``max_side`` is centre-cropped at full resolution (a crop keeps the
kernel's detail); only a photo longer than 2 x ``max_side`` is first downscaled, and the
kernel is then upsampled back to the photo's scale.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInputError
from ._fft import irfft2, pad_and_taper, psf2otf, rfft2
from ._kernel_ops import (
    _LUMA,
    _centre,
    _centre_subpixel,
    _cg,
    _clean,
    _crop_support,
    _delta,
    _is_int,
    _is_real,
)
from ._kernel_refine import refine_kernel
from .deconv import MIN_SIGMA, estimate_noise_sigma, gradient_spectrum

__all__ = ["KernelEstimate", "estimate_kernel", "refine_kernel"]

# Starting points from Pan et al. 2014 (lam 4e-3 decaying by 1.1 per iteration, gamma 2, 5
# iterations per level, threshold max/20, components under 10 % dropped, sqrt(2) pyramid).
# Changed on the validation photos (benchmarks/kernel_estimate_eval.py, 8 last
# bsds500_test photos x 3 shake kernels): lam floor 1e-4 -> 1e-3 (median gap to the true
# kernel's Wiener 1.5 -> 1.1 dB). Tried and no better there: gamma 0.5/8, threshold 1/10 or
# 1/30, component share 0.05/0.2, coarsest kernel 3.5/7 px, 3 or 8 iterations at the finest
# level, beta_max 1e3/1e4, active-set non-negative kernel solve, less antialiasing.
_SCALE_STEP = math.sqrt(0.5)  # pyramid ratio per level
_COARSEST_KERNEL = 5.0  # kernel size at the coarsest level, px
_LAMBDA_START = 4e-3  # L0 weight; decays per iteration down to _LAMBDA_MIN
_LAMBDA_DECAY = 1.1
_LAMBDA_MIN = 1e-3
_NOISE_LAMBDA = 6.5  # ... but stays above these multiples of the noise variance (see test)
_NOISE_LAMBDA_MIN = 1.6
_BETA_MAX = 1e5  # HQS penalty at which a latent step stops (beta doubles from 2 lam)
_GAMMA = 2.0  # kernel L2 weight, on the un-normalised FFT scale of Pan et al.
_ITERATIONS = 5  # latent/kernel alternations per pyramid level
_SHARP_TEST = 2  # iterations of the sharpness test
# RMS radius (px) under which a blur is not worth removing: unblurred validation photos
# (noise 0.5 / 2.55 / 10) gave the test's kernel <= 0.63 (their own softness); a 0.9 px
# shake made Wiener with the *true* kernel 0.5 dB worse than doing nothing. 0.9 -> 0.75 (the
# middle of the gap): blurred validation photos (true spread 1.6-4 px) gave 0.83-0.90 and were
# called sharp (-4.7 to -10.4 dB); with 0.75 the validation mean gap to Wiener-true went
# -0.90 -> -0.46 dB, worst -10.4 -> -6.4 dB (benchmarks/blind_refine_eval.py). Tried and no
# better: consensus of three square crops (each worse than the whole photo, pick no better)
_SHARP_TEST_SPREAD = 0.75
_SHARP_TEST_FIT = 0.2  # ... with at least this fit (sharp photos >= 0.29, a 3x upscale 0.16)
_SHARP_SPREAD = 0.75  # px: the same for the final kernel
# A photo the test calls sharp is still run through the pyramid, which overrules the test
# when its kernel's RMS radius is at least this (px). Measured on the validation photos with
# camera noise (benchmarks/kernel_estimate_eval.py --set camera / camera-sharp, with and
# without --jpeg; info["pyramid_spread_px"]): the pyramid made 0.79-1.65 px haloes of the
# unblurred ones and found 1.85-6.0 px on the blurred ones; the test alone had called 6 of
# 24 blurred photos sharp.
_SHARP_OVERRULE_SPREAD = 1.75
_MIN_CONFIDENCE = 0.06  # below this the photo has no usable edges: return the safe delta


@dataclass(frozen=True)
class KernelEstimate:
    """The result of :func:`estimate_kernel`.

    ``kernel``: float32, odd square, non-negative, sums to 1, centroid on the middle pixel
    (to a hundredth of a pixel), cropped to its support; a 1x1 delta when ``sharp``.
    ``confidence``: 0..1, the product of three measured shares: ``kept_share`` (of the raw
    least-squares kernel's positive mass, the part left in its kept connected components: a
    real blur is one compact stroke, a failed estimate speckle), ``fit`` (of the blurred
    image's gradient energy that ``kernel * latent`` explains) and ``similarity`` (peak
    normalised cross-correlation of two independent estimates: the single-scale sharpness
    test's and the pyramid's). On the validation shake blurs it ranged 0.11-0.65; photos
    without usable edges (a ramp, blurred pink noise) scored 0.02-0.04 and get a delta back
    (under 0.06). It flags hopeless photos; it does not rank good estimates (on validation
    it was uncorrelated with the dB gap to the true kernel). A sharp photo's confidence is how
    far the test's kernel stayed under the sharpness threshold (1: exactly a delta).
    ``sharp``: no blur worth removing: the sharpness test's kernel has an RMS radius under
    0.75 px and the pyramid's under 1.75 px, or the final kernel's is under 0.75 px, or the
    photo is flat. The kernel is then 1x1.
    ``info``: sizes, scales, iterations, timings and why it stopped.
    """

    kernel: np.ndarray
    confidence: float
    sharp: bool
    seconds: float
    info: dict = field(default_factory=dict)


def _odd(x: float) -> int:
    return max(1, int(round(x))) | 1


def _check(image: object, ks: int, max_side: int, budget: float, sigma: float | None) -> np.ndarray:
    """Validate the arguments (in this order); return the luminance as float32 H x W."""
    shape = getattr(image, "shape", None)
    rules = [  # (is it bad?, what is wrong, what was given, what is allowed), checked lazily
        (lambda: not isinstance(image, np.ndarray) or image.ndim not in (2, 3)
         or (image.ndim == 3 and image.shape[2] not in (1, 3)),
         "image must be a numpy array, H x W or H x W x 3",
         f"shape {shape}" if shape is not None else type(image).__name__,
         "float32 H x W or H x W x 3 in [0, 1]"),
        (lambda: not np.issubdtype(image.dtype, np.number)
         or np.issubdtype(image.dtype, np.complexfloating),
         "image must be real-valued", str(getattr(image, "dtype", "")), "float32 in [0, 1]"),
        (lambda: not _is_int(ks) or ks < 3 or ks % 2 == 0,
         "kernel_size must be an odd integer >= 3", ks, "3, 5, 7, ... (e.g. 31)"),
        (lambda: not _is_int(max_side) or max_side < 4 * ks,
         "max_side must be an integer of at least 4 x kernel_size", max_side, "4 x kernel_size or more"),
        (lambda: not _is_real(budget) or budget <= 0,
         "time_budget_s must be a positive number of seconds", budget, "> 0, e.g. 3.0"),
        (lambda: sigma is not None and (not _is_real(sigma) or sigma < 0),
         "sigma must be None or a noise level >= 0 (0-255 scale)", sigma, "None or e.g. 2.55"),
        (lambda: min(image.shape[:2]) < 4 * ks, "image is too small for the kernel size",
         f"{shape} with kernel_size {ks}", "both sides >= 4 x kernel_size"),
        (lambda: not np.all(np.isfinite(image)), "image contains NaN or infinity",
         "non-finite pixels", "finite values in [0, 1]"),
    ]
    for bad, what, given, allowed in rules:
        if bad():
            raise InvalidInputError(what, given=given, allowed=allowed)
    x = image.astype(np.float32, copy=False)  # type: ignore[union-attr]
    if x.ndim == 3:
        x = x[..., 0] if x.shape[2] == 1 else x @ _LUMA
    return np.ascontiguousarray(x, dtype=np.float32)


def _resample_axis0(x: np.ndarray, n_out: int, f: float) -> np.ndarray:
    """Linear (triangle) resampling of the rows of x to n_out at scale f, centres aligned.

    When shrinking (f < 1) the triangle widens to 1/f input pixels (MATLAB ``imresize``'s
    antialiasing), so a coarse level is not aliased noise. The filter is banded, so it is
    applied as a few weighted row gathers rather than a dense matrix (a 4000 px photo would
    cost 10^10 flops). Samples beyond the input are zero (a kernel's support ends there).
    """
    n_in = x.shape[0]
    width = 1.0 / f if f < 1 else 1.0
    u = (n_in - 1) / 2.0 + (np.arange(n_out) - (n_out - 1) / 2.0) / f
    taps = np.floor(u - width)[:, None].astype(int) + np.arange(int(math.ceil(2 * width)) + 2)
    w = np.maximum(0.0, 1.0 - np.abs(taps - u[:, None]) / width)
    w[(taps < 0) | (taps >= n_in)] = 0.0
    total = w.sum(axis=1, keepdims=True)
    inside = (u >= -0.5) & (u <= n_in - 0.5)
    w = np.where(total > 0, w / np.maximum(total, 1e-12), 0.0) * inside[:, None]
    idx = np.clip(taps, 0, n_in - 1)
    out = np.zeros((n_out,) + x.shape[1:], np.float32)
    for t in range(taps.shape[1]):
        out += w[:, t, None].astype(np.float32) * x[idx[:, t]]
    return out


def _resize(x: np.ndarray, shape: tuple[int, int], f: float) -> np.ndarray:
    return _resample_axis0(_resample_axis0(x, shape[0], f).T, shape[1], f).T


def _spread(k: np.ndarray) -> float:
    """RMS radius of the kernel around its centroid, in pixels."""
    n = k.shape[0]
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    s = float(k.sum())
    cy, cx = float((k * yy).sum()) / s, float((k * xx).sum()) / s
    return math.sqrt(float((k * ((yy - cy) ** 2 + (xx - cx) ** 2)).sum()) / s)


class _Level:
    """One pyramid level: the blurred image extended and tapered, and its spectra."""

    def __init__(self, y: np.ndarray, ksize: int) -> None:
        self.ksize = ksize
        self.padded = pad_and_taper(y, np.zeros((ksize, ksize), np.float32))
        self.shape = self.padded.data.shape
        self.y_hat = rfft2(self.padded.data)
        self.d2 = gradient_spectrum(self.shape)  # |Dx|^2 + |Dy|^2

    def latent(self, k: np.ndarray, lam: float) -> np.ndarray:
        """Spectrum of argmin_x ||k * x - y||^2 + lam ||grad x||_0 (HQS, beta doubling)."""
        otf = psf2otf(k, self.shape)
        kty = (np.conj(otf) * self.y_hat).astype(np.complex64)
        k2 = (otf.real**2 + otf.imag**2).astype(np.float32)
        x = self.padded.data.copy()
        gx, gy, mag, keep, div = (np.empty_like(x) for _ in range(5))
        betas = [2.0 * lam * 2.0**i for i in range(64) if 2.0 * lam * 2.0**i < _BETA_MAX]
        x_hat = self.y_hat
        for i, beta in enumerate(betas):
            # forward differences, periodic like the FFT (slices into buffers: no np.roll)
            np.subtract(x[:, 1:], x[:, :-1], out=gx[:, :-1])
            np.subtract(x[:, :1], x[:, -1:], out=gx[:, -1:])
            np.subtract(x[1:], x[:-1], out=gy[:-1])
            np.subtract(x[:1], x[-1:], out=gy[-1:])
            np.multiply(gx, gx, out=mag)
            mag += gy * gy
            # the L0 hard threshold, as a 0/1 multiplier (boolean indexing is 10x slower)
            np.greater_equal(mag, np.float32(lam / beta), out=keep)
            gx *= keep
            gy *= keep
            # D^T g, the adjoint of the forward differences, so the FFT denominator matches
            np.subtract(gx[:, -1:], gx[:, :1], out=div[:, :1])
            np.subtract(gx[:, :-1], gx[:, 1:], out=div[:, 1:])
            div[:1] += gy[-1:] - gy[:1]
            div[1:] += gy[:-1] - gy[1:]
            x_hat = rfft2(div)
            x_hat *= np.float32(beta)
            x_hat += kty
            x_hat *= 1.0 / (k2 + np.float32(beta) * self.d2)  # a real reciprocal: 5x cheaper
            if i < len(betas) - 1:  # the last spectrum is the result: no inverse needed
                x = irfft2(x_hat.copy(), self.shape)
        return x_hat

    def fit(self, x_hat: np.ndarray, k: np.ndarray) -> float:
        """Share of the blurred image's gradient energy that k * x explains (1: all of it)."""
        res = psf2otf(k, self.shape) * x_hat - self.y_hat
        err = float((self.d2 * (res.real**2 + res.imag**2)).sum())
        total = float((self.d2 * (self.y_hat.real**2 + self.y_hat.imag**2)).sum())
        return max(0.0, 1.0 - err / max(total, 1e-12))

    def kernel(self, x_hat: np.ndarray, k0: np.ndarray, gamma: float) -> np.ndarray:
        """argmin_k ||grad x * k - grad y||^2 + gamma ||k||^2 on the ksize support (CG)."""
        n = self.ksize
        # conj(Dx X) Dx Y + conj(Dy X) Dy Y = |D|^2 conj(X) Y: no gradient images needed
        auto = irfft2((np.abs(x_hat) ** 2 * self.d2).astype(np.complex64), self.shape)
        cross = irfft2((np.conj(x_hat) * self.y_hat * self.d2).astype(np.complex64), self.shape)
        lags = np.arange(-(n - 1), n)
        rr = auto[np.ix_(lags % self.shape[0], lags % self.shape[1])].astype(np.float64)
        half = np.arange(-(n // 2), n // 2 + 1)
        b = cross[np.ix_(half % self.shape[0], half % self.shape[1])].astype(np.float64)
        m = 3 * n - 2
        r_hat = np.fft.rfft2(rr, (m, m))

        def apply(v: np.ndarray) -> np.ndarray:
            full = np.fft.irfft2(np.fft.rfft2(v, (m, m)) * r_hat, (m, m))
            return full[n - 1 : 2 * n - 1, n - 1 : 2 * n - 1] + gamma * v

        k = _cg(apply, b, k0.astype(np.float64))
        return k.astype(np.float32)


def _rescale(k: np.ndarray, n: int, f: float) -> np.ndarray:
    """Resample a kernel by scale f onto n x n, re-normalised and centred."""
    k = np.maximum(_resize(k, (n, n), f), 0.0)
    return _centre(k / k.sum()) if k.sum() > 0 else _delta(n)


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Largest normalised cross-correlation of two kernels over all shifts (1: same shape)."""
    n = max(a.shape[0], b.shape[0]) * 2
    c = np.fft.irfft2(np.fft.rfft2(a, (n, n)) * np.conj(np.fft.rfft2(b, (n, n))), (n, n))
    return float(c.max() / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def _working_image(y: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Centre crop (full resolution) of at most max_side; downscale only huge photos."""
    h, w = y.shape
    scale = 1.0
    if max(h, w) > 2 * max_side:
        scale = 2 * max_side / max(h, w)
        # crop what the working window will cover first, so only that part is resampled
        ch, cw = min(h, math.ceil(max_side / scale) + 2), min(w, math.ceil(max_side / scale) + 2)
        top, left = (h - ch) // 2, (w - cw) // 2
        y = y[top : top + ch, left : left + cw]
        y = _resize(y, (min(max_side, round(ch * scale)), min(max_side, round(cw * scale))), scale)
        h, w = y.shape
    top, left = max(0, (h - max_side) // 2), max(0, (w - max_side) // 2)
    return np.ascontiguousarray(y[top : top + max_side, left : left + max_side]), scale


def estimate_kernel(
    image: np.ndarray,
    *,
    kernel_size: int = 31,
    max_side: int = 512,
    time_budget_s: float = 3.0,
    sigma: float | None = None,
    min_confidence: float = _MIN_CONFIDENCE,
) -> KernelEstimate:
    """Estimate the blur kernel (PSF) of a photo blindly; see the module docstring.

    ``image``: float32 [0, 1], H x W or H x W x 3 (estimated on luminance). ``kernel_size``:
    odd, the largest blur expected, in the photo's pixels. ``max_side``: the estimation works
    on at most this many pixels per side. ``time_budget_s``: refinement stops when the next
    iteration would overrun it, and the kernel reached so far is returned (``info["stopped"]``).
    ``sigma``: noise level on the 0-255 scale, estimated when ``None``. ``min_confidence``:
    below it the estimate is refused (a 1x1 kernel, ``info["stopped"] = "no usable edges"``).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    lum = _check(image, kernel_size, max_side, time_budget_s, sigma)
    if not _is_real(min_confidence) or not 0 <= min_confidence <= 1:
        raise InvalidInputError("min_confidence must be a number 0-1", given=min_confidence, allowed="e.g. 0.06")
    sigma_used = float(sigma) if sigma is not None else max(estimate_noise_sigma(lum), MIN_SIGMA)
    y, scale = _working_image(lum, max_side)
    ks = max(3, _odd(kernel_size * scale))
    levels = 1 + max(0, int(math.floor(math.log(_COARSEST_KERNEL / ks) / math.log(_SCALE_STEP))))
    info: dict = {"working_shape": list(y.shape), "downscale": scale, "kernel_size_used": ks,
                  "levels": levels, "sigma": sigma_used, "iterations": [],
                  "level_spread_px": [], "stopped": None}

    def result(kernel: np.ndarray, confidence: float, sharp: bool) -> KernelEstimate:
        info["cpu_seconds"] = time.process_time() - c0
        return KernelEstimate(kernel, float(confidence), sharp, time.perf_counter() - t0, info)

    if float(np.std(y)) < 1e-3:  # a flat photo: nothing to estimate from, nothing to remove
        info["stopped"] = "no structure"
        return result(_delta(1), 0.0, True)
    noise_var = (sigma_used / 255.0) ** 2
    # the L0 weight must stay above the noise's gradient energy, or the cartoon keeps the
    # noise, a delta explains it, and a noisy blurred photo passes as sharp
    lam = max(_LAMBDA_START, _NOISE_LAMBDA * noise_var)
    lam_min = max(_LAMBDA_MIN, _NOISE_LAMBDA_MIN * noise_var)
    finest = _Level(y, ks)

    # Sharpness test: at full resolution a delta is a fixed point of the alternation for a
    # sharp photo (its L0 cartoon explains it unblurred), while a real blur pulls the kernel
    # off the delta at once. The pyramid cannot tell: its coarse levels see their own
    # downsampling filter as blur, and near-delta blobs sit in a flat valley it does not
    # leave (measured: sharp photos came out as 2 px haloes that Wiener turned into -20 dB).
    k_test = _delta(ks)
    for _ in range(_SHARP_TEST):
        x_hat = finest.latent(k_test, lam)
        k_test = _centre(_clean(finest.kernel(x_hat, k_test, _GAMMA))[0])
    info["test_spread_px"] = _spread(k_test)
    # a very smooth photo leaves the cartoon no edges and the test no evidence: then the
    # kernel stays a delta for want of data, not because the photo is sharp
    info["test_fit"] = finest.fit(x_hat, k_test)
    test_sharp = info["test_spread_px"] < _SHARP_TEST_SPREAD and info["test_fit"] >= _SHARP_TEST_FIT
    info["test_sharp"] = test_sharp

    def sharp_result() -> KernelEstimate:
        info["stopped"] = "sharp"
        return result(_delta(1), 1.0 - info["test_spread_px"] / _SHARP_TEST_SPREAD, True)


    k, k_scale = _delta(3), 1.0  # k_scale: the pyramid scale k is sampled at
    share, agree, fit = 0.0, 0.0, 0.0
    per_iter = 0.0  # seconds of the last iteration, doubled for a finer level
    for level in range(levels - 1, -1, -1):
        if per_iter > 0 and time.perf_counter() - t0 + per_iter > time_budget_s:
            info["stopped"] = f"time budget, before level {level}"
            break
        f = _SCALE_STEP**level
        n = max(3, _odd(ks * f))
        shape = (max(n * 2, round(y.shape[0] * f)), max(n * 2, round(y.shape[1] * f)))
        lvl = finest if level == 0 else _Level(_resize(y, shape, f), n)
        k = _delta(n) if level == levels - 1 else _rescale(k, n, f / k_scale)
        k_scale = f
        done = 0
        for _ in range(_ITERATIONS):
            if done > 0 and time.perf_counter() - t0 + per_iter > time_budget_s:
                info["stopped"] = f"time budget, in level {level}"
                break
            t_it = time.perf_counter()
            x_hat = lvl.latent(k, lam)
            new, share = _clean(lvl.kernel(x_hat, k, _GAMMA))
            new = _centre(new)
            agree = float((new * k).sum() / max(np.linalg.norm(new) * np.linalg.norm(k), 1e-12))
            k = new
            lam = max(lam / _LAMBDA_DECAY, lam_min)
            done += 1
            per_iter = time.perf_counter() - t_it
        info["iterations"].append(done)
        info["level_spread_px"].append(round(_spread(k) / f, 2))
        if level == 0:
            fit = lvl.fit(x_hat, k)
        if info["stopped"] is not None:
            break
        per_iter *= 2.0  # the next level has twice the pixels
    finished = k_scale == 1.0
    if not finished:  # cut short at a coarse level: bring k to the working scale
        k = _rescale(k, ks, 1.0 / k_scale)
    # the test calls a photo sharp: the pyramid overrules it only when it reached the working
    # scale (coarse levels make larger haloes) with a clearly larger blur than the haloes it
    # makes of sharp photos (a noisy blurred photo can hold the test's delta)
    info["pyramid_spread_px"] = _spread(k) / scale
    if test_sharp and (not finished or info["pyramid_spread_px"] < _SHARP_OVERRULE_SPREAD):
        return sharp_result()
    # two independent estimates (the test's single-scale one and the pyramid's) agreeing in
    # shape; without edges for the test, the last two iterates' agreement stands in. An
    # estimate cut short at a coarse level has no fit at the working scale: half credit.
    similarity = _similarity(k, k_test) if info["test_fit"] >= _SHARP_TEST_FIT else agree
    info.update(kept_share=share, agreement=agree, fit=fit, similarity=similarity)
    confidence = share * similarity * (fit if finished else 0.5)
    if scale < 1:  # back to the photo's own pixels
        k = _rescale(k, kernel_size, 1.0 / scale)
    info["spread_px"] = _spread(k)
    if confidence < min_confidence:
        info["stopped"] = "no usable edges"
        return result(_delta(1), confidence, False)
    sharp = info["spread_px"] < _SHARP_SPREAD
    return result(_delta(1) if sharp else _crop_support(_centre_subpixel(k)), confidence, sharp)
