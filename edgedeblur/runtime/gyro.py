"""Blur kernels from the camera's gyroscope: the third PSF source of the deblur pipeline.

Model (Joshi et al. 2010; Sindelar & Sroubek 2013; Mustaniemi et al. 2019): during the
exposure the camera only *rotates* (translation and scene depth are ignored), so a scene point
seen at pixel ``p`` at the reference time is seen at ``p(t) ~ K R(t)^T K^-1 p`` at time ``t``,
where ``K`` holds the intrinsics and ``R(t)`` is the camera's orientation at ``t`` relative to
the reference, integrated from the gyro's angular velocity (:func:`integrate_rotations`). The
blurred pixel averages the sharp image over the exposure, so the local convolution PSF at ``p``
is the trajectory ``p(t) - p`` drawn with equal time weights (:func:`gyro_psf`). With a rolling
shutter each row has its own exposure window, ``readout_time * row / height`` after the first.

**Centring convention**: the reference time of a PSF is the middle of the exposure window of
the row it is for. Kernel element ``(size // 2, size // 2)`` is the point's position at that
instant (the centre used by ``runtime._fft.psf2otf``), so deconvolving gives the image a very
short exposure at each row's mid-exposure would have recorded: no shift between rows or tiles,
and the rolling-shutter geometry (wobble) is left as it is.

The PSF varies over the image (roll, wide angles, rolling shutter), so :func:`gyro_psf_grid`
gives one PSF per tile of a grid and :func:`deconvolve_grid` runs the Wiener data step per
overlapping tile and blends them with the runtime's raised-cosine window. Numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .._arrays import check_image
from ..errors import InvalidInputError, KernelError
from ._gyro_io import (
    ANDROID_BACK_CAMERA,
    ANDROID_BACK_CAMERA_SENSOR_90,
    CameraModel,
    GyroLog,
    _quat_exp,
    _quat_mul,
    read_camera_json,
    read_gyro_csv,
    write_camera_json,
    write_gyro_csv,
)
from .deconv import MIN_SIGMA, PRIOR_SCALE, estimate_noise_sigma, wiener_deconvolve, wiener_nsr
from .tiling import blend_ramp

__all__ = [
    "GyroLog", "CameraModel", "read_gyro_csv", "write_gyro_csv", "read_camera_json", "write_camera_json",
    "ANDROID_BACK_CAMERA", "ANDROID_BACK_CAMERA_SENSOR_90", "rotation_at", "integrate_rotations",
    "exposure_window", "psf_trajectory", "splat_psf", "gyro_psf", "PSFGrid", "gyro_psf_grid",
    "deconvolve_grid", "OffsetEstimate", "estimate_time_offset", "MAX_PSF_SIZE",
]

#: Largest PSF side :func:`gyro_psf` makes; a longer trajectory is refused (wrong units?).
MAX_PSF_SIZE = 255
_MAX_STEP_PX = 0.2  # trajectory samples at most this far apart (pixels)
_CONTEXT = 3  # tile context: this many kernel sizes of real image around each tile


# --- rotations ---------------------------------------------------------------------------------
def _quat_to_matrix(q: np.ndarray) -> np.ndarray:
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
    ], axis=-2)


def rotation_at(log: GyroLog, times: np.ndarray) -> np.ndarray:
    """The gyro's orientation at ``times`` (gyro clock, s) relative to the log's first sample.

    (..., 3, 3) float64 ``R`` with ``dR/dt = R [omega]_x`` (omega in body axes): it maps
    vectors in the body frame at ``t`` to the frame of the first sample. Between two samples the
    angular velocity is interpolated linearly and integrated exactly to second order; the
    sample-to-sample steps are trapezoidal rotation vectors, composed as quaternions. Times
    outside the log are refused (:meth:`GyroLog.check_covers`).
    """
    times = np.asarray(times, dtype=np.float64)
    if times.size:
        log.check_covers(float(times.min()), float(times.max()))
    t, w = log.t, log.omega
    i = np.clip(np.searchsorted(t, times, side="right") - 1, 0, t.size - 2)
    dt = (t[i + 1] - t[i])[..., None]
    tau = (times - t[i])[..., None]
    theta = w[i] * tau + (w[i + 1] - w[i]) * (tau * tau / (2.0 * dt))
    return _quat_to_matrix(_quat_mul(log._quaternions[i], _quat_exp(theta)))


def integrate_rotations(
    log: GyroLog, t0: float, t1: float, *, steps: int = 64, reference: str | float = "middle",
    gyro_to_camera: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Orientations over [t0, t1] (gyro clock, s) relative to a reference time.

    Returns ``(times, R)``: ``steps`` times at the middles of equal sub-intervals (so averaging
    over them integrates over the window) and (steps, 3, 3) rotations ``R(t) = R_ref^T R_abs(t)``:
    the camera's orientation at ``t`` in the axes it had at the reference time ``"middle"``
    (default), ``"start"`` or a time in seconds. With ``gyro_to_camera`` (3x3, gyro axes to
    camera axes) the rotations are expressed in camera axes (``M R M^T``); otherwise in gyro axes.
    """
    if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
        raise InvalidInputError("exposure window must be t0 < t1", given=(t0, t1))
    if not (isinstance(steps, int) and steps >= 1):
        raise InvalidInputError("steps must be a positive integer", given=steps)
    if reference == "middle":
        t_ref = 0.5 * (t0 + t1)
    elif reference == "start":
        t_ref = t0
    elif isinstance(reference, (int, float)) and not isinstance(reference, bool):
        t_ref = float(reference)
    else:
        raise InvalidInputError("unknown rotation reference", given=reference,
                                allowed="'middle', 'start' or a time in seconds")
    times = t0 + (np.arange(steps) + 0.5) * ((t1 - t0) / steps)
    rots = rotation_at(log, np.concatenate([[t_ref], times]))
    rel = np.einsum("ji,njk->nik", rots[0], rots[1:])
    if gyro_to_camera is not None:
        m = np.asarray(gyro_to_camera, dtype=np.float64)
        rel = m @ rel @ m.T
    return times, rel


