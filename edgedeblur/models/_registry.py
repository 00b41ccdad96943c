"""The model registry: names -> factories + static card fields, weights and measured cards.

A family registers each variant as data::

    @register_model("mnv2unet_s_deblur", card=dict(family="mnv2unet", task="deblur"), widths=(16, 32, 64, 96))
    def mnv2unet(**kwargs): return MNV2UNet(**kwargs)

Keyword arguments after ``card`` are the variant's architecture; ``create_model(name, **kw)``
may override them (with ``pretrained=True`` the weights must still fit). Weights live in
``edgedeblur/models/weights/<name>.safetensors``; measured metrics in
``edgedeblur/models/cards/<name>.json`` (written by the evaluation script, see
:func:`read_card_file` for the schema). Everything heavy (safetensors) is imported lazily.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from ..errors import ArtifactError, ConfigError, UnknownNameError, require
from ._macs import count_macs, count_params

__all__ = [
    "TASKS",
    "ModelCard",
    "register_model",
    "create_model",
    "list_models",
    "get_card",
    "weights_path",
    "card_path",
    "read_card_file",
]

#: "prior": a noise-level-conditioned refiner inside the deblur pipeline (RGB + sigma map in)
TASKS = ("deblur", "denoise", "joint", "prior")
PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = PACKAGE_DIR / "weights"
CARDS_DIR = PACKAGE_DIR / "cards"
# "search": how edge-nas found a NAS entry (copied from its genome file by the evaluation)
_CARD_KEYS = {"name", "metrics", "recipe", "weights_sha256", "trained", "notes", "activation_ranges", "search"}


@dataclass(frozen=True)
class _Entry:
    name: str
    factory: Callable[..., nn.Module]
    arch: dict[str, Any]
    family: str
    task: str
    recipe: str
    description: str


@dataclass
class ModelCard:
    """What a zoo entry is and what it costs. ``params``/``macs_720p`` are computed from the net.

    ``io`` is the I/O contract (``colour``, ``range``, ``layout``, ``pad_multiple``);
    ``metrics`` comes from ``cards/<name>.json`` and is empty until the model is trained and
    evaluated; ``has_weights`` says whether ``create_model(name)`` will work with pretrained=True.
    """

    name: str
    family: str
    task: str
    params: int
    macs_720p: int
    io: dict[str, Any]
    recipe: str
    description: str = ""
    arch: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    has_weights: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (for manifests, docs tables and ``edge-report``)."""
        return asdict(self)


_REGISTRY: dict[str, _Entry] = {}


