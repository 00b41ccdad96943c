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
from .deconv import MIN_SIGMA, estimate_noise_sigma, gradient_spectrum

__all__ = ["KernelEstimate", "estimate_kernel"]

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601, as edgedeblur.metrics
_SCALE_STEP = math.sqrt(0.5)  # pyramid ratio per level
_COARSEST_KERNEL = 5.0  # kernel size at the coarsest level, px
_LAMBDA_START = 4e-3  # L0 weight (Pan et al. 2014); decays per iteration to _LAMBDA_MIN
_LAMBDA_DECAY = 1.1
_LAMBDA_MIN = 1e-4
_BETA_MAX = 1e5  # HQS penalty at which a latent step stops
_GAMMA = 2.0  # kernel L2 weight, on the un-normalised FFT scale of Pan et al.
_ITERATIONS = 5  # latent/kernel alternations per pyramid level
_THRESHOLD = 1.0 / 20.0  # kernel values below max * this are noise
_MIN_COMPONENT = 0.1  # components holding less mass than this are dropped
_SHARP_SPREAD = 0.6  # px: a kernel narrower than this (RMS radius) is a delta for any purpose


@dataclass(frozen=True)
class KernelEstimate:
    """The result of :func:`estimate_kernel`.

    ``kernel``: float32, odd square, non-negative, sums to 1, centroid on the middle pixel
    (whole pixels), cropped to its support; a 1x1 delta when ``sharp``.
    ``confidence``: 0..1, the product of (a) the share of the raw least-squares kernel's
    positive mass in the components that were kept (a true blur gives one compact blob, a
    failed estimate scattered speckle) and (b) the agreement (cosine similarity) of the last
    two kernel iterates at the finest level (a converged estimate stops moving).
    ``sharp``: the photo shows no blur worth removing (the kernel's RMS radius is under
    0.6 px, or the photo has no structure to estimate from).
    ``info``: sizes, scales, iterations, timings and why it stopped.
    """

    kernel: np.ndarray
    confidence: float
    sharp: bool
    seconds: float
    info: dict = field(default_factory=dict)


def _odd(x: float) -> int:
    n = max(1, int(round(x)))
    return n if n % 2 else n + 1


def _check(image: object, kernel_size: object, max_side: object, budget: object,
           sigma: object) -> np.ndarray:
    """Validate the arguments; return the luminance as float32 H x W."""
    if not isinstance(image, np.ndarray):
        raise InvalidInputError("image must be a numpy array", given=type(image).__name__,
                                allowed="float32 H x W or H x W x 3 in [0, 1]")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise InvalidInputError("image must be H x W or H x W x 3", given=f"shape {image.shape}",
                                allowed="H x W, H x W x 1 or H x W x 3")
    if not np.issubdtype(image.dtype, np.number):
        raise InvalidInputError("image must be numeric", given=str(image.dtype),
                                allowed="float32 in [0, 1]")
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)) \
            or kernel_size < 3 or kernel_size % 2 == 0:
        raise InvalidInputError("kernel_size must be an odd integer >= 3", given=kernel_size,
                                allowed="3, 5, 7, ... (e.g. 31)")
    if isinstance(max_side, bool) or not isinstance(max_side, (int, np.integer)) \
            or max_side < 4 * kernel_size:
        raise InvalidInputError("max_side must be an integer of at least 4 x kernel_size",
                                given=max_side, allowed=f">= {4 * kernel_size}")
    if not isinstance(budget, (int, float)) or not np.isfinite(budget) or budget <= 0:
        raise InvalidInputError("time_budget_s must be a positive number of seconds",
                                given=budget, allowed="> 0, e.g. 3.0")
    if sigma is not None and (not isinstance(sigma, (int, float)) or not np.isfinite(sigma)
                              or sigma < 0):
        raise InvalidInputError("sigma must be None or a noise level >= 0 (0-255 scale)",
                                given=sigma, allowed="None (estimate it) or e.g. 2.55")
    h, w = image.shape[:2]
    if min(h, w) < 4 * kernel_size:
        raise InvalidInputError("image is too small for the kernel size", given=f"{h}x{w}",
                                allowed=f"both sides >= 4 x kernel_size = {4 * kernel_size}",
                                hint="pass a smaller kernel_size or a larger image")
    x = image.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise InvalidInputError("image contains NaN or infinity", given="non-finite pixels",
                                allowed="finite values in [0, 1]")
    if x.ndim == 3:
        x = x[..., 0] if x.shape[2] == 1 else x @ _LUMA
    return np.ascontiguousarray(x, dtype=np.float32)


