"""Clean image sources for training: folders of real photos, random crops, dead leaves, patches.

``PatchSampler`` is what a torch ``Dataset`` wraps: ``sampler[i]`` is a deterministic function
of ``(seed, i)``, so data-loader workers need no shared random state and any patch can be
regenerated for debugging.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, ImageReadError, InvalidInputError
from ..io import list_images, read_image, to_float
from ._pipeline import as_rng, degrade
from ._spec import Degradation

__all__ = ["FolderSource", "random_crop", "dead_leaves", "PatchSampler", "Patch", "to_channels"]


class FolderSource:
    """The photos under one or more folders (jpg/png/tif/bmp..., grey or colour, recursive).

    ``source[i]`` reads image ``i`` as float32 [0, 1] with EXIF orientation applied; a bad file
    raises :class:`ImageReadError` naming it. ``cache=True`` keeps the decoded 8/16-bit pixels in
    memory (the 400 BSDS images take about 185 MB), which matters when the trainer reads the
    same photos every epoch.
    """

    def __init__(self, roots: str | Path | Sequence[str | Path], *, recursive: bool = True, cache: bool = False) -> None:
        roots = [roots] if isinstance(roots, (str, Path)) else list(roots)
        for root in roots:
            if not Path(root).exists():
                raise InvalidInputError("image folder does not exist", path=root, hint="check the path")
        self.paths: list[Path] = list_images(roots, recursive=recursive)
        if not self.paths:
            raise InvalidInputError("no images found", given=", ".join(map(str, roots)),
                                    allowed="a folder with .png/.jpg/.tif/.bmp files")
        self.cache = cache
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        return to_float(self.read_raw(index))

    def read_raw(self, index: int) -> np.ndarray:
        """Image ``index`` as stored (uint8/uint16)."""
        if index in self._cache:
            return self._cache[index]
        pixels = read_image(self.paths[index])
        if self.cache:
            self._cache[index] = pixels
        return pixels

    def __repr__(self) -> str:
        return f"FolderSource({len(self.paths)} images)"


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, (int, np.integer)) else size
    if int(h) < 1 or int(w) < 1:
        raise InvalidInputError("crop size must be positive", given=size)
    return int(h), int(w)


def random_crop(
    image: np.ndarray,
    size: int | tuple[int, int],
    rng: np.random.Generator | int,
    *,
    scales: tuple[float, float] = (0.5, 1.0),
    flips: bool = True,
    rotations: bool = True,
) -> np.ndarray:
    """A random ``size`` crop at a random scale, flipped/rotated by one of the 8 symmetries.

    The scale (output pixels per source pixel, drawn log-uniformly from ``scales``, at most 1)
    picks a region of ``size / scale`` pixels which is shrunk with area averaging: downscaled
    photos are sharper and cleaner targets, and the mix of scales shows the model more structure
    sizes. Never upscales; an image smaller than the crop is an :class:`InvalidInputError`.
    Takes uint8/uint16/float images and returns float32 in [0, 1].
    """
    import cv2

    rng = as_rng(rng)
    h, w = _pair(size)
    lo, hi = scales
    if not (0 < lo <= hi <= 1):
        raise ConfigError("crop scales must satisfy 0 < low <= high <= 1", given=scales)
    k = int(rng.integers(4)) if rotations else 0
    flip = bool(rng.integers(2)) if flips else False
    ch, cw = (w, h) if k % 2 else (h, w)  # crop the transposed shape when rotating by 90
    ih, iw = image.shape[:2]
    need = max(ch / ih, cw / iw)
    if need > 1:
        raise InvalidInputError("image is smaller than the crop", given=f"{ih}x{iw}", allowed=f"at least {ch}x{cw}")
    scale = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    scale = min(1.0, max(scale, need))
    rh, rw = min(ih, int(round(ch / scale))), min(iw, int(round(cw / scale)))
    y = int(rng.integers(ih - rh + 1))
    x = int(rng.integers(iw - rw + 1))
    crop = to_float(np.ascontiguousarray(image[y: y + rh, x: x + rw]))
    if (rh, rw) != (ch, cw):
        crop = cv2.resize(np.ascontiguousarray(crop), (cw, ch), interpolation=cv2.INTER_AREA)
        if image.ndim == 3 and crop.ndim == 2:
            crop = crop[..., None]
    crop = np.rot90(crop, k) if k else crop
    crop = crop[:, ::-1] if flip else crop
    return np.ascontiguousarray(crop)


def dead_leaves(
    size: int | tuple[int, int],
    rng: np.random.Generator | int,
    *,
    alpha: float = 3.0,
    rmin: float = 2.0,
    rmax: float | None = None,
    disks: int | None = None,
) -> np.ndarray:
    """A procedural dead-leaves image: occluding discs with power-law radii, float32 H x W x 3.

    Radii follow p(r) ~ r^-alpha on [rmin, rmax] (alpha = 3 gives the scale invariance of
    natural images), colours are uniform in RGB, edges are anti-aliased. Useful as an unlimited,
    licence-free source of sharp edges at every scale for deblurring.
    """
    import cv2

    rng = as_rng(rng)
    h, w = _pair(size)
    rmax = max(h, w) / 2.0 if rmax is None else float(rmax)
    if not (0 < rmin <= rmax) or alpha <= 1:
        raise ConfigError("dead leaves needs 0 < rmin <= rmax and alpha > 1", given=(rmin, rmax, alpha))
    if disks is None:
        # enough discs to cover the canvas about 5 times over (0.7% left); the rest of the background shows
        # through as one more (large) leaf. E[r^2] for p(r) ~ r^-alpha on [rmin, rmax]:
        mean_r2 = _power_law_moment(2.0, alpha, rmin, rmax)
        disks = int(min(50_000, 5.0 * h * w / (math.pi * mean_r2) + 50))
    n = int(disks)
    u = rng.uniform(size=n)
    a1 = 1.0 - alpha
    radii = (rmin**a1 - u * (rmin**a1 - rmax**a1)) ** (1.0 / a1)
    cy = rng.uniform(-rmax / 4, h + rmax / 4, n)
    cx = rng.uniform(-rmax / 4, w + rmax / 4, n)
    colours = rng.integers(0, 256, size=(n, 3))
    canvas = np.empty((h, w, 3), np.uint8)
    canvas[:] = rng.integers(0, 256, size=3)
    shift = 4  # sub-pixel centres and radii in 1/16 pixel
    centres = (np.stack([cx, cy], axis=1) * (1 << shift)).astype(np.int64).tolist()
    rads = np.maximum(1, (radii * (1 << shift)).astype(np.int64)).tolist()
    for centre, r, colour in zip(centres, rads, colours.tolist(), strict=True):  # back to front: later discs occlude
        cv2.circle(canvas, centre, r, colour, thickness=-1, lineType=cv2.LINE_AA, shift=shift)
    return canvas.astype(np.float32) / 255.0


def _power_law_moment(k: float, alpha: float, rmin: float, rmax: float) -> float:
    """E[r^k] for the density p(r) ~ r^-alpha on [rmin, rmax]."""
    def integral(power: float) -> float:
        e = power + 1.0
        return math.log(rmax / rmin) if abs(e) < 1e-12 else (rmax**e - rmin**e) / e

    return integral(k - alpha) / integral(-alpha)


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Grey -> 3 identical channels, or colour -> luminance (BT.601 weights, as MATLAB's rgb2gray)."""
    if channels == 3:
        if image.ndim == 2:
            return np.repeat(image[..., None], 3, axis=2)
        return image
    if channels == 1:
        if image.ndim == 3:
            return (image @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32)
        return image
    raise ConfigError("channels must be 1 or 3", given=channels)