def register_model(name: str, card: dict[str, Any] | None = None, **arch: Any) -> Callable:
    """Decorator registering ``factory(**arch)`` under ``name``; returns the factory unchanged.

    ``card`` holds the static card fields: ``family`` and ``task`` (one of ``TASKS``) are
    required, ``recipe`` and ``description`` optional. Stack several decorators (or call it in
    a loop) to register variants of one factory.
    """
    card = dict(card or {})
    unknown = set(card) - {"family", "task", "recipe", "description"}
    if unknown or "family" not in card or card.get("task") not in TASKS:
        raise ConfigError(
            f"bad card for model {name!r}",
            given=card,
            allowed=f"keys family, task in {TASKS}, optional recipe, description",
        )

    def decorator(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ConfigError("model name registered twice", given=name, hint="pick a unique name")
        _REGISTRY[name] = _Entry(
            name=name,
            factory=factory,
            arch=dict(arch),
            family=card["family"],
            task=card["task"],
            recipe=card.get("recipe", f"edgedeblur/train/recipes/{name}.yaml"),
            description=card.get("description", ""),
        )
        return factory

    return decorator


def _entry(name: str) -> _Entry:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownNameError("model", str(name), _REGISTRY.keys(), hint=None)
    return _REGISTRY[name]


def list_models(task: str | None = None) -> list[str]:
    """Registered model names, sorted; only those for ``task`` when given."""
    if task is not None and task not in TASKS:
        raise UnknownNameError("task", task, TASKS)
    return sorted(n for n, e in _REGISTRY.items() if task is None or e.task == task)


def weights_path(name: str) -> Path:
    """Where the trained weights of ``name`` live (whether or not the file exists yet)."""
    return WEIGHTS_DIR / f"{_entry(name).name}.safetensors"


def card_path(name: str) -> Path:
    """Where the measured card of ``name`` lives (whether or not the file exists yet)."""
    return CARDS_DIR / f"{_entry(name).name}.json"


def _load_weights(model: nn.Module, name: str, path: Path) -> None:
    st = require("safetensors.torch", "train", "loading zoo weights")
    try:
        state = st.load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ArtifactError(
            f"cannot read weights ({exc})", path=path, hint="re-train or re-download this model"
        ) from exc
    try:
        result = model.load_state_dict(state, strict=False)
        problem = (f"missing {result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]}"
                   if result.missing_keys or result.unexpected_keys else None)
    except RuntimeError as exc:  # shape mismatches
        problem = str(exc).splitlines()[-1].strip()[:200]
    if problem:
        raise ArtifactError(
            "weights do not fit the architecture",
            given=problem,
            path=path,
            hint=f"create_model({name!r}) with its registered architecture, or pretrained=False",
        )


def create_model(name: str, pretrained: bool = True, **kwargs: Any) -> nn.Module:
    """Build ``name``; with ``pretrained`` load its safetensors weights (error if not trained).

    ``kwargs`` override the registered architecture. The model is returned in eval mode when
    pretrained, train mode otherwise (ready for the trainer).
    """
    entry = _entry(name)
    model = entry.factory(**{**entry.arch, **kwargs})
    model.zoo_name = name  # type: ignore[attr-defined]
    if not pretrained:
        return model
    path = weights_path(name)
    if not path.is_file():
        trained = [n for n in list_models() if weights_path(n).is_file()]
        raise ArtifactError(
            f"model {name!r} has no trained weights",
            given=str(path),
            allowed="trained models: " + (", ".join(trained) or "none yet"),
            hint="pass pretrained=False for a randomly initialised net, or train it with edge-train",
        )
    _load_weights(model, name, path)
    return model.eval()


def read_card_file(path: Path, name: str) -> dict[str, Any]:
    """Read and check ``cards/<name>.json``.

    Schema (a JSON object): ``name`` (str, must equal the file's model), ``metrics`` (object of
    str -> number, or str -> object of str -> number, e.g. ``{"cbsd68_sigma25_psnr": 30.9}``),
    optional ``recipe`` (str, overrides the registered recipe path), ``weights_sha256`` (str),
    ``trained`` (object: date, steps, device...), ``notes`` (str), ``activation_ranges`` (object).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"unreadable model card ({exc})", path=path) from exc
    if not isinstance(data, dict) or data.get("name") != name:
        raise ArtifactError(
            "model card is not an object naming this model", given=str(data)[:80], path=path,
            allowed=f'{{"name": "{name}", "metrics": {{...}}}}',
        )
    unknown = set(data) - _CARD_KEYS
    if unknown:
        raise ArtifactError("unknown keys in model card", given=sorted(unknown),
                            allowed=sorted(_CARD_KEYS), path=path)
    metrics = data.get("metrics", {})
    if not isinstance(metrics, dict) or not all(_is_metric(v) for v in metrics.values()):
        raise ArtifactError("card metrics must map names to numbers (or to objects of numbers)",
                            given=str(metrics)[:80], path=path)
    return data


def _is_metric(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_metric(v) and not isinstance(v, dict) for v in value.values())
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@functools.cache
def _cost(name: str) -> tuple[int, int, int]:
    model = create_model(name, pretrained=False)
    return count_params(model), count_macs(model, 720, 1280), int(model.pad_multiple)


def get_card(name: str) -> ModelCard:
    """The card of ``name``: static fields, computed params/MACs, measured metrics if any."""
    entry = _entry(name)
    params, macs, pad_multiple = _cost(name)
    measured: dict[str, Any] = {}
    path = card_path(name)
    if path.is_file():
        measured = read_card_file(path, name)
    return ModelCard(
        name=name,
        family=entry.family,
        task=entry.task,
        params=params,
        macs_720p=macs,
        io={"colour": "RGB", "range": [0.0, 1.0], "layout": "NCHW", "dtype": "float32",
            "pad_multiple": pad_multiple},
        recipe=measured.get("recipe", entry.recipe),
        description=entry.description,
        arch=dict(entry.arch),
        metrics=dict(measured.get("metrics", {})),
        has_weights=weights_path(name).is_file(),
        extra={k: v for k, v in measured.items() if k not in {"name", "metrics", "recipe"}},
    )
