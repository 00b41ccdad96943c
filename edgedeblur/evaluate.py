"""Evaluate a restoration method on a folder of images: PSNR, SSIM and speed, reproducibly.

Two modes share one result type:

* **synthetic** (:func:`evaluate`): clean images are degraded with a spec from
  ``edgedeblur.degrade`` (blur, noise, JPEG), the method restores them, and the result is scored
  against the clean image with the published protocol (``edgedeblur.metrics``). The noise of
  image *i* is drawn from a seed derived from ``(seed, i, kernel index)``, so a run is
  reproducible and ``--limit`` or a re-ordering never changes an image's noise.
  With ``kernels`` (e.g. the 8 Levin kernels) every image is blurred with every kernel
  (``kernel_mode="each"``, the deblurring-benchmark convention) or image *i* with kernel
  *i mod K* (``"cycle"``, K times cheaper).
* **paired** (:func:`evaluate_paired`): real degraded photos matched to clean ones by file stem.

Non-blind methods (``needs_kernel``) receive the true kernel, methods with ``needs_sigma`` the
true noise level on the 0-255 scale. A file that cannot be read or restored is recorded as a
failure and the others are still evaluated. Time is the ``restore`` call alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ._eval_result import EvalFailure, EvalResult, ImageScore, machine_description
from .errors import EdgeDeblurError, InvalidInputError
from .io import list_images, read_image, to_float
from .metrics import psnr, ssim

__all__ = [
    "ImageScore",
    "EvalFailure",
    "EvalResult",
    "evaluate",
    "evaluate_paired",
    "pair_seed",
    "machine_description",
    "KERNEL_MODES",
]

KERNEL_MODES = ("each", "cycle")


def pair_seed(seed: int, index: int, kernel_index: int = 0) -> int:
    """The noise seed of one (image, kernel) pair: independent of order and of ``--limit``."""
    return int(np.random.SeedSequence([int(seed), int(index), int(kernel_index)]).generate_state(1)[0])


class Degrader(Protocol):
    """What :func:`evaluate` needs from a degradation: apply it to one image, describe it.

    ``apply(clean, seed, kernel)`` returns ``(degraded, true_kernel, sigma)``: the float32
    degraded image (not clipped), the kernel that blurred it (or ``None``) and the noise sigma
    on the 0-255 scale (or ``None``). ``kernel`` overrides the spec's blur when given.
    """

    def apply(self, clean: np.ndarray, seed: int,
              kernel: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, float | None]: ...

    def describe(self) -> str: ...


def as_degrader(degradation: object) -> Degrader:
    """Accept a :class:`Degrader`, an ``edgedeblur.degrade`` spec, or a spec string."""
    if callable(getattr(degradation, "apply", None)) and callable(getattr(degradation, "describe", None)):
        return degradation  # type: ignore[return-value]
    return _SpecDegrader(degradation)


class _SpecDegrader:
    """Adapter from an ``edgedeblur.degrade`` spec to :class:`Degrader`."""

    def __init__(self, spec: object) -> None:
        from . import degrade

        if isinstance(spec, str):
            spec = degrade.parse_degradation(spec)
        self.spec = spec

    def describe(self) -> str:
        spec = self.spec
        parts = []
        if getattr(spec, "blur", None):
            parts.append(f"blur {spec.blur_string}")
        if getattr(spec, "noise", None):
            parts.append(f"noise {spec.noise_string}")
        if getattr(spec, "jpeg", None):
            parts.append(f"jpeg {spec.jpeg}")
        order = ("camera order (linear light, clipped, 8-bit)" if spec.linear or spec.clip or spec.quantize
                 else "paper protocol (float, not clipped)")
        return (", ".join(parts) or "no degradation") + f"; {order}"

    def apply(self, clean: np.ndarray, seed: int,
              kernel: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, float | None]:
        from . import degrade

        out = degrade.degrade(clean, self.spec, seed, kernel=kernel)
        sigma = getattr(out, "sigma", None)
        return np.asarray(out.degraded, dtype=np.float32), out.kernel, sigma


def load_kernels(source: str | Path | Sequence[str | Path], centre: bool = False) -> list[tuple[str, np.ndarray]]:
    """Read blur kernels (``edgedeblur.degrade.load_kernel``: .npy, image or .mat PSFs) from a
    folder (sorted) or a list of files; returns ``(file stem, kernel)`` pairs summing to 1.
    ``centre``: shift each by whole pixels onto its centroid (``edgedeblur.degrade.centre_kernel``)."""
    from .degrade import centre_kernel, kernel_files, load_kernel

    paths = kernel_files(source) if isinstance(source, (str, Path)) else [Path(p) for p in source]
    kernels = [(p.stem, load_kernel(p)) for p in paths]
    return [(stem, centre_kernel(k)) for stem, k in kernels] if centre else kernels


def _resolve_method(method: object, options: dict[str, object] | None):  # noqa: ANN202
    """A method object is used as is; a name goes through the registry."""
    if isinstance(method, str):
        from .methods import get_method

        return get_method(method, **(options or {}))
    if not callable(getattr(method, "restore", None)):
        raise InvalidInputError(
            "method must be a name or an object with restore(image)",
            given=type(method).__name__,
            hint="see edge-eval --list-methods",
        )
    return method


def _method_name(method: object) -> str:
    return str(getattr(method, "name", type(method).__name__))


def _image_files(folder: str | Path, what: str, limit: int | None) -> list[Path]:
    folder = Path(folder)
    if not folder.exists():
        raise InvalidInputError(f"{what} folder does not exist", path=folder, hint="check the path")
    if not folder.is_dir():
        raise InvalidInputError(f"{what} must be a folder of images", path=folder)
    files = list_images([folder])
    if not files:
        raise InvalidInputError(
            f"{what} folder contains no images",
            path=folder,
            allowed="files ending in .png, .jpg, .tif, .bmp, ...",
        )
    if limit is not None:
        if limit < 1:
            raise InvalidInputError("limit must be at least 1", given=limit)
        files = files[:limit]
    return files


def _accepts(method: object, keyword: str) -> bool:
    """Whether ``method.restore`` takes ``keyword`` (or ``**kwargs``)."""
    import inspect

    try:
        params = inspect.signature(method.restore).parameters  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return False
    return keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _restore_timed(method: object, image: np.ndarray, kernel: np.ndarray | None,
                   sigma: float | None, oracle: bool = True) -> tuple[np.ndarray, tuple[float, float]]:
    """Call ``restore`` with the side information: the true kernel/sigma.

    A method that declares ``needs_kernel``/``needs_sigma`` always gets them. With ``oracle``
    (the papers' convention: BM3D is given the true sigma) a method that merely *accepts*
    ``kernel``/``sigma`` gets them too; without it, such a method estimates them itself.
    """
    kwargs: dict[str, object] = {}
    for key, value, needed in (("kernel", kernel, getattr(method, "needs_kernel", False)),
                               ("sigma", sigma, getattr(method, "needs_sigma", False))):
        if needed or (oracle and value is not None and _accepts(method, key)):
            kwargs[key] = value
    start, cpu_start = time.perf_counter(), time.process_time()
    out = method.restore(image, **kwargs)  # type: ignore[attr-defined]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    out = np.asarray(out)
    if out.shape != image.shape and not (out.ndim == 3 and out.shape[:2] == image.shape[:2]
                                         and image.ndim == 2 and out.shape[2] == 1):
        raise InvalidInputError(
            "method returned an image of another shape",
            given=f"{out.shape} for an input of {image.shape}",
        )
    return out.reshape(image.shape), (seconds, cpu)


def _score(name: str, clean: np.ndarray, degraded: np.ndarray, restored: np.ndarray,
           timing: tuple[float, float], protocol: dict[str, object], kernel: str | None) -> ImageScore:
    border = int(protocol["crop_border"])  # type: ignore[arg-type]
    y = bool(protocol["y_channel"])
    return ImageScore(
        name=name,
        psnr=psnr(clean, restored, border=border, y_channel=y),
        ssim=ssim(clean, restored, border=border, y_channel=y),
        seconds=timing[0],
        cpu_seconds=timing[1],
        megapixels=clean.shape[0] * clean.shape[1] / 1e6,
        input_psnr=psnr(clean, degraded, border=border, y_channel=y),
        kernel=kernel,
    )


def _check_protocol(crop_border: int, y_channel: bool, oracle: bool) -> dict[str, object]:
    if not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise InvalidInputError("crop border must be a non-negative integer", given=crop_border)
    return {"crop_border": int(crop_border), "y_channel": bool(y_channel), "quantize": "uint8",
            "ssim": "gaussian 11x11 sigma 1.5, channel mean",
            "side_information": "true kernel and sigma" if oracle else "only what the method requires"}


def _pairs(n_images: int, n_kernels: int, mode: str) -> Iterator[tuple[int, int]]:
    """(image index, kernel index) pairs for the kernel mode; kernel index 0 when no kernels."""
    if n_kernels == 0:
        yield from ((i, 0) for i in range(n_images))
    elif mode == "each":
        yield from ((i, k) for i in range(n_images) for k in range(n_kernels))
    else:
        yield from ((i, i % n_kernels) for i in range(n_images))


def evaluate(
    method: object,
    clean_folder: str | Path,
    degradation: object,
    seed: int = 0,
    *,
    kernels: str | Path | Sequence[str | Path] | None = None,
    kernel_mode: str = "each",
    centre_kernels: bool = False,
    limit: int | None = None,
    crop_border: int = 0,
    y_channel: bool = False,
    oracle: bool = True,
    method_options: dict[str, object] | None = None,
    progress: Callable[[Iterator, int], Iterator] | None = None,
    on_score: Callable[[ImageScore], None] | None = None,
    shard: tuple[int, int] | None = None,
) -> EvalResult:
    """Degrade every clean image, restore it with ``method`` and score it.

    ``method`` is a registered name (built with ``method_options``) or any object with
    ``restore(image, *, kernel=None, sigma=None)``. ``degradation`` is a spec from
    ``edgedeblur.degrade`` (``parse_degradation(...)``, ``paper_awgn(25)``) or a spec string
    it parses. ``kernels`` is a folder or list of kernel files (``.npy`` or image) blurring
    each image per ``kernel_mode``; ``centre_kernels`` first shifts each onto its centroid (for
    blind methods: an off-centre PSF translates the image, which no blind method can undo;
    ``edgedeblur.degrade.centre_kernel``). ``oracle`` (default, as the papers) gives every method that
    accepts them the true kernel and sigma; ``oracle=False`` only those that require them.
    ``progress(iterator, total)`` may wrap the loop (CLI bar); ``on_score`` sees each score as
    it is made. ``shard=(k, n)`` keeps every n-th (image, kernel) pair from the k-th, to split a
    long run across processes; seeds depend on the image index, so shards merge exactly.
    """
    protocol = _check_protocol(crop_border, y_channel, oracle)
    if kernel_mode not in KERNEL_MODES:
        raise InvalidInputError("unknown kernel mode", given=kernel_mode, allowed=", ".join(KERNEL_MODES))
    method = _resolve_method(method, method_options)
    degrader = as_degrader(degradation)
    files = _image_files(clean_folder, "clean image", limit)
    kernel_list = load_kernels(kernels, centre=centre_kernels) if kernels is not None else []
    if kernel_list:
        protocol["centre_kernels"] = bool(centre_kernels)
    result = EvalResult(
        method=_method_name(method),
        data=str(clean_folder),
        degradation=degrader.describe() + (
            f" x {len(kernel_list)} {'centred ' if centre_kernels else ''}kernels from {kernels}"
            f" ({kernel_mode})" if kernel_list else ""),
        seed=int(seed),
        protocol=protocol,
        degradation_spec=_spec_dict(degrader),
    )
    pairs = list(_pairs(len(files), len(kernel_list), kernel_mode))
    if shard is not None:
        k, n = _check_shard(shard)
        pairs = pairs[k::n]
    loop: Iterator = iter(pairs) if progress is None else progress(iter(pairs), len(pairs))
    cache: dict[int, np.ndarray | EdgeDeblurError] = {}
    for index, k_index in loop:
        path = files[index]
        kname, kernel = kernel_list[k_index] if kernel_list else (None, None)
        try:
            clean = _read_cached(cache, index, path)
            degraded, true_kernel, sigma = degrader.apply(
                to_float(clean), pair_seed(seed, index, k_index), kernel
            )
            restored, timing = _restore_timed(method, degraded, true_kernel, sigma, oracle)
            result.scores.append(_score(path.name, clean, degraded, restored, timing, protocol, kname))
            if on_score is not None:
                on_score(result.scores[-1])
        except EdgeDeblurError as exc:
            label = path.name + (f" x {kname}" if kname else "")
            result.failures.append(EvalFailure(label, _with_path(exc, path)))
    return result


def _check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    k, n = shard
    if not (isinstance(k, int) and isinstance(n, int) and n >= 1 and 0 <= k < n):
        raise InvalidInputError("shard must be K/N with 0 <= K < N", given=f"{k}/{n}", hint="e.g. --shard 0/2")
    return k, n


def _spec_dict(degrader: object) -> dict[str, object] | None:
    to_dict = getattr(getattr(degrader, "spec", None), "to_dict", None)
    return to_dict() if callable(to_dict) else None


def _read_cached(cache: dict[int, np.ndarray | EdgeDeblurError], index: int, path: Path) -> np.ndarray:
    """Read each clean image once even when it is blurred with several kernels."""
    if index not in cache:
        cache.clear()  # images are visited in order: keep only the current one
        try:
            cache[index] = read_image(path)
        except EdgeDeblurError as exc:
            cache[index] = exc
    value = cache[index]
    if isinstance(value, EdgeDeblurError):
        raise value
    return value


def _with_path(exc: EdgeDeblurError, path: Path) -> str:
    text = str(exc)
    return text if exc.path else f"{path}: {text}"


def evaluate_paired(
    method: object,
    degraded_folder: str | Path,
    clean_folder: str | Path,
    *,
    sigma: float | None = None,
    kernel: str | Path | None = None,
    limit: int | None = None,
    crop_border: int = 0,
    y_channel: bool = False,
    oracle: bool = True,
    method_options: dict[str, object] | None = None,
    progress: Callable[[Iterator, int], Iterator] | None = None,
    on_score: Callable[[ImageScore], None] | None = None,
) -> EvalResult:
    """Restore real degraded photos and score them against clean ones with the same file stem.

    A degraded image without a clean partner is a failure (named), not silently skipped.
    ``sigma``/``kernel`` are passed to methods that need them (the real values are unknown in
    general; give your best estimate).
    """
    protocol = _check_protocol(crop_border, y_channel, oracle)
    method = _resolve_method(method, method_options)
    degraded_files = _image_files(degraded_folder, "degraded image", limit)
    clean_by_stem = {p.stem: p for p in _image_files(clean_folder, "clean image", None)}
    kname, kernel_array = load_kernels([kernel])[0] if kernel is not None else (None, None)
    result = EvalResult(
        method=_method_name(method),
        data=f"{degraded_folder} vs {clean_folder}",
        degradation="paired (real degraded images)",
        seed=0,
        protocol=protocol,
    )
    loop: Iterator = iter(degraded_files)
    if progress is not None:
        loop = progress(loop, len(degraded_files))
    for path in loop:
        try:
            clean_path = clean_by_stem.get(path.stem)
            if clean_path is None:
                raise InvalidInputError(
                    "no clean image with the same file stem", path=path,
                    hint=f"add {path.stem}.<ext> to {clean_folder}",
                )
            clean, degraded8 = read_image(clean_path), read_image(path)
            if clean.shape != degraded8.shape:
                raise InvalidInputError(
                    "degraded and clean images differ in shape", path=path,
                    given=f"{degraded8.shape} vs {clean.shape} ({clean_path.name})",
                )
            degraded = to_float(degraded8)
            restored, timing = _restore_timed(method, degraded, kernel_array, sigma, oracle)
            result.scores.append(_score(path.name, clean, degraded, restored, timing, protocol, kname))
            if on_score is not None:
                on_score(result.scores[-1])
        except EdgeDeblurError as exc:
            result.failures.append(EvalFailure(path.name, _with_path(exc, path)))
    return result
