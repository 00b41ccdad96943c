"""Blur kernels (PSFs): generated camera shake, linear motion, defocus, Gaussian, and files.

Every function returns a float32 2-D array of odd size, summing to 1, meant for a *true
convolution* (``blur_image``, ``scipy.signal.fftconvolve``). Generated kernels are centred:
their centroid sits on the middle pixel, so blurring does not shift the image and the clean
target stays aligned with the degraded input (a model trained on shifted pairs learns to shift).
Real kernels loaded from files keep the position they were stored with.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._arrays import check_kernel as validate_kernel
from ..errors import KernelError

__all__ = [
    "validate_kernel",
    "centre_kernel",
    "gaussian_kernel",
    "defocus_kernel",
    "linear_motion_kernel",
    "camera_shake_kernel",
    "load_kernel",
    "kernel_files",
    "KERNEL_EXTENSIONS",
]

KERNEL_EXTENSIONS = (".npy", ".png", ".mat", ".tif", ".tiff", ".bmp", ".pgm")

_TRAJECTORY_LENGTH = 60.0


def _odd(n: float) -> int:
    n = max(1, int(math.ceil(n)))
    return n if n % 2 else n + 1


def _splat(points: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Rasterise sub-pixel points (x, y offsets from the centre) with bilinear weights."""
    c = (size - 1) / 2.0
    x = points[:, 0] + c
    y = points[:, 1] + c
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = x - x0
    fy = y - y0
    k = np.zeros((size + 1, size + 1), np.float64)
    x0c = np.clip(x0, 0, size - 1)
    y0c = np.clip(y0, 0, size - 1)
    np.add.at(k, (y0c, x0c), weights * (1 - fx) * (1 - fy))
    np.add.at(k, (y0c, x0c + 1), weights * fx * (1 - fy))
    np.add.at(k, (y0c + 1, x0c), weights * (1 - fx) * fy)
    np.add.at(k, (y0c + 1, x0c + 1), weights * fx * fy)
    return k[:size, :size]


def _check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and ok):
        raise KernelError(f"{name} must be {'>= 0' if allow_zero else '> 0'}", given=value)
    return value


def gaussian_kernel(
    sigma: float | None = None,
    *,
    sx: float | None = None,
    sy: float | None = None,
    theta: float = 0.0,
    size: int | None = None,
) -> np.ndarray:
    """Isotropic (``sigma``) or anisotropic (``sx``, ``sy`` in pixels, ``theta`` in degrees) Gaussian.

    ``theta`` rotates the ``sx`` axis counter-clockwise as seen on screen. The default size
    covers +-3 sigma of the widest axis.
    """
    if sigma is not None:
        sx = sy = sigma
    if sx is None or sy is None:
        raise KernelError("gaussian kernel needs sigma, or sx and sy", given=(sigma, sx, sy))
    sx, sy = _check_positive("sx", sx), _check_positive("sy", sy)
    size = _odd(2 * math.ceil(3 * max(sx, sy)) + 1) if size is None else _odd(size)
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) - c
    t = math.radians(theta)
    # rotate into the kernel frame; y points down on screen, so negate it for "counter-clockwise"
    u = xx * math.cos(t) - yy * math.sin(t)
    v = xx * math.sin(t) + yy * math.cos(t)
    k = np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))
    return validate_kernel(k)


