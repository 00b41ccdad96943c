"""The seeded calibration source: real photos, cropped and degraded like the training data.

One source serves both uses an export has for data: calibrating activation ranges (``calib``
patches) and measuring parity on held-out patches (``heldout``, from images disjoint from the
calibration ones). Everything is seeded, so two exports with the same options see the same
patches. There is no silent default dataset: the folder comes from ``--calib-dir``,
``$EDGEDEBLUR_CALIB_DIR``, ``$EDGEDEBLUR_DATA/train`` or ``../shared/data/train`` beside the
working directory (the project's checkout layout), in that order, and a missing folder, too few
images or unreadable images is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, EdgeDeblurError, ImageReadError, InvalidInputError
from ..io import list_images, read_image, to_float
from ._degrade import DEFAULT_DEGRADATIONS, Degrader, default_degrader, recipe_degrader

ENV_DIR = "EDGEDEBLUR_CALIB_DIR"
ENV_DATA = "EDGEDEBLUR_DATA"
MIN_IMAGES = 8
CALIB_METHODS = ("minmax", "percentile", "entropy")


def default_calibration_dir() -> Path | None:
    """The calibration folder when the user named none (env vars, then the checkout layout)."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    if os.environ.get(ENV_DATA):
        return Path(os.environ[ENV_DATA]) / "train"
    beside = Path.cwd().parent / "shared" / "data" / "train"
    return beside if beside.is_dir() else None


@dataclass
class Patch:
    """A degraded input and its clean target, HxWx3 float32 in [0, 1], and where it came from."""

    degraded: np.ndarray
    clean: np.ndarray
    source: Path


@dataclass
class CalibrationSource:
    """Seeded patches at the export shape for calibration and held-out parity.

    Parameters
    ----------
    root: folder of photos (searched recursively); ``None`` uses :func:`default_calibration_dir`.
    images: number of calibration patches (one random crop per image).
    heldout: number of held-out parity patches, from other images.
    patch: square patch size (the export tile size).
    task: the model's task, choosing the default degradation.
    recipe: a zoo model name whose training recipe supplies the degradation; None (or a model
        without a recipe) uses the task default.
    seed: seeds file order, crops and degradation.
    """

    root: Path | str | None = None
    images: int = 64
    heldout: int = 8
    patch: int = 256
    task: str = "denoise"
    recipe: str | None = None
    seed: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.images < MIN_IMAGES:
            raise InvalidInputError("too few calibration images requested", given=self.images,
                                    allowed=f">= {MIN_IMAGES}", hint="use --calib-images 64 (the default)")
        if self.patch < 16:
            raise InvalidInputError("calibration patch too small", given=self.patch, allowed=">= 16")
        root = self.root if self.root is not None else default_calibration_dir()
        if root is None:
            raise ConfigError(
                "no calibration images folder", allowed="a folder of photos",
                hint=f"pass --calib-dir DIR or set ${ENV_DIR} (or ${ENV_DATA} with a train/ folder)")
        self.root = Path(root)
        if not self.root.is_dir():
            raise ConfigError("calibration folder does not exist", path=self.root,
                              hint="pass --calib-dir with a folder of photos")
        self._degrader, self.degradation_used = self._make_degrader()
        self._calib: list[Patch] | None = None
        self._heldout: list[Patch] | None = None

    def _make_degrader(self) -> tuple[Degrader, str]:
        if self.recipe:
            found = recipe_degrader(self.recipe)
            if found is not None:
                return found
        return default_degrader(self.task), f"default for {self.task}: {DEFAULT_DEGRADATIONS[self.task]}"

    def describe(self) -> dict:
        """What the manifest records under ``export.quantization.calibration``."""
        return {"source": str(self.root), "images": self.images, "heldout": self.heldout,
                "patch": self.patch, "seed": self.seed, "degradation": self.degradation_used,
                "skipped": [f"{p.name}: {why}" for p, why in self.skipped]}

    def _load(self) -> None:
        files = list_images([self.root])
        need = self.images + self.heldout
        if len(files) < need:
            raise InvalidInputError(
                "too few calibration images", path=self.root, given=f"{len(files)} image files",
                allowed=f">= {need} ({self.images} calibration + {self.heldout} held-out)",
                hint=f"add photos or lower --calib-images (at least {MIN_IMAGES})")
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(files))
        patches: list[Patch] = []
        for i in order:
            if len(patches) == need:
                break
            path = files[i]
            try:
                patches.append(self._patch_from(path, rng))
            except EdgeDeblurError as exc:
                self.skipped.append((path, exc.what))
        if len(patches) < need:
            reasons = "; ".join(f"{p.name}: {why}" for p, why in self.skipped[:5])
            raise ImageReadError(
                "too few usable calibration images", path=self.root,
                given=f"{len(patches)} usable of {len(files)} ({len(self.skipped)} skipped: {reasons})",
                allowed=f">= {need} images of at least {self.patch}x{self.patch} px",
                hint="add photos, use a smaller --tile, or lower --calib-images")
        self._calib, self._heldout = patches[: self.images], patches[self.images:]

    def _patch_from(self, path: Path, rng: np.random.Generator) -> Patch:
        img = to_float(read_image(path)).astype(np.float32)
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        h, w = img.shape[:2]
        if h < self.patch or w < self.patch:
            raise ImageReadError("image smaller than the patch", path=path, given=f"{w}x{h}")
        y = int(rng.integers(0, h - self.patch + 1))
        x = int(rng.integers(0, w - self.patch + 1))
        clean = np.ascontiguousarray(img[y:y + self.patch, x:x + self.patch])
        return Patch(self._degrader(clean, rng), clean, path)

    @property
    def calib(self) -> list[Patch]:
        """Calibration patches (loaded on first use)."""
        if self._calib is None:
            self._load()
        return self._calib  # type: ignore[return-value]

    @property
    def heldout_patches(self) -> list[Patch]:
        """Held-out parity patches, from images not used for calibration."""
        if self._heldout is None:
            self._load()
        return self._heldout  # type: ignore[return-value]

    def calib_batches(self, layout: str = "NCHW") -> list[np.ndarray]:
        """Calibration inputs as 1x3xPxP (or 1xPxPx3) float32 arrays."""
        return [to_batch(p.degraded, layout) for p in self.calib]


def to_batch(img: np.ndarray, layout: str = "NCHW") -> np.ndarray:
    """HxWx3 -> a contiguous float32 batch of one in ``layout``."""
    x = img[None] if layout == "NHWC" else img.transpose(2, 0, 1)[None]
    return np.ascontiguousarray(x, dtype=np.float32)


def check_method(method: str, allowed: tuple[str, ...], target: str) -> str:
    """Reject a calibration method the target's toolchain does not implement."""
    if method not in CALIB_METHODS:
        from ..errors import UnknownNameError

        raise UnknownNameError("calibration method", method, CALIB_METHODS)
    if method not in allowed:
        raise ConfigError(f"{target} cannot calibrate with this method", given=method,
                          allowed=", ".join(allowed), hint=f"use --calib-method {allowed[0]}")
    return method
