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
* sharpness test first: two single-scale iterations from a delta (see estimate_kernel).

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
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInputError
from ._fft import irfft2, pad_and_taper, psf2otf, rfft2
from .deconv import MIN_SIGMA, estimate_noise_sigma, gradient_spectrum

__all__ = ["KernelEstimate", "estimate_kernel", "refine_kernel"]

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601, as edgedeblur.metrics
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
_CG_ITERS = 25  # conjugate-gradient steps per kernel update
_THRESHOLD = 1.0 / 20.0  # kernel values below max * this are noise
_MIN_COMPONENT = 0.1  # components holding less than this share of the mass are dropped
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
_MIN_CONFIDENCE = 0.06  # below this the photo has no usable edges: return the safe delta


@dataclass(frozen=True)
class KernelEstimate:
    """The result of :func:`estimate_kernel`.

    ``kernel``: float32, odd square, non-negative, sums to 1, centroid on the middle pixel
    (whole pixels), cropped to its support; a 1x1 delta when ``sharp``.
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
    ``sharp``: no blur worth removing: the sharpness test's kernel (or the final one) has an
    RMS radius under 0.75 (0.75) px, or the photo is flat. The kernel is then 1x1.
    ``info``: sizes, scales, iterations, timings and why it stopped.
    """

    kernel: np.ndarray
    confidence: float
    sharp: bool
    seconds: float
    info: dict = field(default_factory=dict)


def _odd(x: float) -> int:
    return max(1, int(round(x))) | 1


