"""Apply a :class:`Degradation` to an image: draw the kernel and noise, run the camera order.

Camera order (``linear=True``): sRGB -> linear light -> blur -> sensor noise -> clip -> sRGB
gamma -> 8-bit quantisation -> optional JPEG. Blurring in linear light matters: a blurred bright
edge next to a dark one looks different from one blurred in gamma space, and models trained on
gamma-space blur see the wrong halos on real photos.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._arrays import check_image
from ..errors import ConfigError, KernelError
from ._kernels import (
    camera_shake_kernel,
    defocus_kernel,
    gaussian_kernel,
    kernel_files,
    linear_motion_kernel,
    load_kernel,
    validate_kernel,
)
from ._ops import (
    add_gaussian_noise,
    add_poisson_gaussian_noise,
    blur_image,
    jpeg_compress,
    linear_to_srgb,
    quantize,
    srgb_to_linear,
)
from ._spec import KERNEL_SETS, BlurSpec, Degradation, NoiseSpec, Value

__all__ = ["DegradeResult", "degrade", "sample_kernel", "kernel_set_dir", "as_rng"]

DELTA = np.ones((1, 1), np.float32)
DELTA.setflags(write=False)


@dataclass
class DegradeResult:
    """What ``degrade`` returns: the degraded image, the kernel used (1x1 delta when no blur),
    the clean image (float32, as given), and ``info`` with the values drawn for this image
    (``blur``/``noise`` as concrete spec strings, ``sigma`` on the 0-255 scale when Gaussian,
    ``domain``: ``linear`` when blur and noise ran in linear light, else ``srgb``). A linear-light
    sigma is not the noise level of the saved file: the gamma curve amplifies it in the shadows."""

    degraded: np.ndarray
    kernel: np.ndarray
    clean: np.ndarray
    info: dict[str, object] = field(default_factory=dict)

    @property
    def sigma(self) -> float | None:
        """The Gaussian noise sigma (0-255 scale) applied, or None."""
        value = self.info.get("sigma")
        return None if value is None else float(value)  # type: ignore[arg-type]


def as_rng(seed_or_rng: object) -> np.random.Generator | np.random.RandomState:
    """An int, a sequence of ints or a Generator -> Generator (a RandomState passes through)."""
    if isinstance(seed_or_rng, (np.random.Generator, np.random.RandomState)):
        return seed_or_rng
    try:
        return np.random.default_rng(seed_or_rng)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError("seed must be a non-negative int, a list of them, or a numpy Generator",
                          given=repr(seed_or_rng)) from exc


def kernel_set_dir(name: str) -> Path:
    """The folder of a named real-kernel set (``levin``, ``usrnet``, ``usrnet-large``).

    Looked up under ``$EDGEDEBLUR_DATA``, then ``../shared/data`` beside the checkout, then
    ``../shared/data`` from the working directory.
    """
    rel = KERNEL_SETS[name]
    roots = []
    if os.environ.get("EDGEDEBLUR_DATA"):
        roots.append(Path(os.environ["EDGEDEBLUR_DATA"]))
    roots.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    roots.append(Path.cwd().parent / "shared" / "data")
    for root in roots:
        if (root / rel).is_dir():
            return root / rel
    raise ConfigError(f"kernel set {name!r} not found", given=", ".join(str(r / rel) for r in roots),
                      hint="set EDGEDEBLUR_DATA to the shared data folder, or use --blur file:/path/to/kernels")


@functools.lru_cache(maxsize=512)
def _cached_kernel(path: str, mtime: float) -> np.ndarray:
    k = load_kernel(path)
    k.setflags(write=False)
    return k


def _load_cached(path: Path) -> np.ndarray:
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise KernelError("kernel file does not exist", path=path) from exc
    return _cached_kernel(str(path), mtime)


@functools.lru_cache(maxsize=64)
def _folder_files(folder: str) -> tuple[Path, ...]:
    return tuple(kernel_files(folder))


def _draw(value: Value | None, rng: np.random.Generator, integer: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        lo, hi = value
        if integer:
            return float(rng.integers(int(round(lo)), int(round(hi)) + 1))
        return float(rng.uniform(lo, hi))
    return float(value)


def _odd_int(value: float | None) -> int | None:
    if value is None:
        return None
    n = int(round(value))
    return n if n % 2 else n + 1


def sample_kernel(spec: BlurSpec, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Draw one kernel for a blur alternative; returns it and a concrete spec string."""
    kind = spec.kind
    if kind == "none":
        return DELTA.copy(), "none"
    if kind in ("file", *KERNEL_SETS):
        target = Path(spec.path) if kind == "file" else kernel_set_dir(kind)  # type: ignore[arg-type]
        if not target.is_dir():
            return _load_cached(target).copy(), f"file:{target}"
        files = _folder_files(str(target))
        index = spec.get("index")
        i = int(_draw(index, rng, integer=True)) - 1 if index is not None else int(rng.integers(len(files)))  # type: ignore[arg-type]
        if not 0 <= i < len(files):
            raise ConfigError(f"kernel index out of range for {target}", given=i + 1, allowed=f"1-{len(files)}")
        return _load_cached(files[i]).copy(), f"file:{files[i]}"
    drawn: dict[str, float] = {}
    for key, _ in _spec_keys(spec):
        value = _draw(spec.get(key), rng, integer=key == "size")
        if value is not None:
            drawn[key] = value
    if kind == "shake":
        size = _odd_int(drawn.pop("size"))
        sub = np.random.default_rng(rng.integers(2**63))
        k = camera_shake_kernel(size, sub, **drawn)  # type: ignore[arg-type]
        drawn["size"] = float(size)  # type: ignore[assignment]
    elif kind == "motion":
        k = linear_motion_kernel(drawn["length"], drawn["angle"], size=_odd_int(drawn.get("size")))
    elif kind == "defocus":
        k = defocus_kernel(drawn["radius"], size=_odd_int(drawn.get("size")))
    elif kind == "gaussian":
        k = gaussian_kernel(drawn.get("sigma"), sx=drawn.get("sx"), sy=drawn.get("sy"),
                            theta=drawn.get("theta", 0.0), size=_odd_int(drawn.get("size")))
    else:  # pragma: no cover - the parser only lets known kinds through
        raise ConfigError("unknown blur kind", given=kind)
    concrete = kind + ":" + ",".join(f"{key}={val:.4g}" for key, val in drawn.items()) if drawn else kind
    return k, concrete


