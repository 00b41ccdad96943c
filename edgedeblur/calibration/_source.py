"""The seeded calibration source: real photos, cropped and degraded like the training data.

One source serves both uses an export has for data: calibrating activation ranges (``calib``
patches) and measuring parity on held-out patches (``heldout``, from images disjoint from the
calibration ones). Everything is seeded, so two exports with the same options see the same
patches. There is no silent default dataset: the folder comes from ``--calib-dir``,
``$EDGEDEBLUR_CALIB_DIR``, ``$EDGEDEBLUR_DATA/train`` or ``../shared/data/train`` beside the
working directory (the project's checkout layout), in that order, and a missing folder, too few
images or unreadable images is an error.

For a deblur pipeline prior (task ``prior``) a patch's ``degraded`` is the 4-channel input the
pipeline gives the prior (the Wiener data step of a blurred, noisy crop and the noise-level map,
see :func:`~edgedeblur.calibration._degrade.prior_degrader`); the patch also keeps the observed
photo crop, the kernel and the sigma, so parity can run the prior (or the whole pipeline) on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, EdgeDeblurError, ImageReadError, InvalidInputError
from ..io import list_images, read_image, to_float
from ._degrade import (
    PRIOR_MARGIN,
    Degrader,
    default_degrader,
    describe_default,
    prior_degrader,
    recipe_degrader,
)

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
    """A model input and its clean target (float32 in [0, 1]) and where it came from.

    ``degraded`` is H x W x 3, or H x W x 4 for a deblur prior (RGB data-step output + noise
    map); then ``observed`` is the blurred, noisy crop, ``kernel`` its PSF and ``sigma`` the
    noise level (0-255 scale) given to the data step and the map.
    """

    degraded: np.ndarray
    clean: np.ndarray
    source: Path
    observed: np.ndarray | None = None
    kernel: np.ndarray | None = None
    sigma: float | None = None


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
        without a recipe) uses the task default. Not used for task ``prior``, whose inputs are
        always the pipeline's data step (:func:`prior_degrader`).
    seed: seeds file order, crops and degradation.
    prior_scale: the Wiener regularisation of a prior's data step; None is
        ``PipelineConfig().prior_scale`` (what ``edge-export deblur`` writes in the manifest).
    """

    root: Path | str | None = None
    images: int = 64
    heldout: int = 8
    patch: int = 256
    task: str = "denoise"
    recipe: str | None = None
    seed: int = 0
    prior_scale: float | None = None
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

    @property
    def is_prior(self) -> bool:
        """True for a deblur pipeline prior: patches are 4-channel data-step inputs."""
        return self.task == "prior"

    @property
    def channels(self) -> int:
        """Channels of ``degraded`` (the model input): 4 for a prior, else 3."""
        return 4 if self.is_prior else 3

    def _make_degrader(self) -> tuple[Degrader, str]:
        if self.is_prior:
            from ..runtime.pipeline import PipelineConfig

            scale = PipelineConfig().prior_scale if self.prior_scale is None else float(self.prior_scale)
            self.prior_scale = scale
            return prior_degrader(scale), f"deblur pipeline prior: {describe_default('prior', scale)}"  # type: ignore[return-value]
        if self.recipe:
            found = recipe_degrader(self.recipe)
            if found is not None:
                return found
        return default_degrader(self.task), f"default for {self.task}: {describe_default(self.task)}"

    def describe(self) -> dict:
        """What the manifest records under ``export.quantization.calibration``."""
        d = {"source": str(self.root), "images": self.images, "heldout": self.heldout,
             "patch": self.patch, "seed": self.seed, "degradation": self.degradation_used,
             "skipped": [f"{p.name}: {why}" for p, why in self.skipped]}
        if self.is_prior:
            d["inputs"] = {"kind": "deblur pipeline prior", "channels": 4, "prior_scale": self.prior_scale,
                           "margin": PRIOR_MARGIN}
        return d

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
        if self.is_prior:
            return self._prior_patch_from(img, path, rng)
        y = int(rng.integers(0, h - self.patch + 1))
        x = int(rng.integers(0, w - self.patch + 1))
        clean = np.ascontiguousarray(img[y:y + self.patch, x:x + self.patch])
        return Patch(self._degrader(clean, rng), clean, path)

    def _prior_patch_from(self, img: np.ndarray, path: Path, rng: np.random.Generator) -> Patch:
        """A larger crop is blurred, noised and deconvolved (as a whole photo is), then its centre
        (the patch) is kept: the margin is what the image allows, at most ``PRIOR_MARGIN``."""
        h, w = img.shape[:2]
        m = min(PRIOR_MARGIN, (min(h, w) - self.patch) // 2)
        size = self.patch + 2 * m
        y = int(rng.integers(0, h - size + 1))
        x = int(rng.integers(0, w - size + 1))
        big = np.ascontiguousarray(img[y:y + size, x:x + size])
        sample = self._degrader(big, rng)
        inner = (slice(m, m + self.patch), slice(m, m + self.patch))
        return Patch(np.ascontiguousarray(sample.input[inner]), np.ascontiguousarray(big[inner]), path,  # type: ignore[attr-defined]
                     observed=np.ascontiguousarray(sample.observed[inner]), kernel=sample.kernel,  # type: ignore[attr-defined]
                     sigma=sample.sigma)  # type: ignore[attr-defined]

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
        """Calibration inputs as 1xCxPxP (or 1xPxPxC) float32 arrays (C: :attr:`channels`)."""
        return [to_batch(p.degraded, layout) for p in self.calib]


def to_batch(img: np.ndarray, layout: str = "NCHW") -> np.ndarray:
    """HxWxC -> a contiguous float32 batch of one in ``layout``."""
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