def _is_int(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


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


def _components(mask: np.ndarray) -> list[list[int]]:
    """8-connected components of a small boolean mask (flood fill), as lists of flat indices."""
    h, w = mask.shape
    todo = set(np.flatnonzero(mask).tolist())
    out = []
    while todo:
        stack = [todo.pop()]
        members = []
        while stack:
            p = stack.pop()
            members.append(p)
            r, c = divmod(p, w)
            for q in ((r + dr) * w + c + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                      if 0 <= r + dr < h and 0 <= c + dc < w):
                if q in todo:
                    todo.remove(q)
                    stack.append(q)
        out.append(members)
    return out


def _clean(k: np.ndarray) -> tuple[np.ndarray, float]:
    """Non-negative, threshold, drop small components, normalise; also the kept mass share."""
    k = np.maximum(k, 0.0)
    total = float(k.sum())
    if total <= 0 or not np.isfinite(total):
        return _delta(k.shape[0]), 0.0
    k = np.where(k >= _THRESHOLD * float(k.max()), k, 0.0)
    comps = _components(k > 0)
    masses = [float(k.flat[c].sum()) for c in comps]
    kept = np.zeros_like(k)
    for c, mass in zip(comps, masses, strict=True):
        if mass >= _MIN_COMPONENT * sum(masses) or mass == max(masses):
            kept.flat[c] = k.flat[c]
    share = float(kept.sum()) / total
    return (kept / kept.sum()).astype(np.float32), share


def _centre(k: np.ndarray) -> np.ndarray:
    """Shift by whole pixels so the centroid is on the middle; mass pushed out is dropped."""
    n = k.shape[0]
    idx = np.arange(n)
    s = float(k.sum())
    dy = int(round(float(k.sum(axis=1) @ idx) / s - (n - 1) / 2))
    dx = int(round(float(k.sum(axis=0) @ idx) / s - (n - 1) / 2))
    if dy == 0 and dx == 0:
        return k
    out = np.roll(k, (-dy, -dx), axis=(0, 1))
    # what wrapped around is mass that the shift pushed out of the support
    out[slice(n - dy, n) if dy > 0 else slice(0, -dy)] = 0.0
    out[:, slice(n - dx, n) if dx > 0 else slice(0, -dx)] = 0.0
    return out / out.sum() if out.sum() > 0 else k


def _delta(n: int) -> np.ndarray:
    return np.pad(np.ones((1, 1), np.float32), n // 2)


def _spread(k: np.ndarray) -> float:
    """RMS radius of the kernel around its centroid, in pixels."""
    n = k.shape[0]
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    s = float(k.sum())
    cy, cx = float((k * yy).sum()) / s, float((k * xx).sum()) / s
    return math.sqrt(float((k * ((yy - cy) ** 2 + (xx - cx) ** 2)).sum()) / s)


def _crop_support(k: np.ndarray) -> np.ndarray:
    """Smallest odd square, centred on the middle, that holds every non-zero value."""
    n = k.shape[0]
    c = n // 2
    rows, cols = np.nonzero(k)
    r = int(max(np.abs(rows - c).max(), np.abs(cols - c).max())) if rows.size else 0
    return np.ascontiguousarray(k[c - r : c + r + 1, c - r : c + r + 1], dtype=np.float32)


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


def _cg(apply: Callable[[np.ndarray], np.ndarray], b: np.ndarray, k: np.ndarray, *,
        iters: int = _CG_ITERS, stop: float | None = None) -> np.ndarray:
    """Conjugate gradients for the symmetric positive definite system apply(k) = b, from k.

    Stops after ``iters`` steps or when the squared residual is <= ``stop`` (default
    1e-12 of ``|b|^2``)."""
    r = b - apply(k)
    p = r.copy()
    rs = float((r * r).sum())
    stop = 1e-12 * float((b * b).sum()) if stop is None else stop
    for _ in range(iters):
        if rs <= stop:
            break
        ap = apply(p)
        a = rs / float((p * ap).sum())
        k = k + a * p
        r -= a * ap
        rs_new = float((r * r).sum())
        p = r + (rs_new / rs) * p
        rs = rs_new
    return k


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
    if info["test_spread_px"] < _SHARP_TEST_SPREAD and info["test_fit"] >= _SHARP_TEST_FIT:
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
    if k_scale != 1.0:  # cut short at a coarse level: bring k to the working scale
        k = _rescale(k, ks, 1.0 / k_scale)
    # two independent estimates (the test's single-scale one and the pyramid's) agreeing in
    # shape; without edges for the test, the last two iterates' agreement stands in. An
    # estimate cut short at a coarse level has no fit at the working scale: half credit.
    similarity = _similarity(k, k_test) if info["test_fit"] >= _SHARP_TEST_FIT else agree
    info.update(kept_share=share, agreement=agree, fit=fit, similarity=similarity)
    confidence = share * similarity * (fit if k_scale == 1.0 else 0.5)
    if scale < 1:  # back to the photo's own pixels
        k = _rescale(k, kernel_size, 1.0 / scale)
    info["spread_px"] = _spread(k)
    if confidence < min_confidence:
        info["stopped"] = "no usable edges"
        return result(_delta(1), confidence, False)
    sharp = info["spread_px"] < _SHARP_SPREAD
    return result(_delta(1) if sharp else _crop_support(k), confidence, sharp)


# --- refinement from a restored latent --------------------------------------------------------
# Decided on the validation photos (benchmarks/blind_refine_eval.py, 8 last bsds500_test photos
# x 3 shake kernels, HQS pipeline): the least squares on *all* latent gradients made the kernel
# worse (a restored latent is consistent with the kernel it was restored with, and its weak
# gradients are the prior's guesses); on its strongest 3 % it helped (2, 5 and 10 % no better).
# Of the gain over the estimate, most comes from the sub-pixel centring (without it a refined
# kernel gained a median 0.2 dB, with it 1.2 dB). Tried and no better: an L0-smoothed latent,
# the prior's output at a higher noise level as the latent, Xu & Jia's r-map edge selection,
# gamma 1e-4..0.3, growth 1/2/5 px, 1/3/4 passes, threshold 1/10 or 1/30, 25/150 CG steps.
_REFINE_EDGE_SHARE = 0.03  # share of the latent's pixels whose gradients enter the fit
_REFINE_EDGE_NOISE = 4.0  # ... and never those weaker than this many noise deviations
_REFINE_MIN_EDGES = 1  # fewer edge pixels than this x the kernel window: nothing to refine
_REFINE_GAMMA = 0.1  # kernel L2 weight, as a share of the edges' gradient energy
_REFINE_CG_ITERS = 60


def _check_refine(blurred: object, latent: object, kernel: object, args: dict) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """Validate refine_kernel's arguments (in order); luminances and kernel as float64."""
    def shape_of(v: object) -> str:
        shape = getattr(v, "shape", None)
        return f"shape {shape}" if shape is not None else type(v).__name__

    def is_image(v: object) -> bool:
        return (isinstance(v, np.ndarray) and v.ndim in (2, 3)
                and (v.ndim == 2 or v.shape[2] in (1, 3)) and np.issubdtype(v.dtype, np.number)
                and not np.issubdtype(v.dtype, np.complexfloating))

    it, grow, side, sigma = args["iterations"], args["grow"], args["max_side"], args["sigma"]
    is_kernel = (isinstance(kernel, np.ndarray) and kernel.ndim == 2 and kernel.size > 0
                 and kernel.shape[0] == kernel.shape[1] and kernel.shape[0] % 2 == 1
                 and np.issubdtype(kernel.dtype, np.number)
                 and not np.issubdtype(kernel.dtype, np.complexfloating))
    rules = [  # (is it bad?, what is wrong, what was given, what is allowed), checked lazily
        (lambda: not is_image(blurred), "blurred must be a real numpy array, H x W or H x W x 3",
         shape_of(blurred), "float32 H x W or H x W x 3 in [0, 1]"),
        (lambda: not is_image(latent), "latent must be a real numpy array, H x W or H x W x 3",
         shape_of(latent), "float32 H x W or H x W x 3 in [0, 1] (e.g. the pipeline's output)"),
        (lambda: blurred.shape[:2] != latent.shape[:2],
         "latent must have the blurred photo's height and width",
         f"latent {latent.shape[:2]}, photo {blurred.shape[:2]}", "the restored photo itself"),
        (lambda: not is_kernel, "kernel must be an odd square 2-D real numpy array",
         shape_of(kernel), "e.g. estimate_kernel(photo).kernel"),
        (lambda: not np.all(np.isfinite(kernel)) or float(kernel.min()) < 0
         or float(kernel.sum()) <= 0, "kernel must be finite, non-negative and not all zero",
         f"min {float(np.min(kernel))}, sum {float(np.sum(kernel))}", "a PSF that sums to 1"),
        (lambda: not _is_int(it) or it < 1, "iterations must be a positive integer", it, "1, 2, 3 ..."),
        (lambda: not _is_int(grow) or grow < 0, "grow must be an integer >= 0 (pixels)", grow,
         "0, 1, 2, 3 ..."),
        (lambda: sigma is not None and (not _is_real(sigma) or sigma < 0),
         "sigma must be None or a noise level >= 0 (0-255 scale)", sigma, "None or e.g. 2.55"),
        (lambda: not _is_int(side) or side < 4 * (kernel.shape[0] + 2 * grow * it),
         "max_side must be an integer of at least 4 x the largest kernel the passes can reach",
         side, f">= 4 x (kernel side + 2 x grow x iterations) = {4 * (kernel.shape[0] + 2 * grow * it)}"),
        (lambda: min(blurred.shape[:2]) < 4 * (kernel.shape[0] + 2 * grow * it),
         "image is too small for the kernel", f"{blurred.shape} with a {kernel.shape} kernel",
         "both sides >= 4 x (kernel side + 2 x grow x iterations)"),
        (lambda: not np.all(np.isfinite(blurred)), "blurred contains NaN or infinity",
         "non-finite pixels", "finite values in [0, 1]"),
        (lambda: not np.all(np.isfinite(latent)), "latent contains NaN or infinity",
         "non-finite pixels", "finite values in [0, 1]"),
    ]
    for bad, what, given, allowed in rules:
        if bad():
            raise InvalidInputError(what, given=given, allowed=allowed)
    h, w = blurred.shape[:2]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    window = (slice(top, top + side), slice(left, left + side))

    def luma(image: np.ndarray) -> np.ndarray:
        x = image[window].astype(np.float32, copy=False)
        if x.ndim == 3:
            x = x[..., 0] if x.shape[2] == 1 else x @ _LUMA
        return x.astype(np.float64)

    return luma(blurred), luma(latent), kernel.astype(np.float64)


def _fourier_shift(x: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """x moved by (dy, dx) px (content at p goes to p + d), band-limited; borders reflected."""
    if dy == 0 and dx == 0:
        return x
    pad = 8 + int(math.ceil(max(abs(dy), abs(dx))))
    ext = np.pad(x, pad, mode="symmetric")
    h, w = ext.shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    spec = np.fft.rfft2(ext) * np.exp(-2j * np.pi * (fy * dy + fx * dx))
    return np.fft.irfft2(spec, (h, w))[pad : pad + x.shape[0], pad : pad + x.shape[1]]


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Square (Chebyshev) dilation of a small boolean mask by r pixels."""
    out = mask.copy()
    for _ in range(r):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        wide = grown.copy()
        wide[:, 1:] |= grown[:, :-1]
        wide[:, :-1] |= grown[:, 1:]
        out = wide
    return out


def _edge_gradients(x: np.ndarray, noise: float) -> tuple[list[np.ndarray], int]:
    """The latent's forward differences (rows, columns; (H-1) x (W-1)), zero except at its
    strongest edges (the top _REFINE_EDGE_SHARE of the gradient magnitude, above the noise)."""
    grads = [np.diff(x, axis=0)[:, :-1], np.diff(x, axis=1)[:-1]]
    mag = grads[0] ** 2 + grads[1] ** 2
    floor = (_REFINE_EDGE_NOISE * noise) ** 2
    keep = mag >= max(float(np.quantile(mag, 1.0 - _REFINE_EDGE_SHARE)), floor, 1e-12)
    return [g * keep for g in grads], int(keep.sum())


def _normal_equations(y: np.ndarray, grads: list[np.ndarray], radius: int) -> tuple[
        np.ndarray, np.ndarray]:
    """Of min_k sum_{p in V} (grad x * k - grad y)(p)^2 for a kernel of this radius, where V
    are the pixels whose whole footprint lies inside the frame (nothing beyond the borders,
    where the latent is a guess, enters the fit).

    Returns (auto, cross): ``auto`` on lags -2r..2r, the autocorrelation of the latent's
    gradients over the frame rescaled to |V| terms per lag (a stand-in for the exact, nearly
    Toeplitz Gram matrix); ``cross`` on -r..r, sum_{p in V} grad y(p) grad x(p - q).
    """
    n = 2 * radius + 1
    gh, gw = grads[0].shape
    shape = (gh + 2 * n, gw + 2 * n)  # zero padding: linear, not circular, correlations
    valid = np.zeros((gh, gw))
    valid[radius : gh - radius, radius : gw - radius] = 1.0
    auto_spec = np.zeros((shape[0], shape[1] // 2 + 1))
    cross_spec = np.zeros((shape[0], shape[1] // 2 + 1), complex)
    for axis, g in enumerate(grads):
        gy = np.diff(y, axis=axis)[:gh, :gw]
        xs = np.fft.rfft2(g, shape)
        auto_spec += xs.real**2 + xs.imag**2
        cross_spec += np.conj(xs) * np.fft.rfft2(gy * valid, shape)
    lag = np.arange(-(n - 1), n)
    overlap = np.outer(gh - np.abs(lag), gw - np.abs(lag))
    terms = (gh - 2 * radius) * (gw - 2 * radius)
    auto = np.fft.irfft2(auto_spec, shape)[np.ix_(lag % shape[0], lag % shape[1])] * (terms / overlap)
    half = np.arange(-radius, radius + 1)
    cross = np.fft.irfft2(cross_spec, shape)[np.ix_(half % shape[0], half % shape[1])]
    return auto, cross


def _masked_solve(auto: np.ndarray, cross: np.ndarray, mask: np.ndarray, k0: np.ndarray,
                  gamma: float) -> np.ndarray:
    """argmin_k k'Gk - 2 b'k + gamma ||k||^2 with k zero off the mask (conjugate gradients)."""
    n = cross.shape[0]
    m = 3 * n - 2
    r_hat = np.fft.rfft2(auto, (m, m))
    on = mask.astype(np.float64)

    def apply(v: np.ndarray) -> np.ndarray:
        full = np.fft.irfft2(np.fft.rfft2(v, (m, m)) * r_hat, (m, m))
        return (full[n - 1 : 2 * n - 1, n - 1 : 2 * n - 1] + gamma * v) * on

    return _cg(apply, cross * on, k0 * on, iters=_REFINE_CG_ITERS, stop=1e-14 * float((cross * cross).sum()))


def _offset(k: np.ndarray) -> tuple[float, float]:
    """The kernel's centroid minus its middle, (rows, columns), in pixels."""
    idx = np.arange(k.shape[0]) - (k.shape[0] - 1) / 2
    s = float(k.sum())
    return float(k.sum(axis=1) @ idx) / s, float(k.sum(axis=0) @ idx) / s


def _embed(k: np.ndarray, n: int) -> np.ndarray:
    """An odd kernel in the middle of an n x n frame (n odd, at least its side)."""
    a = (n - k.shape[0]) // 2
    return np.pad(k.astype(np.float64), a)


def refine_kernel(
    blurred: np.ndarray,
    latent: np.ndarray,
    kernel: np.ndarray,
    *,
    sigma: float | None = None,
    iterations: int = 2,
    grow: int = 3,
    subpixel: bool = True,
    max_side: int = 1024,
) -> np.ndarray:
    """Re-estimate a blur kernel at full resolution from the photo and a sharp latent of it.

    ``blurred``: the photo, float [0, 1], H x W or H x W x 3 (luminance is used). ``latent``:
    a sharp estimate of it, same height and width, e.g. the deblur pipeline's output with
    ``kernel``: much cleaner and sharper than the L0 cartoon :func:`estimate_kernel` fits
    to. ``kernel``: the current estimate (odd square, non-negative).

    Each of ``iterations`` passes solves the estimator's kernel step, least squares on
    gradients ``||grad latent * k - grad blurred||^2 + gamma ||k||^2``, on the latent's
    strongest edges only (3 % of the pixels: its weak gradients are the prior's guesses) and
    the pixels whose whole footprint lies inside the frame, with ``k`` confined to the
    current support grown by ``grow`` pixels; then thresholds, drops stray components,
    normalises and centres as the estimator does. With ``subpixel`` the latent is moved
    (band-limited) so that the kernel's centroid lands on the middle pixel exactly, not only
    to whole pixels: the restored photo then sits where the blurred one does, instead of up
    to half a pixel off. ``sigma`` (0-255 scale, estimated when None): gradients weaker than
    4 sigma never count as edges; with fewer edge pixels than the kernel's window (its side
    plus 2 x ``grow``, squared) the kernel comes back unchanged (normalised). ``max_side``: a larger photo is refined on its
    centre crop of this size (full resolution).

    Returns float32, odd square, non-negative, sum 1, cropped to its support, centroid
    within half a pixel of the middle (with ``subpixel`` typically within 0.1 px).
    """
    y, x, k = _check_refine(blurred, latent, kernel, {"iterations": iterations, "grow": grow,
                                                      "max_side": max_side, "sigma": sigma})
    noise = (float(sigma) if sigma is not None else estimate_noise_sigma(y.astype(np.float32))) / 255.0
    k = k / k.sum()
    start = k
    # the latent fits k as it is: moving it by k's centroid makes the fit come out centred
    shift = _offset(k) if subpixel else (0.0, 0.0)
    k = _crop_support(_centre(k.astype(np.float32))).astype(np.float64)
    for _ in range(iterations):
        n = k.shape[0] + 2 * grow
        grads, edges = _edge_gradients(_fourier_shift(x, *shift), noise)
        if edges < _REFINE_MIN_EDGES * n * n:
            return np.ascontiguousarray(start, dtype=np.float32)
        auto, cross = _normal_equations(y, grads, n // 2)
        k_in = _embed(k, n)
        solved = _masked_solve(auto, cross, _dilate(k_in > 0, grow), k_in,
                               _REFINE_GAMMA * float(auto[n - 1, n - 1]))
        if not np.all(np.isfinite(solved)) or float(solved.max()) <= 0:
            break
        cleaned = _clean(solved)[0]
        if subpixel:  # what is left off the middle is the next pass's shift of the latent
            dy, dx = _offset(cleaned)
            shift = (shift[0] + dy, shift[1] + dx)
        k = _crop_support(_centre(cleaned)).astype(np.float64)
    return np.ascontiguousarray(k / k.sum(), dtype=np.float32)