def _spec_keys(spec: BlurSpec) -> list[tuple[str, object]]:
    from ._spec import _BLUR_PARAMS

    return list(_BLUR_PARAMS[spec.kind].items())


def _apply_noise(x: np.ndarray, spec: NoiseSpec, rng) -> tuple[np.ndarray, str, float | None]:  # noqa: ANN001
    if spec.kind == "none":
        return x, "none", None
    if spec.kind == "gaussian":
        sigma = _draw(spec.get("sigma"), rng)
        return add_gaussian_noise(x, sigma, rng), f"gaussian:sigma={sigma:.4g}", sigma  # type: ignore[arg-type]
    if spec.kind == "poisson-gaussian":
        gain, read = _draw(spec.get("gain"), rng), _draw(spec.get("read"), rng)
        y = add_poisson_gaussian_noise(x, gain, read, rng)  # type: ignore[arg-type]
        return y, f"poisson-gaussian:gain={gain:.4g},read={read:.4g}", None
    raise ConfigError("unknown noise kind", given=spec.kind)  # pragma: no cover


def _choose(parts: tuple, rng) -> object | None:  # noqa: ANN001
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    w = np.array([p.weight for p in parts], np.float64)
    return parts[int(rng.choice(len(parts), p=w / w.sum()))]


def degrade(
    image: np.ndarray,
    spec: Degradation,
    seed_or_rng: int | np.random.Generator | np.random.RandomState | list[int],
    *,
    kernel: np.ndarray | None = None,
) -> DegradeResult:
    """Degrade a float32 [0, 1] H x W or H x W x 3 image by ``spec``, reproducibly.

    ``seed_or_rng``: an int (or list of ints, e.g. ``[seed, index]``) or a numpy Generator;
    the same image, spec and seed give identical bytes. A legacy ``RandomState`` replays the
    papers' noise for :func:`paper_awgn`. ``kernel`` overrides the spec's blur with a fixed PSF.
    """
    if not isinstance(spec, Degradation):
        raise ConfigError("spec must be a Degradation", given=type(spec).__name__,
                          hint="build one with parse_degradation(blur=..., noise=...) or paper_awgn(sigma)")
    clean = check_image(image, channels="any", min_side=1)
    rng = as_rng(seed_or_rng)
    legacy = isinstance(rng, np.random.RandomState)
    if legacy and (spec.blur or kernel is not None or any(n.kind != "gaussian" for n in spec.noise) or spec.jpeg):
        raise ConfigError("a RandomState only replays Gaussian noise without blur (paper protocol)",
                          hint="pass an int seed or np.random.default_rng(seed) instead")
    info: dict[str, object] = {"domain": "linear" if spec.linear else "srgb"}
    if kernel is not None:
        k = validate_kernel(kernel)
        info["blur"] = "given"
    else:
        blur = _choose(spec.blur, rng)
        k, info["blur"] = sample_kernel(blur, rng) if blur is not None else (DELTA.copy(), "none")  # type: ignore[arg-type]
    x = srgb_to_linear(clean) if spec.linear else clean
    if k.size > 1:
        x = blur_image(x, k, border=spec.border)
    noise = _choose(spec.noise, rng)
    x, info["noise"], info["sigma"] = _apply_noise(x, noise, rng) if noise is not None else (x, "none", None)
    if spec.clip:
        x = np.clip(x, 0.0, 1.0)
    if spec.linear:
        x = linear_to_srgb(x)
    if spec.quantize or spec.jpeg:
        x = quantize(x)
    if spec.jpeg:
        q = spec.jpeg if isinstance(spec.jpeg, int) else int(rng.integers(spec.jpeg[0], spec.jpeg[1] + 1))
        x = jpeg_compress(x, q)
        info["jpeg"] = q
    return DegradeResult(degraded=np.ascontiguousarray(x, dtype=np.float32), kernel=k, clean=clean, info=info)