def defocus_kernel(radius: float, *, size: int | None = None, supersample: int = 8) -> np.ndarray:
    """Out-of-focus disk of ``radius`` pixels, anti-aliased by sub-pixel coverage.

    A radius below 0.5 is (close to) a delta: defocus smaller than a pixel.
    """
    radius = _check_positive("radius", radius, allow_zero=True)
    size = _odd(2 * math.ceil(radius) + 1) if size is None else _odd(size)
    c = (size - 1) / 2.0
    n = int(supersample)
    offs = (np.arange(n) + 0.5) / n - 0.5
    coords = np.arange(size, dtype=np.float64) - c
    fine = (coords[:, None] + offs[None, :]).reshape(-1)
    inside = (fine[:, None] ** 2 + fine[None, :] ** 2) <= max(radius, 0.5 / n) ** 2
    k = inside.reshape(size, n, size, n).mean(axis=(1, 3))
    if k.sum() == 0:
        k[size // 2, size // 2] = 1.0
    return validate_kernel(k)


def linear_motion_kernel(length: float, angle: float = 0.0, *, size: int | None = None) -> np.ndarray:
    """Uniform linear motion over ``length`` pixels at ``angle`` degrees (counter-clockwise on screen).

    The segment is sampled densely and splatted bilinearly, so any length/angle is anti-aliased.
    """
    length = _check_positive("length", length, allow_zero=True)
    size = _odd(length + 3) if size is None else _odd(size)
    n = max(2, int(math.ceil(length * 8)) + 1)
    s = np.linspace(-length / 2.0, length / 2.0, n)
    t = math.radians(angle)
    pts = np.stack([s * math.cos(t), -s * math.sin(t)], axis=1)
    return validate_kernel(_splat(pts, np.ones(n), size))


def _shake_trajectory(rng: np.random.Generator, n: int, anxiety: float) -> np.ndarray:
    """A random hand-shake path: a random walk with inertia, pull back and impulsive jumps.

    In the spirit of Boracchi & Foi (2012): the velocity keeps its direction (inertia), gets a
    Gaussian perturbation, is pulled back towards the start (the hand corrects), and sometimes
    reverses abruptly (pressing the shutter). Returns an n x 2 array of (x, y) points.
    """
    centripetal = 0.7 * rng.uniform()
    gaussian_term = 10.0 * rng.uniform()
    big_shake_p = 0.2 * rng.uniform()
    step = _TRAJECTORY_LENGTH / (n - 1)  # the path lives on a 60-pixel scale, rescaled later
    v = complex(np.exp(1j * rng.uniform(0, 2 * math.pi)) * step)
    jumps = (rng.uniform(size=n) < big_shake_p * anxiety).tolist()
    jump_turns = np.exp(1j * (math.pi + rng.uniform(-0.5, 0.5, size=n))).tolist()
    noise = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).tolist()
    # plain Python complex arithmetic: ~10x faster than numpy scalars in this sequential loop
    a, g, c = anxiety * step, gaussian_term, centripetal
    pos = 0j
    path = [pos]
    for t in range(n - 1):
        dv = a * (g * noise[t] - c * pos)
        if jumps[t]:
            dv += 2 * v * jump_turns[t]
        v = v + dv
        v = v / max(abs(v), 1e-12) * step
        pos = pos + v
        path.append(pos)
    x = np.asarray(path, np.complex128)
    return np.stack([x.real, x.imag], axis=1)