def _resample_matrix(n_in: int, n_out: int, f: float) -> np.ndarray:
    """Linear (triangle) resampling n_in -> n_out at scale f, centres aligned, antialiased.

    When shrinking (f < 1) the triangle widens to 1/f input pixels (MATLAB ``imresize``'s
    antialiasing), so a downscaled level is not aliased noise. Edges are clamped.
    """
    width = 1.0 / f if f < 1 else 1.0
    u = (n_in - 1) / 2.0 + (np.arange(n_out) - (n_out - 1) / 2.0) / f
    j = np.arange(n_in)
    m = np.maximum(0.0, 1.0 - np.abs(j[None, :] - u[:, None]) / width)
    inside = (u >= -0.5) & (u <= n_in - 0.5)  # kernel samples beyond the input are zero
    rows = m.sum(axis=1, keepdims=True)
    m = np.where(rows > 0, m / np.maximum(rows, 1e-12), 0.0) * inside[:, None]
    return m.astype(np.float32)


def _resize(x: np.ndarray, shape: tuple[int, int], f: float) -> np.ndarray:
    return _resample_matrix(x.shape[0], shape[0], f) @ x @ _resample_matrix(x.shape[1], shape[1], f).T


def _components(mask: np.ndarray) -> list[np.ndarray]:
    """8-connected components of a small boolean mask, as arrays of flat indices."""
    h, w = mask.shape
    seen = ~mask.copy()
    out = []
    for start in np.flatnonzero(mask):
        if seen.flat[start]:
            continue
        seen.flat[start] = True
        stack, members = [int(start)], []
        while stack:
            p = stack.pop()
            members.append(p)
            r, c = divmod(p, w)
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < h and 0 <= cc < w and not seen[rr, cc]:
                        seen[rr, cc] = True
                        stack.append(rr * w + cc)
        out.append(np.asarray(members))
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
    out = np.zeros_like(k)
    src_r, dst_r = slice(max(dy, 0), n + min(dy, 0)), slice(max(-dy, 0), n + min(-dy, 0))
    src_c, dst_c = slice(max(dx, 0), n + min(dx, 0)), slice(max(-dx, 0), n + min(-dx, 0))
    out[dst_r, dst_c] = k[src_r, src_c]
    return out / out.sum() if out.sum() > 0 else k


