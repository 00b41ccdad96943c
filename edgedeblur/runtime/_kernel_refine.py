"""Kernel refinement from a restored photo (:func:`refine_kernel`), numpy only.

The blind pipeline re-estimates its kernel from the restored photo (a far better latent than
the estimator's own); :mod:`edgedeblur.runtime.kernel_estimate` re-exports this.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidInputError
from ._kernel_ops import (
    _LUMA,
    _centre,
    _centre_subpixel,
    _cg,
    _clean,
    _crop_support,
    _is_int,
    _is_real,
    _offset,
)
from .deconv import estimate_noise_sigma

__all__ = ["refine_kernel"]


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
    within half a pixel of the middle (with ``subpixel`` on it, to a thousandth of a pixel).
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
    if subpixel:  # the last hundredths of a pixel, as the estimator's kernels
        k = _crop_support(_centre_subpixel(k)).astype(np.float64)
    return np.ascontiguousarray(k / k.sum(), dtype=np.float32)