@dataclass
class Patch:
    """One training example: clean and degraded patches (float32, same shape) and the kernel."""

    clean: np.ndarray
    degraded: np.ndarray
    kernel: np.ndarray
    info: dict[str, object] = field(default_factory=dict)


def _pad_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
    kh, kw = kernel.shape
    if kh > size or kw > size:
        raise ConfigError("a drawn kernel is larger than kernel_size", given=f"{kh}x{kw}",
                          allowed=f"at most {size}x{size}", hint="raise kernel_size or lower the blur size")
    ph, pw = (size - kh) // 2, (size - kw) // 2
    return np.pad(kernel, ((ph, size - kh - ph), (pw, size - kw - pw)))


class PatchSampler:
    """Seeded (clean, degraded, kernel) patches from photo folders and/or dead leaves.

    ``sampler[i]`` depends only on ``(seed, i)``. ``dead_leaves`` is the fraction of patches
    drawn from the dead-leaves generator instead of the photos. ``kernel_size`` pads every
    kernel (centred) to one size so patches batch together. Unreadable photos are skipped and
    listed in ``bad_files``; ``length`` is what ``len()`` reports (epoch size for a Dataset).
    """

    def __init__(
        self,
        sources: FolderSource | str | Path | Sequence[FolderSource | str | Path] | None,
        degradation: Degradation,
        patch_size: int | tuple[int, int] = 128,
        *,
        seed: int = 0,
        scales: tuple[float, float] = (0.5, 1.0),
        flips: bool = True,
        rotations: bool = True,
        channels: int = 3,
        dead_leaves: float = 0.0,
        kernel_size: int | None = None,
        length: int = 10_000,
    ) -> None:
        if not isinstance(degradation, Degradation):
            raise ConfigError("degradation must be a Degradation", given=type(degradation).__name__)
        items = [] if sources is None else ([sources] if isinstance(sources, (str, Path, FolderSource)) else list(sources))
        self.sources = [s if isinstance(s, FolderSource) else FolderSource(s) for s in items]
        if not self.sources and dead_leaves < 1.0:
            raise ConfigError("no image sources given", hint="pass photo folders, or dead_leaves=1.0")
        if not 0.0 <= dead_leaves <= 1.0:
            raise ConfigError("dead_leaves is a fraction", given=dead_leaves, allowed="0 to 1")
        if channels not in (1, 3):
            raise ConfigError("channels must be 1 or 3", given=channels)
        self.degradation = degradation
        self.patch_size = _pair(patch_size)
        self.seed = int(seed)
        self.scales, self.flips, self.rotations = scales, flips, rotations
        self.channels = channels
        self.dead_leaves = float(dead_leaves)
        self.kernel_size = kernel_size
        self.length = int(length)
        self._sizes = [len(s) for s in self.sources]
        self.bad_files: dict[Path, str] = {}

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[Patch]:
        for i in range(self.length):
            yield self[i]

    def __getitem__(self, index: int) -> Patch:
        rng = np.random.default_rng([self.seed, int(index)])
        clean = self._clean(rng)
        result = degrade(clean, self.degradation, rng)
        kernel = _pad_kernel(result.kernel, self.kernel_size) if self.kernel_size else result.kernel
        return Patch(clean=result.clean, degraded=result.degraded, kernel=kernel, info=result.info)

    def _clean(self, rng: np.random.Generator) -> np.ndarray:
        if self.dead_leaves > 0 and rng.uniform() < self.dead_leaves:
            return to_channels(dead_leaves(self.patch_size, rng), self.channels)
        total = sum(self._sizes)
        for _ in range(20):
            j = int(rng.integers(total))
            src = 0
            while j >= self._sizes[src]:
                j -= self._sizes[src]
                src += 1
            path = self.sources[src].paths[j]
            if path in self.bad_files:
                continue
            try:
                image = self.sources[src].read_raw(j)
                crop = random_crop(image, self.patch_size, rng, scales=self.scales, flips=self.flips,
                                   rotations=self.rotations)
            except (ImageReadError, InvalidInputError) as exc:
                self.bad_files[path] = str(exc)
                continue
            return to_channels(crop, self.channels)
        raise InvalidInputError("could not read a usable image in 20 tries", given=f"{len(self.bad_files)} bad files",
                                hint="see PatchSampler.bad_files; images must be at least the patch size")