def _dwell_weights(rng: np.random.Generator, n: int, speed: float) -> np.ndarray:
    """Time spent at each path sample: a smooth random log-normal profile of ``speed`` strength.

    A real hand slows down at turning points and speeds up in between; slow parts of the path
    collect more light, which is what makes real PSFs blotchy rather than uniform strokes.
    """
    if speed <= 0:
        return np.ones(n)
    width = max(3, n // 10)
    noise = rng.standard_normal(n + width)
    smooth = np.convolve(noise, np.hanning(width), mode="valid")[:n]
    smooth = (smooth - smooth.mean()) / max(float(smooth.std()), 1e-12)
    return np.exp(1.5 * min(speed, 1.0) * smooth)


def camera_shake_kernel(
    size: int = 31,
    rng: np.random.Generator | int | None = None,
    *,
    anxiety: float | None = None,
    extent: float | None = None,
    exposure: float | None = None,
    speed: float | None = None,
    samples: int = 1000,
) -> np.ndarray:
    """A random camera-shake PSF: a hand trajectory rasterised on a sub-pixel grid.

    ``anxiety`` (> 0, default log-uniform in 0.002-0.03) scales how erratic the hand is: small
    values give the smooth strokes and hooks of measured kernels (Levin et al. 2009), 0.05-0.1
    the tangled paths of DeblurGAN's generator. ``extent`` (0-1, default random 0.3-1) is how
    much of the kernel half-width the path spans; ``exposure`` (0-1, default random 0.5-1) is the
    fraction of the trajectory the shutter is open for; ``speed`` (0-1, default random) is how
    much the hand's speed varies along the path (slow parts collect more light). The kernel is
    centred on its centroid.
    """
    rng = np.random.default_rng(rng)
    size = _odd(size)
    if size < 3:
        raise KernelError("camera shake kernel size must be at least 3", given=size, allowed="odd >= 3")
    anxiety = math.exp(rng.uniform(math.log(0.002), math.log(0.03))) if anxiety is None else _check_positive("anxiety", anxiety)
    extent = rng.uniform(0.3, 1.0) if extent is None else _check_positive("extent", extent)
    exposure = rng.uniform(0.5, 1.0) if exposure is None else _check_positive("exposure", exposure)
    speed = rng.uniform(0.0, 1.0) if speed is None else _check_positive("speed", speed, allow_zero=True)
    traj = _shake_trajectory(rng, samples, min(anxiety, 1.0))
    weights = _dwell_weights(rng, samples, speed)
    keep = max(2, int(round(samples * min(exposure, 1.0))))
    traj, weights = traj[:keep], weights[:keep]
    # centroid on the centre: bilinear splatting preserves the weighted mean exactly
    traj = traj - (traj * weights[:, None]).sum(axis=0) / weights.sum()
    radius = float(np.abs(traj).max())
    half = (size - 1) / 2.0 - 1.0
    if radius > 1e-9:
        traj = traj * (min(extent, 1.0) * half / radius)
    return validate_kernel(_splat(traj, weights, size))


def centre_kernel(kernel: np.ndarray) -> np.ndarray:
    """Shift a PSF by whole pixels so its centroid lies within half a pixel of the middle.

    Why: a blind method cannot know where the sharp image was; a PSF whose centroid is off the
    middle (the Levin et al. 2009 kernels: up to 4.3 pixels) translates the blurred image, and
    a blind restoration then scores against a shifted reference, a penalty no blind method can
    avoid (blind-deblurring benchmarks align before scoring for this reason: Koehler et al. 2012,
    Lai et al. 2016). Non-blind methods given the shifted PSF are unaffected. The kernel is padded
    with zeros as needed; it stays odd-sized and sums to 1.
    """
    k = validate_kernel(kernel)
    h, w = k.shape
    total = float(k.sum())
    dy = int(round(float((k.sum(axis=1) * np.arange(h)).sum()) / total - (h - 1) / 2))
    dx = int(round(float((k.sum(axis=0) * np.arange(w)).sum()) / total - (w - 1) / 2))
    if dy == 0 and dx == 0:
        return k
    pad = max(abs(dy), abs(dx))
    out = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    out[pad - dy:pad - dy + h, pad - dx:pad - dx + w] = k
    return out


def load_kernel(
    path: str | Path, *, key: str | None = None, index: int | None = None, flip: bool = False
) -> np.ndarray:
    """Load a PSF from ``.npy``, an image (``.png``/``.tif``/...) or a MATLAB ``.mat`` file.

    The file is taken to hold a *convolution* PSF (as ``../shared/data/kernels`` does); pass
    ``flip=True`` for a kernel stored for correlation (rotated 180 degrees). For ``.mat`` files
    the one 2-D numeric variable is used; name it with ``key`` when there are several, and pick
    an element of a cell array with ``index`` (0-based). Raises :class:`KernelError` naming the
    file for anything unreadable or not a valid PSF.
    """
    path = Path(path)
    if not path.is_file():
        raise KernelError("kernel file does not exist", path=path, hint="check the path")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            raw = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise KernelError(f"cannot read .npy kernel ({exc})", path=path) from exc
    elif suffix == ".mat":
        raw = _load_mat_kernel(path, key, index)
    elif suffix in KERNEL_EXTENSIONS:
        from ..errors import ImageReadError
        from ..io import read_image, to_float

        try:
            img = to_float(read_image(path))
        except ImageReadError as exc:
            raise KernelError(f"cannot read kernel image ({exc.what})", path=path) from exc
        raw = img.mean(axis=2) if img.ndim == 3 else img
    else:
        raise KernelError("unsupported kernel file type", given=suffix, path=path,
                          allowed=", ".join(KERNEL_EXTENSIONS))
    k = validate_kernel(raw, path=path)
    return np.ascontiguousarray(k[::-1, ::-1]) if flip else k


def _load_mat_kernel(path: Path, key: str | None, index: int | None) -> np.ndarray:
    import scipy.io

    try:
        data = scipy.io.loadmat(path)
    except NotImplementedError as exc:  # MATLAB v7.3 files are HDF5
        raise KernelError("MATLAB v7.3 (HDF5) files are not supported", path=path,
                          hint="re-save with save(..., '-v7') or convert the kernel to .npy") from exc
    except (ValueError, OSError, TypeError) as exc:
        raise KernelError(f"cannot read .mat file ({exc})", path=path) from exc
    names = [n for n in data if not n.startswith("__")]
    if key is not None:
        if key not in data:
            raise KernelError("no such variable in the .mat file", given=key, allowed=", ".join(names), path=path)
        names = [key]
    candidates = []
    for name in names:
        value = data[name]
        if value.dtype == object:
            cells = [np.asarray(c) for c in value.ravel()]
            if index is None and len(cells) == 1:
                cells_idx = 0
            elif index is None:
                raise KernelError(f"variable {name!r} holds {len(cells)} kernels; choose one", path=path,
                                  allowed=f"index 0-{len(cells) - 1}")
            else:
                cells_idx = index
            if not 0 <= cells_idx < len(cells):
                raise KernelError("kernel index out of range", given=index, allowed=f"0-{len(cells) - 1}", path=path)
            candidates.append((name, cells[cells_idx]))
        elif np.issubdtype(value.dtype, np.number) and np.squeeze(value).ndim == 2:
            candidates.append((name, value))
        elif np.issubdtype(value.dtype, np.number) and value.ndim == 3 and index is not None:
            candidates.append((name, value[..., index]))
    if len(candidates) != 1:
        raise KernelError(
            "expected exactly one 2-D kernel in the .mat file" if candidates else "no 2-D kernel in the .mat file",
            given=", ".join(n for n, _ in candidates) or ", ".join(names), path=path,
            hint="name the variable with key=...",
        )
    return candidates[0][1]


def kernel_files(folder: str | Path) -> list[Path]:
    """The kernel files in ``folder`` (sorted), for "random real kernel" specs."""
    folder = Path(folder)
    if not folder.is_dir():
        raise KernelError("kernel folder does not exist", path=folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in KERNEL_EXTENSIONS)
    if not files:
        raise KernelError("no kernel files in the folder", path=folder, allowed=", ".join(KERNEL_EXTENSIONS))
    return files