def _delta(n: int) -> np.ndarray:
    k = np.zeros((n, n), np.float32)
    k[n // 2, n // 2] = 1.0
    return k


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
        kty = np.conj(otf) * self.y_hat
        k2 = (otf.real**2 + otf.imag**2).astype(np.float32)
        x = self.padded.data.copy()
        beta = 2.0 * lam
        x_hat = self.y_hat
        while beta < _BETA_MAX:
            gx = np.roll(x, -1, axis=1) - x  # forward differences, periodic like the FFT
            gy = np.roll(x, -1, axis=0) - x
            small = gx * gx + gy * gy < lam / beta  # the L0 hard threshold
            gx[small] = 0.0
            gy[small] = 0.0
            # D^T g: the adjoint of the forward differences, so the FFT denominator matches
            div = np.roll(gx, 1, axis=1) - gx
            div += np.roll(gy, 1, axis=0) - gy
            x_hat = rfft2(div)
            x_hat *= np.float32(beta)
            x_hat += kty
            x_hat /= k2 + np.float32(beta) * self.d2
            x = irfft2(x_hat.copy(), self.shape)
            beta *= 2.0
        return x_hat

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

        k = k0.astype(np.float64)
        r = b - apply(k)
        p = r.copy()
        rs = float((r * r).sum())
        for _ in range(25):
            if rs <= 1e-12 * float((b * b).sum()):
                break
            ap = apply(p)
            a = rs / float((p * ap).sum())
            k += a * p
            r -= a * ap
            rs_new = float((r * r).sum())
            p = r + (rs_new / rs) * p
            rs = rs_new
        return k.astype(np.float32)


def _rescale(k: np.ndarray, n: int, f: float) -> np.ndarray:
    """Resample a kernel by scale f onto n x n, re-normalised and centred."""
    k = np.maximum(_resize(k, (n, n), f), 0.0)
    return _centre(k / k.sum()) if k.sum() > 0 else _delta(n)


def _working_image(y: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Centre crop (full resolution) of at most max_side; downscale only huge photos."""
    h, w = y.shape
    scale = 1.0
    if max(h, w) > 2 * max_side:
        scale = 2 * max_side / max(h, w)
        shape = (max(1, round(h * scale)), max(1, round(w * scale)))
        y = _resize(y, shape, scale)
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
) -> KernelEstimate:
    """Estimate the blur kernel (PSF) of a photo blindly; see the module docstring.

    ``image``: float32 [0, 1], H x W or H x W x 3 (estimated on luminance). ``kernel_size``:
    odd, the largest blur expected, in the photo's pixels. ``max_side``: the estimation works
    on at most this many pixels per side. ``time_budget_s``: refinement stops when the next
    iteration would overrun it, and the kernel reached so far is returned (``info["stopped"]``).
    ``sigma``: noise level on the 0-255 scale, estimated when ``None``.
    """
    t0 = time.perf_counter()
    lum = _check(image, kernel_size, max_side, time_budget_s, sigma)
    sigma_used = float(sigma) if sigma is not None else max(estimate_noise_sigma(lum), MIN_SIGMA)
    y, scale = _working_image(lum, max_side)
    ks = _odd(kernel_size * scale) if scale < 1 else kernel_size
    ks = max(ks, 3)
    levels = 1 + max(0, int(math.floor(math.log(_COARSEST_KERNEL / ks) / math.log(_SCALE_STEP))))
    info: dict = {"working_shape": list(y.shape), "downscale": scale, "kernel_size_used": ks,
                  "levels": levels, "sigma": sigma_used, "iterations": [], "stopped": None}
    if float(np.std(y)) < 1e-3:  # a flat photo: nothing to estimate from, nothing to remove
        info["stopped"] = "no structure"
        return KernelEstimate(_delta(1), 0.0, True, time.perf_counter() - t0, info)

    k = _delta(3)
    k_scale = _SCALE_STEP ** levels  # the scale k lives at (before any level: none)
    lam = _LAMBDA_START
    share, agree = 0.0, 0.0
    per_iter = 0.0  # seconds of the last iteration, scaled to the next level's size
    for level in range(levels - 1, -1, -1):
        if per_iter > 0 and time.perf_counter() - t0 + per_iter > time_budget_s:
            info["stopped"] = f"time budget before level {level}"
            break
        f = _SCALE_STEP**level
        n = max(3, _odd(ks * f))
        shape = (max(n * 2, round(y.shape[0] * f)), max(n * 2, round(y.shape[1] * f)))
        lvl = _Level(y if level == 0 else _resize(y, shape, f), n)
        k = _delta(n) if level == levels - 1 else _rescale(k, n, f / k_scale)
        k_scale = f
        done = 0
        for _ in range(_ITERATIONS):
            if done > 0 and time.perf_counter() - t0 + per_iter > time_budget_s:
                info["stopped"] = f"time budget at level {level}"
                break
            t_it = time.perf_counter()
            x_hat = lvl.latent(k, lam)
            new, share = _clean(lvl.kernel(x_hat, k, _GAMMA))
            new = _centre(new)
            agree = float((new * k).sum() / max(np.linalg.norm(new) * np.linalg.norm(k), 1e-12))
            k = new
            lam = max(lam / _LAMBDA_DECAY, _LAMBDA_MIN)
            done += 1
            per_iter = time.perf_counter() - t_it
        info["iterations"].append(done)
        if info["stopped"] is not None:
            break
        per_iter *= 2.0  # the next level has twice the pixels
    if k_scale != 1.0:  # cut short at a coarse level: bring k to the working scale
        k = _rescale(k, ks, 1.0 / k_scale)
    if scale < 1:  # back to the photo's own pixels
        k = _rescale(k, kernel_size, 1.0 / scale)
    spread = _spread(k)
    info.update(spread_px=spread, kept_share=share, agreement=agree)
    sharp = spread < _SHARP_SPREAD
    out = _delta(1) if sharp else _crop_support(k)
    confidence = float(np.clip(share * max(agree, 0.0), 0.0, 1.0))
    return KernelEstimate(out, confidence, sharp, time.perf_counter() - t0, info)