# --- the PSF at one point ----------------------------------------------------------------------
def exposure_window(camera: CameraModel, point_xy: tuple[float, float],
                    row_time_offset: float | None = None) -> tuple[float, float]:
    """The exposure of the row holding ``point_xy`` on the gyro clock: ``(t0, t1)`` seconds.

    ``t0 = exposure_start + time_offset + row_time_offset``; ``row_time_offset`` (s after the
    first row's start) defaults to the rolling-shutter delay ``camera.row_start(x, y)``.
    """
    x, y = point_xy
    row = camera.row_start(x, y) if row_time_offset is None else float(row_time_offset)
    t0 = camera.exposure_start + camera.time_offset + row
    return t0, t0 + camera.exposure_time


def _displacements(camera: CameraModel, rel: np.ndarray, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    ray = np.linalg.solve(camera.K, np.array([x, y, 1.0]))
    q = camera.K @ np.einsum("nji,j->ni", rel, ray).T  # K R^T K^-1 p, one column per time
    if (q[2] <= 1e-6).any():
        raise InvalidInputError("the gyro says the camera turned more than the field of view",
                                given=f"point {x:.0f},{y:.0f}", hint="check the gyro units (rad/s)")
    return q[0] / q[2] - x, q[1] / q[2] - y


def psf_trajectory(
    camera: CameraModel, log: GyroLog, point_xy: tuple[float, float],
    row_time_offset: float | None = None, *, steps: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Displacements ``(dx, dy)`` (pixels) of the image of ``point_xy`` at equally spaced times
    of its row's exposure, relative to its position at the middle of that exposure.

    ``steps=None`` picks enough samples to keep them under 0.2 px apart.
    """
    t0, t1 = exposure_window(camera, point_xy, row_time_offset)
    m = camera.rotation
    x, y = float(point_xy[0]), float(point_xy[1])
    n = 64 if steps is None else steps
    while True:
        _, rel = integrate_rotations(log, t0, t1, steps=n, gyro_to_camera=m)
        dx, dy = _displacements(camera, rel, x, y)
        if steps is not None or n >= 16384:
            return dx, dy
        gap = float(np.max(np.hypot(np.diff(dx), np.diff(dy)), initial=0.0))
        if gap <= _MAX_STEP_PX:
            return dx, dy
        n = min(16384, int(math.ceil(n * gap / _MAX_STEP_PX)) + 1)


def splat_psf(dx: np.ndarray, dy: np.ndarray, size: int | None = None) -> np.ndarray:
    """Draw a trajectory into an odd ``size`` x ``size`` float32 kernel (bilinear, equal weights,
    sum 1), displacement (0, 0) at element ``(size // 2, size // 2)``. ``size=None``: the
    smallest odd size that holds it plus a 1 px margin."""
    reach = float(max(np.max(np.abs(dx)), np.max(np.abs(dy))))
    if size is None:
        size = 2 * int(math.ceil(reach + 1.0)) + 1
    if size % 2 == 0 or size < 1:
        raise InvalidInputError("PSF size must be odd and positive", given=size)
    if size > MAX_PSF_SIZE or reach + 1.0 > size // 2 + 1e-9:
        raise KernelError("the gyro trajectory does not fit the PSF size", given=f"reach {reach:.1f} px",
                          allowed=f"kernel of {size} px (at most {MAX_PSF_SIZE})",
                          hint="check the gyro units (rad/s), exposure_time (s) and the focal length (px)")
    c = size // 2
    px, py = c + np.asarray(dx, dtype=np.float64), c + np.asarray(dy, dtype=np.float64)
    x0, y0 = np.floor(px).astype(int), np.floor(py).astype(int)
    fx, fy = px - x0, py - y0
    kernel = np.zeros((size, size), dtype=np.float64)
    for oy, ox, wgt in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)),
                        (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(kernel, (y0 + oy, x0 + ox), wgt)
    kernel /= kernel.sum()
    return kernel.astype(np.float32)


def gyro_psf(
    camera: CameraModel, log: GyroLog, point_xy: tuple[float, float],
    row_time_offset: float | None = None, *, size: int | None = None, steps: int | None = None,
) -> np.ndarray:
    """The convolution PSF at image point ``point_xy`` (x, y pixels) from the gyro log.

    The point is projected through ``K R(t)^T K^-1`` over its row's exposure window
    (:func:`exposure_window`; ``row_time_offset`` overrides the rolling-shutter delay of the
    row) and the trajectory is splatted with bilinear weights into an odd kernel that sums to
    1, centred (element ``size // 2``) on the point's position at the middle of the window.
    """
    dx, dy = psf_trajectory(camera, log, point_xy, row_time_offset, steps=steps)
    return splat_psf(dx, dy, size)


# --- a grid of PSFs ------------------------------------------------------------------------------
@dataclass
class PSFGrid:
    """One PSF per tile: tile ``(i, j)`` covers rows ``y_edges[i]:y_edges[i+1]`` and columns
    ``x_edges[j]:x_edges[j+1]`` of an ``height`` x ``width`` image; its PSF, ``kernels[i, j]``
    (rows, cols, k, k float32, each summing to 1), is the one at the tile centre ``(ys[i], xs[j])``."""

    height: int
    width: int
    y_edges: np.ndarray
    x_edges: np.ndarray
    kernels: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.kernels.shape[0]), int(self.kernels.shape[1])

    @property
    def ys(self) -> np.ndarray:
        return 0.5 * (self.y_edges[:-1] + self.y_edges[1:]) - 0.5

    @property
    def xs(self) -> np.ndarray:
        return 0.5 * (self.x_edges[:-1] + self.x_edges[1:]) - 0.5

    @classmethod
    def uniform(cls, kernel: np.ndarray, height: int, width: int, grid: tuple[int, int] = (1, 1)) -> PSFGrid:
        """The same ``kernel`` in every tile (a spatially invariant blur)."""
        k = np.asarray(kernel, dtype=np.float32)
        rows, cols = _check_grid(grid, height, width)
        return cls(height, width, _edges(height, rows), _edges(width, cols), np.broadcast_to(k, (rows, cols) + k.shape).copy())


def _edges(n: int, k: int) -> np.ndarray:
    return np.round(np.linspace(0, n, k + 1)).astype(int)


def _check_grid(grid: object, height: int, width: int) -> tuple[int, int]:
    ok = (isinstance(grid, (tuple, list)) and len(grid) == 2
          and all(isinstance(g, (int, np.integer)) and not isinstance(g, bool) and g >= 1 for g in grid))
    if not ok or (grid[0] > 1 and height // grid[0] < 8) or (grid[1] > 1 and width // grid[1] < 8):
        raise InvalidInputError("PSF grid must be (rows, cols) of tiles at least 8 px tall and wide",
                                given=grid, allowed=f"1..{max(1, height // 8)} rows, 1..{max(1, width // 8)} cols")
    return int(grid[0]), int(grid[1])


def default_grid(height: int, width: int, tile: int = 64) -> tuple[int, int]:
    """About one tile per ``tile`` pixels each way."""
    return max(1, round(height / tile)), max(1, round(width / tile))


def gyro_psf_grid(
    camera: CameraModel, log: GyroLog, grid: tuple[int, int] | None = None, *, size: int | None = None,
) -> PSFGrid:
    """The gyro PSF of every tile of a ``grid = (rows, cols)`` over the camera's image (default:
    about 64 px tiles), each at its tile centre; all kernels share one odd ``size`` (default:
    the smallest that holds every trajectory)."""
    rows, cols = _check_grid(grid or default_grid(camera.height, camera.width), camera.height, camera.width)
    ye, xe = _edges(camera.height, rows), _edges(camera.width, cols)
    ys, xs = 0.5 * (ye[:-1] + ye[1:]) - 0.5, 0.5 * (xe[:-1] + xe[1:]) - 0.5
    start = camera.exposure_start + camera.time_offset
    log = log.window(start, start + camera.readout_time + camera.exposure_time)
    trajectories = [[psf_trajectory(camera, log, (x, y)) for x in xs] for y in ys]
    if size is None:
        reach = max(float(np.max(np.abs(np.concatenate(t)))) for row in trajectories for t in row)
        size = 2 * int(math.ceil(reach + 1.0)) + 1
    kernels = np.stack([np.stack([splat_psf(dx, dy, size) for dx, dy in row]) for row in trajectories])
    return PSFGrid(camera.height, camera.width, ye, xe, kernels)


# --- the data step with a PSF per tile -----------------------------------------------------------
def _axis_tiles(edges: np.ndarray, n: int, overlap: int) -> list[tuple[int, int, np.ndarray]]:
    """Per tile: clipped start, end and blend weights; neighbouring ramps sum to 1."""
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        lo, hi = int(a) - overlap // 2, int(b) - overlap // 2 + overlap
        ramp = blend_ramp(hi - lo, overlap) if overlap else np.ones(hi - lo, np.float32)
        s, e = max(lo, 0), min(hi, n)
        out.append((s, e, ramp[s - lo:e - lo]))
    return out


def deconvolve_grid(
    image: np.ndarray, grid: PSFGrid, *, sigma: float | None = None, prior_scale: float = PRIOR_SCALE,
    taper: str = "mean", overlap: int | None = None,
) -> np.ndarray:
    """The Wiener data step with a PSF per tile (float32 [0, 1] H x W or H x W x C in and out).

    Each tile, grown by ``overlap`` px (default: the smaller tile side - 1, so the result is
    interpolated between tile centres) and padded with three times its kernel size of real image context, is deconvolved by
    :func:`~edgedeblur.runtime.deconv.wiener_deconvolve` with its own PSF and the *whole*
    image's regularisation (``sigma``, ``prior_scale``: one NSR for all tiles, so tiles agree);
    tiles are blended with the raised-cosine ramps of :func:`~edgedeblur.runtime.tiling.blend_ramp`
    across the ``overlap``, so the PSF changes smoothly from tile to tile and there are no seams.
    Not clipped. With a 1 x 1 grid this is plain ``wiener_deconvolve``.
    """
    image = check_image(image, what="deconvolve_grid's image", channels="any", min_side=1)
    h, w = image.shape[:2]
    if (h, w) != (grid.height, grid.width):
        raise InvalidInputError("the PSF grid was made for another image size",
                                given=f"image {h}x{w}", allowed=f"{grid.height}x{grid.width}",
                                hint="make the grid from a camera model of this image (CameraModel.scaled)")
    if sigma is None:
        sigma = max(estimate_noise_sigma(image), MIN_SIGMA)
    nsr = wiener_nsr(image, sigma, prior_scale)
    rows, cols = grid.shape
    if rows * cols == 1:
        return wiener_deconvolve(image, grid.kernels[0, 0], nsr=nsr, taper=taper)
    tile_min = int(min(np.diff(grid.y_edges).min() if rows > 1 else h, np.diff(grid.x_edges).min() if cols > 1 else w))
    ov = tile_min - 1 if overlap is None else int(overlap)
    if not 0 <= ov < tile_min:
        raise InvalidInputError("tile overlap must be smaller than the tiles", given=overlap,
                                allowed=f"0..{tile_min - 1} px")
    ty, tx = _axis_tiles(grid.y_edges, h, ov), _axis_tiles(grid.x_edges, w, ov)
    acc = np.zeros(image.shape, dtype=np.float32)
    wsum = np.zeros((h, w), dtype=np.float32)
    for i, (y0, y1, wy) in enumerate(ty):
        for j, (x0, x1, wx) in enumerate(tx):
            kernel = grid.kernels[i, j]
            pad = _CONTEXT * max(kernel.shape) + 8
            cy0, cy1, cx0, cx1 = max(y0 - pad, 0), min(y1 + pad, h), max(x0 - pad, 0), min(x1 + pad, w)
            restored = wiener_deconvolve(image[cy0:cy1, cx0:cx1], kernel, nsr=nsr, taper=taper)
            weight = np.outer(wy, wx)
            part = restored[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
            acc[y0:y1, x0:x1] += part * (weight[..., None] if image.ndim == 3 else weight)
            wsum[y0:y1, x0:x1] += weight
    return acc / (wsum[..., None] if image.ndim == 3 else wsum)


# --- the gyro-to-camera time offset ------------------------------------------------------------
@dataclass
class OffsetEstimate:
    """Result of :func:`estimate_time_offset`: the best ``offset`` (s; refined between
    candidates by a parabola), the ``candidates`` tried and their ``scores`` (mean negative
    log-likelihood per frequency, lower = the PSFs explain the blur better; NaN where the log
    did not cover the exposure), and a ``confidence`` in [0, 1]: 1 minus the fraction of the
    searched span whose scores are within 10% of the curve's depth of the best (1 = one
    narrow minimum, 0 = a flat curve: the photo cannot tell)."""

    offset: float
    confidence: float
    candidates: np.ndarray
    scores: np.ndarray


def _patch_origins(n: int, size: int) -> np.ndarray:
    if n <= size:
        return np.array([0])
    return np.linspace(0, n - size, round((n - size) / (size / 2)) + 1).astype(int)


def _spectral_nll(grey: np.ndarray, camera: CameraModel, log: GyroLog, patch: int, noise_power: float) -> float:
    """How well the gyro PSFs explain the local power spectra of the blurred photo.

    Per overlapping ``patch`` (Hann-windowed periodogram ``I``), the Gaussian model of a
    natural image blurred by the patch's PSF ``K`` plus white noise gives the spectrum
    ``P = a |K|^2 / (|D|^2 + eps) + n`` (``|D|^2``: gradient-filter power, ``a`` fitted per
    patch); the score is the mean of ``log P + I / P`` (Whittle likelihood) over the
    frequencies above the lowest few, averaged over patches.
    """
    h, w = grey.shape
    win = np.outer(np.hanning(patch), np.hanning(patch))
    f = np.fft.fftfreq(patch)
    d2 = (2 - 2 * np.cos(2 * np.pi * f))[:, None] + (2 - 2 * np.cos(2 * np.pi * f))[None, :]
    keep = d2 > 0.05
    spectrum = 1.0 / (d2[keep] + 1e-3)
    scales = 10.0 ** np.linspace(-12, 0, 49)[:, None]
    total, count = 0.0, 0
    for y in _patch_origins(h, patch):
        for x in _patch_origins(w, patch):
            p = grey[y:y + patch, x:x + patch]
            per = np.abs(np.fft.fft2(win * (p - p.mean()))) ** 2 / float((win**2).sum())
            kernel = gyro_psf(camera, log, (x + patch / 2 - 0.5, y + patch / 2 - 0.5))
            k2 = np.abs(np.fft.fft2(kernel, s=(patch, patch)))[keep] ** 2
            model = scales * (k2 * spectrum)[None, :] + noise_power
            nll = np.mean(np.log(model) + per[keep][None, :] / model, axis=1)
            total += float(nll.min())
            count += 1
    return total / count


def _downscale(image: np.ndarray, camera: CameraModel, factor: int) -> tuple[np.ndarray, CameraModel]:
    """Block-average by an integer ``factor`` and the matching camera (same pixel centres)."""
    if factor == 1:
        return image, camera
    h, w = image.shape[0] // factor, image.shape[1] // factor
    small = image[:h * factor, :w * factor].reshape(h, factor, w, factor).mean(axis=(1, 3))
    cam = replace(camera, fx=camera.fx / factor, fy=camera.fy / factor,
                  cx=min((camera.cx + 0.5) / factor - 0.5, w - 0.5), cy=min((camera.cy + 0.5) / factor - 0.5, h - 0.5),
                  width=w, height=h, readout_time=camera.readout_time * h * factor / camera.height)
    return small, cam


def estimate_time_offset(
    image: np.ndarray, camera: CameraModel, log: GyroLog, candidates: np.ndarray | None = None, *,
    sigma: float | None = None, patch: int = 96, max_side: int = 512,
) -> OffsetEstimate:
    """Search the gyro-to-camera ``time_offset`` that makes the gyro PSFs explain the blur best.

    For each candidate offset (absolute values of ``CameraModel.time_offset`` in s; default:
    the camera's own +-20 ms in 1 ms steps) the per-patch gyro PSFs are scored against the
    photo's local power spectra (:func:`_spectral_nll`, a Gaussian marginal likelihood: no
    deconvolution needed, so it does not reward noise or ringing). The photo is made grey and
    block-averaged to at most ``max_side`` px (intrinsics scaled with it). ``sigma``: the noise
    level on the 0-255 scale (estimated when ``None``). Works when the angular velocity
    changes during the exposure (it always does with hand shake); a constant rotation gives
    the same PSF at every offset and a flat curve (``confidence`` near 0).
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim not in (2, 3) or image.shape[:2] != (camera.height, camera.width):
        raise InvalidInputError("the photo does not match the camera model", given=image.shape,
                                allowed=f"{camera.height} x {camera.width} (x C)")
    grey = image.mean(axis=2) if image.ndim == 3 else image
    if sigma is None:
        sigma = max(estimate_noise_sigma(grey), MIN_SIGMA)
    factor = max(1, math.ceil(max(grey.shape) / max_side))
    small, cam = _downscale(grey.astype(np.float64), camera, factor)
    patch = min(patch, small.shape[0], small.shape[1])
    if patch < 32:
        raise InvalidInputError("photo too small to estimate the gyro time offset", given=image.shape,
                                allowed="at least 32 px a side after downscaling")
    if candidates is None:
        candidates = camera.time_offset + np.arange(-0.02, 0.02 + 1e-9, 0.001)
    cands = np.asarray(candidates, dtype=np.float64).ravel()
    noise_power = (float(sigma) / 255.0) ** 2 / factor**2
    start = cam.exposure_start
    log = log.window(start + float(cands.min()), start + float(cands.max()) + cam.readout_time + cam.exposure_time)
    scores = np.full(cands.size, np.nan)
    first_error: InvalidInputError | None = None
    for i, c in enumerate(cands):
        try:
            scores[i] = _spectral_nll(small, replace(cam, time_offset=float(c)), log, patch, noise_power)
        except KernelError:  # a trajectory too long for any PSF: not one candidate's problem
            raise
        except InvalidInputError as exc:  # this candidate's window is outside the log
            first_error = first_error or exc
    if np.isnan(scores).all():
        raise first_error or InvalidInputError("no time-offset candidates", given=candidates)
    best = int(np.nanargmin(scores))
    offset = float(cands[best])
    if 0 < best < cands.size - 1 and np.isfinite(scores[best - 1:best + 2]).all():
        a, b, c = scores[best - 1:best + 2]
        denom = a - 2 * b + c
        if denom > 0:
            step = 0.5 * (cands[best + 1] - cands[best - 1])
            offset += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) * step
    finite = np.isfinite(scores)
    depth = float(np.nanmedian(scores) - scores[best])
    span = float(np.ptp(cands[finite])) if finite.sum() > 1 else 0.0
    if depth <= 0 or span == 0:
        confidence = 0.0
    else:
        near = cands[finite & (scores <= scores[best] + 0.1 * depth)]
        confidence = float(np.clip(1.0 - np.ptp(near) / span, 0.0, 1.0))
    return OffsetEstimate(offset, confidence, cands, scores)
