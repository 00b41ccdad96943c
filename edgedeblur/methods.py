"""The method protocol and the one registry every command resolves method names through.

A *method* is anything that restores an image: a classical algorithm (``edgedeblur.classical``),
a PyTorch zoo model (``edgedeblur.models``) or the edge runtime running an exported artifact
(``edgedeblur.runtime``). ``edge-deblur``, ``edge-eval`` and ``edge-bench`` all take a method
name, so every comparison runs the same pre- and post-processing.

Contract (see :class:`Method`):

* ``restore(image, *, kernel=None, sigma=None) -> np.ndarray``: ``image`` is float32, H x W or
  H x W x 3, values in [0, 1]; the result has the same shape, float32.
* ``sigma`` is the standard deviation of additive white Gaussian noise **on the 0-255 scale**
  (as in the papers: "sigma 25"), whatever the file's bit depth. ``kernel`` is a 2-D convolution
  PSF (non-negative, summing to 1).
* ``name``, ``needs_kernel`` and ``needs_sigma`` say what a non-blind method needs; methods that
  can estimate sigma themselves set ``needs_sigma = False``.

Classical methods register themselves with :func:`register_method`; learned methods are found
lazily in :func:`_learned_method` so that this module works before (and without) torch.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ._arrays import check_image
from .errors import ConfigError, InvalidInputError, UnknownNameError

__all__ = [
    "Method",
    "MethodFactory",
    "register_method",
    "get_method",
    "list_methods",
    "check_image",
    "DEFAULT_DENOISER",
    "DEFAULT_DEBLUR_PRIOR",
]

#: What ``denoise`` and ``deblur`` name (in edge-deblur, edge-eval, edge-export and here).
DEFAULT_DENOISER = "mnv2unet_m_denoise"
DEFAULT_DEBLUR_PRIOR = "mnv2unet_m_prior"


@runtime_checkable
class Method(Protocol):
    """What ``get_method`` returns: a named restorer declaring what it needs."""

    name: str
    needs_kernel: bool
    needs_sigma: bool

    def restore(
        self,
        image: np.ndarray,
        *,
        kernel: np.ndarray | None = None,
        sigma: float | None = None,
    ) -> np.ndarray:
        """Restore a float32 [0, 1] H x W or H x W x 3 image; same shape, float32."""
        ...


MethodFactory = Callable[..., Method]

_REGISTRY: dict[str, MethodFactory] = {}


def register_method(name: str) -> Callable[[MethodFactory], MethodFactory]:
    """Decorator registering a class or factory function under ``name``.

    ``get_method(name, **options)`` calls ``factory(**options)``. Registering a name twice is a
    programming error (two subpackages fighting over a name), so it raises.
    """

    def decorator(factory: MethodFactory) -> MethodFactory:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not factory:
            raise ValueError(f"method name {name!r} is already registered by {existing!r}")
        _REGISTRY[name] = factory
        return factory

    return decorator


def _ensure_builtin() -> None:
    """Import the classical baselines so that they register (numpy-only at import time)."""
    from . import classical  # noqa: F401


@register_method("denoise")
def _default_denoiser(**options: object) -> Method:
    """The default denoiser: the zoo's ``DEFAULT_DENOISER`` (options as for any zoo model)."""
    from . import models

    method = models.create_method(DEFAULT_DENOISER, **options)  # type: ignore[arg-type]
    method.name = f"denoise={method.name}"
    return method


@register_method("deblur")
def _default_deblur(prior: str | None = None, weights: str | None = None, self_ensemble: int = 1,
                    **config: object) -> Method:
    """PSF-aware deblurring (:class:`edgedeblur.runtime.pipeline.DeblurPipeline`).

    The kernel is the one given (``--kernel``) or estimated from the photo. ``prior``: an
    exported prior's manifest (INT8 etc.) instead of the PyTorch zoo model; ``weights``: a
    training run's weights for the zoo prior; other options (``mode``, ``iterations``,
    ``prior_scale``...) are :class:`~edgedeblur.runtime.pipeline.PipelineConfig` fields.
    """
    from .runtime.pipeline import DeblurPipeline, PipelineConfig

    if prior is not None:
        from .runtime import load_pipeline

        pipe = load_pipeline(prior, self_ensemble=self_ensemble)
        if config:
            pipe.config = PipelineConfig.from_dict({**pipe.config.to_dict(), **config})
        return pipe
    from . import models

    prior_method = models.create_method(DEFAULT_DEBLUR_PRIOR, weights=weights, self_ensemble=self_ensemble)
    return DeblurPipeline(prior_method, PipelineConfig.from_dict(dict(config)) if config else None,
                          name="deblur" + (f"[{weights}]" if weights else ""))


def list_methods(*, include_learned: bool = True) -> list[str]:
    """Names ``get_method`` accepts: the classical ones plus, when installed, the zoo models."""
    _ensure_builtin()
    names = set(_REGISTRY)
    if include_learned:
        names.update(_zoo_names())
    return sorted(names)


def get_method(name: str, **options: object) -> Method:
    """Return the method called ``name`` built with ``options``.

    ``name`` is a registered classical method, a zoo model name, or the path of an exported
    artifact (or its ``.manifest.json``). Unknown names raise :class:`UnknownNameError` with
    the closest registered name as a suggestion.
    """
    if not isinstance(name, str) or not name:
        raise InvalidInputError("method name must be a non-empty string", given=name)
    _ensure_builtin()
    factory = _REGISTRY.get(name)
    if factory is not None:
        _check_options(name, factory, options)
        return factory(**options)
    method = _learned_method(name, options)
    if method is not None:
        return method
    raise UnknownNameError(
        "method",
        name,
        list_methods(),
        **({"hint": f"no such file either: {name}"} if _looks_like_path(name) else {}),
    )


def _check_options(name: str, factory: MethodFactory, options: dict[str, object]) -> None:
    """Turn a misspelt option into a ConfigError listing the real ones (not a bare TypeError)."""
    import inspect

    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    try:
        signature.bind(**options)
    except TypeError:
        accepted = [p for p in signature.parameters if p not in ("self", "args", "kwargs")]
        raise ConfigError(
            f"method {name!r} does not take these options",
            given=", ".join(sorted(options)),
            allowed=", ".join(accepted) or "no options",
        ) from None


def _zoo_names() -> list[str]:
    """Zoo model names, or [] while ``edgedeblur.models`` is absent or not installed."""
    try:
        from . import models
    except ImportError:
        return []
    lister = getattr(models, "list_models", None)
    if lister is None:
        return []
    try:
        return list(lister())
    except ImportError:
        return []


def _looks_like_path(name: str) -> bool:
    return os.sep in name or "/" in name or name.endswith((".json", ".onnx", ".tflite", ".xml"))


def _learned_method(name: str, options: dict[str, object]) -> Method | None:
    """Dispatch to the learned-method providers; ``None`` when none of them knows ``name``.

    An existing file is an exported artifact (or its manifest) for ``edgedeblur.runtime.load``;
    otherwise a zoo model name goes to ``edgedeblur.models.create_method``. Providers that do
    not exist yet (ImportError / missing attribute) are skipped, so the registry works alone.
    """
    if Path(name).is_file():
        try:
            from . import runtime
        except ImportError:
            runtime = None
        loader = getattr(runtime, "load_method", None)
        if loader is not None:
            return loader(name, **options)
        return None
    if name in _zoo_names():
        from . import models

        return models.create_method(name, **options)
    return None
