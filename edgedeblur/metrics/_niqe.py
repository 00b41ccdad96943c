"""NIQE, the Natural Image Quality Evaluator (Mittal, Soundararajan, Bovik 2013), from the paper.

Why a no-reference metric: real blurry photos have no clean partner, so PSNR cannot rank methods
on them. NIQE measures how far an image's local statistics are from those of natural, sharp,
clean photos; lower is better. It knows nothing about any distortion in particular.

The recipe (paper, section III):

1. luminance on the 0-255 scale; MSCN coefficients ``(I - mu) / (sigma + 1)`` with a 7x7
   Gaussian window (sigma 7/6) giving the local mean ``mu`` and deviation ``sigma``;
2. per 96x96 patch: a generalised Gaussian fit of the MSCN values (shape, variance) and an
   asymmetric generalised Gaussian fit of the four neighbour products (horizontal, vertical,
   two diagonals: shape, mean, left and right variances) - 18 numbers;
3. the same at half resolution (bicubic, antialiased; 48x48 patches): 36 features per patch;
4. model: a multivariate Gaussian (mean, covariance) of the features of the *sharp* patches
   (local-deviation sum above 0.75 of the image's sharpest patch) of clean training photos.
   This project's model is fitted by ``benchmarks/fit_niqe.py`` on BSD400 (the training split,
   never the evaluation sets) and stored in ``niqe_model.npz`` beside this file;
5. score: fit a Gaussian to *all* patches of the image under test and return
   ``sqrt((m1 - m2)^T ((S1 + S2) / 2)^+ (m1 - m2))``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ArtifactError, InvalidInputError
from ._fidelity import to_protocol_scale

__all__ = ["niqe", "NiqeModel", "load_niqe_model", "niqe_patch_features", "fit_niqe_model", "mscn",
           "MODEL_PATH", "PATCH_SIZE"]

MODEL_PATH = Path(__file__).with_name("niqe_model.npz")
PATCH_SIZE = 96
SHARPNESS_FRACTION = 0.75
_N_FEATURES = 36
_ALPHAS = np.arange(0.2, 10.0005, 0.001)


@dataclass(frozen=True)
class NiqeModel:
    """The pristine model: mean and covariance of the 36 patch features, and its provenance."""

    mean: np.ndarray
    cov: np.ndarray
    n_images: int = 0
    n_patches: int = 0
    source: str = ""

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        np.savez(path, mean=self.mean, cov=self.cov, n_images=self.n_images,
                 n_patches=self.n_patches, source=np.array(self.source),
                 patch_size=PATCH_SIZE, sharpness_fraction=SHARPNESS_FRACTION)
        return path


@functools.lru_cache(maxsize=4)
def load_niqe_model(path: str | Path = MODEL_PATH) -> NiqeModel:
    """Load a model saved by :meth:`NiqeModel.save` (the packaged one by default)."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError("NIQE model file is missing", path=path,
                            hint="re-create it with: python benchmarks/fit_niqe.py")
    try:
        with np.load(path, allow_pickle=False) as data:
            model = NiqeModel(mean=data["mean"].astype(np.float64), cov=data["cov"].astype(np.float64),
                              n_images=int(data["n_images"]), n_patches=int(data["n_patches"]),
                              source=str(data["source"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ArtifactError(f"NIQE model file is unreadable ({exc})", path=path) from exc
    if model.mean.shape != (_N_FEATURES,) or model.cov.shape != (_N_FEATURES, _N_FEATURES):
        raise ArtifactError("NIQE model has the wrong shape", path=path,
                            given=f"mean {model.mean.shape}, cov {model.cov.shape}")
    return model


# --------------------------------------------------------------------------- statistics


@functools.lru_cache(maxsize=1)
def _ratio_tables() -> tuple[np.ndarray, np.ndarray]:
    """rho(a) = G(1/a)G(3/a)/G(2/a)^2 (GGD) and its inverse r(a) (AGGD) on the alpha grid."""
    from scipy.special import gammaln

    a = _ALPHAS
    log_rho = gammaln(1 / a) + gammaln(3 / a) - 2 * gammaln(2 / a)
    return np.exp(log_rho), np.exp(-log_rho)


def _ggd_fit(x: np.ndarray) -> tuple[float, float]:
    """Moment-matching GGD fit: (shape alpha, variance)."""
    rho_table, _ = _ratio_tables()
    var = float(np.mean(x * x))
    mean_abs = float(np.mean(np.abs(x)))
    if mean_abs == 0.0:
        return float(_ALPHAS[-1]), 0.0
    rho = var / mean_abs**2
    return float(_ALPHAS[np.argmin(np.abs(rho - rho_table))]), var


def _aggd_fit(x: np.ndarray) -> tuple[float, float, float, float]:
    """AGGD fit (Lasmar et al.): (shape, mean parameter, left variance, right variance)."""
    from scipy.special import gamma

    _, r_table = _ratio_tables()
    left, right = x[x < 0], x[x > 0]
    left_std = float(np.sqrt(np.mean(left * left))) if left.size else 0.0
    right_std = float(np.sqrt(np.mean(right * right))) if right.size else 0.0
    mean_sq = float(np.mean(x * x))
    if left_std == 0.0 or right_std == 0.0 or mean_sq == 0.0:
        return float(_ALPHAS[-1]), 0.0, left_std**2, right_std**2
    g = left_std / right_std
    r_hat = float(np.mean(np.abs(x))) ** 2 / mean_sq
    r_norm = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = float(_ALPHAS[np.argmin((r_table - r_norm) ** 2)])
    scale = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    mean_param = (right_std - left_std) * gamma(2 / alpha) / gamma(1 / alpha) * scale
    return alpha, float(mean_param), left_std**2, right_std**2


def _gaussian_taps() -> np.ndarray:
    x = np.arange(-3, 4, dtype=np.float64)
    taps = np.exp(-(x**2) / (2 * (7 / 6) ** 2))
    return taps / taps.sum()


def _blur(image: np.ndarray) -> np.ndarray:
    from scipy.ndimage import correlate1d

    taps = _gaussian_taps()
    return correlate1d(correlate1d(image, taps, axis=0, mode="nearest"), taps, axis=1, mode="nearest")


def mscn(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean-subtracted contrast-normalised coefficients and the local deviation map."""
    mu = _blur(image)
    sigma = np.sqrt(np.abs(_blur(image * image) - mu * mu))
    return (image - mu) / (sigma + 1.0), sigma


def _patch_features(coeffs: np.ndarray) -> list[float]:
    """The 18 features of one patch of MSCN coefficients."""
    feats = list(_ggd_fit(coeffs.ravel()))
    products = (
        coeffs[:, :-1] * coeffs[:, 1:],      # horizontal neighbour
        coeffs[:-1, :] * coeffs[1:, :],      # vertical
        coeffs[:-1, :-1] * coeffs[1:, 1:],   # main diagonal
        coeffs[1:, :-1] * coeffs[:-1, 1:],   # anti-diagonal
    )
    for p in products:
        feats.extend(_aggd_fit(p.ravel()))
    return feats


def _half(image: np.ndarray) -> np.ndarray:
    """Half-size bicubic resize with antialiasing (as MATLAB ``imresize(I, 0.5)``)."""
    from PIL import Image

    h, w = image.shape
    resized = Image.fromarray(image.astype(np.float32), mode="F").resize((w // 2, h // 2),
                                                                         Image.Resampling.BICUBIC)
    return np.asarray(resized, dtype=np.float64)


def _luminance(image: np.ndarray) -> np.ndarray:
    """Grey level on the 0-255 scale (ITU-R 601 weights, as MATLAB ``rgb2gray``)."""
    img = to_protocol_scale(image, quantize=False)
    if img.ndim == 3 and img.shape[2] == 3:
        img = img @ np.array([0.298936, 0.587043, 0.114021])
    elif img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim != 2:
        raise InvalidInputError("NIQE needs an H x W or H x W x 3 image", given=image.shape)
    return img


def niqe_patch_features(image: np.ndarray, patch_size: int = PATCH_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(features, sharpness) of every whole ``patch_size`` patch: shapes (N, 36) and (N,)."""
    lum = _luminance(image)
    rows, cols = lum.shape[0] // patch_size, lum.shape[1] // patch_size
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise InvalidInputError(
            "image too small for NIQE", given=lum.shape,
            allowed=f"at least two {patch_size}x{patch_size} patches (e.g. {patch_size}x{2 * patch_size})",
        )
    lum = lum[: rows * patch_size, : cols * patch_size]
    scales = [(lum, patch_size), (_half(lum), patch_size // 2)]
    per_scale = []
    sharpness = None
    for img, size in scales:
        coeffs, sigma = mscn(img)
        feats = []
        sharp = []
        for r in range(rows):
            for c in range(cols):
                window = (slice(r * size, (r + 1) * size), slice(c * size, (c + 1) * size))
                feats.append(_patch_features(coeffs[window]))
                sharp.append(float(np.sum(sigma[window])))
        per_scale.append(np.array(feats))
        if sharpness is None:
            sharpness = np.array(sharp)
    return np.concatenate(per_scale, axis=1), sharpness  # type: ignore[return-value]


def fit_niqe_model(images: Iterable[np.ndarray], source: str = "") -> NiqeModel:
    """Fit the pristine model on clean photos, keeping each image's sharpest patches."""
    selected = []
    for image in images:
        feats, sharpness = niqe_patch_features(image)
        selected.append(feats[sharpness > SHARPNESS_FRACTION * sharpness.max()])
    all_feats = np.concatenate(selected, axis=0)
    return NiqeModel(mean=all_feats.mean(axis=0), cov=np.cov(all_feats, rowvar=False),
                     n_images=len(selected), n_patches=len(all_feats), source=source)


def niqe(image: np.ndarray, model: NiqeModel | None = None) -> float:
    """NIQE score of one image (uint8/uint16, or float in [0, 1]); lower is more natural.

    Needs at least two 96x96 patches. ``model`` defaults to the packaged BSD400 model.
    """
    model = model or load_niqe_model()
    feats, _ = niqe_patch_features(image)
    mean = feats.mean(axis=0)
    cov = np.cov(feats, rowvar=False)
    diff = model.mean - mean
    pooled = (model.cov + cov) / 2.0
    return float(np.sqrt(diff @ np.linalg.pinv(pooled) @ diff))
