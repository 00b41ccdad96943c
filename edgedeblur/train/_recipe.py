"""Training recipes: defaults < YAML recipe file < command-line overrides, checked key by key.

A recipe is a nested mapping; every key it may hold is in :data:`DEFAULTS`, so a typo is a
:class:`~edgedeblur.errors.ConfigError` naming the dotted key (with the closest valid key)
instead of a silently ignored option. Overrides are ``section.key=value`` strings whose values
are parsed as YAML scalars (``train.lr=1e-3``, ``data.degradations=[a, b]``).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError, suggest

__all__ = ["DEFAULTS", "RECIPES_DIR", "load_recipe", "parse_override", "apply_overrides",
           "validate_recipe", "list_recipes", "recipe_path"]

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"

#: Every key a recipe may set, with its default. ``None`` means "no default, any type".
DEFAULTS: dict[str, Any] = {
    "model": None,  # zoo name, e.g. mnv2unet_s_denoise (required)
    "task": None,  # deblur | denoise | joint (default: the model's task)
    "description": "",
    "data": {
        "root": None,  # shared data folder; default $EDGEDEBLUR_DATA or ../shared/data
        "sources": ["bsds500", "train400_gray", "dead_leaves"],
        "source_weights": [0.6, 0.25, 0.15],
        # mappings of edgedeblur.degrade.Degradation fields (blur, noise, jpeg, linear, clip,
        # quantize, border) plus an optional weight; one is drawn per sample
        "degradations": [],
        "crop": 64,
        "batch": 8,
        "workers": 0,  # DataLoader worker processes making batches ahead (0: in the main process)
        "val_images": 8,  # the last N of train/bsds500_test (held out from training)
        "val_crop": 128,
        # the deblur pipeline's prior: inputs are the data step's output + a noise-level map
        # (edgedeblur/train/_prior_data.py); mode "" trains on the degraded images themselves
        "prior": {"mode": "", "prior_scale": 30.0, "kernel_error": 0.5, "sigma_jitter": 0.2, "linear_share": 0.0},
    },
    "train": {
        "steps": 20000,
        "max_minutes": 0.0,  # wall-clock budget (0: none); the schedule follows whichever ends first
        "optimizer": "adamw",
        "lr": 2e-3,
        "weight_decay": 0.0,
        "betas": [0.9, 0.99],
        "schedule": "cosine",  # cosine | plateau | constant
        "warmup": 200,
        "min_lr_ratio": 0.02,
        "ema": 0.999,
        "clip": 1.0,  # gradient-norm clip (0: off)
        "seed": 0,
        "threads": 1,
        "device": "auto",  # auto | cpu | cuda
        "amp": True,  # mixed precision, CUDA only
        "zero_init_head": True,  # start as the identity (x + 0): no clamp saturation at step 0
        # fine-tune: start from these weights instead of random ("" none; "pretrained" = the
        # package's shipped weights of the model; else a .safetensors path, e.g. an earlier run's)
        "init": "",
        # batches of training data over which the shipped (EMA) model's BatchNorm statistics are
        # recomputed at the end of a run (0: off). The EMA averages weights over ~1/(1-ema) steps
        # but its BN buffers are the raw model's last ~10 batches: a mismatch that moved the
        # validation PSNR of mnv2unet_m_denoise by up to 2.6 dB between checkpoints.
        "bn_recal": 200,
    },
    "loss": {
        "l1": 0.0,
        "charbonnier": 1.0,
        "charbonnier_eps": 1e-3,
        "fft": 0.05,
        "adv": 0.0,  # > 0 turns the GAN on
    },
    "gan": {
        "kind": "ragan_ls",  # ragan_ls (DeblurGAN-v2) | wgan_gp
        "width": 32,
        "layers": 3,
        "lr": 1e-4,
        "gp_weight": 10.0,
        "start_step": 0,
    },
    "val": {"every": 250},
    "log": {"every": 25},
    "checkpoint": {"every": 250, "ship": False},  # ship: also write the EMA weights into the package
}

_REQUIRED = ("model",)
_CHOICES = {
    "train.optimizer": ("adam", "adamw"),
    "train.schedule": ("cosine", "plateau", "constant"),
    "train.device": ("auto", "cpu", "cuda"),
    "gan.kind": ("ragan_ls", "wgan_gp"),
    "task": (None, "deblur", "denoise", "joint", "prior"),
    "data.prior.mode": ("", "wiener"),
}
_POSITIVE = ("data.crop", "data.batch", "train.steps", "train.lr", "train.threads", "val.every",
             "log.every", "checkpoint.every", "gan.width", "gan.layers", "gan.lr")
_NON_NEGATIVE = ("train.bn_recal", "data.workers", "data.val_images", "train.max_minutes", "train.weight_decay",
                 "train.warmup", "train.clip", "loss.l1", "loss.charbonnier", "loss.fft", "loss.adv",
                 "gan.gp_weight", "gan.start_step", "train.min_lr_ratio")


def list_recipes() -> list[str]:
    """Names of the recipes shipped in ``edgedeblur/train/recipes``."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def recipe_path(name_or_path: str | Path) -> Path:
    """A recipe file from a path, or from a shipped recipe name (``mnv2unet_s_denoise``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = RECIPES_DIR / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    close = suggest(str(name_or_path), list_recipes())
    raise ConfigError(
        "recipe not found",
        given=str(name_or_path),
        allowed="a YAML file path or a shipped recipe: " + ", ".join(list_recipes()),
        hint=f"did you mean {close!r}?" if close else "see edgedeblur/train/recipes/",
    )


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


_VALID_KEYS = _flatten(DEFAULTS)
_SECTIONS = {k for k, v in DEFAULTS.items() if isinstance(v, dict)}


def _set(tree: dict[str, Any], dotted: str, value: Any, *, source: str) -> None:
    if dotted not in _VALID_KEYS:
        if dotted in _SECTIONS:
            raise ConfigError(f"recipe section {dotted!r} must be a mapping of keys", given=value,
                              allowed=", ".join(k for k in _VALID_KEYS if k.startswith(dotted + ".")),
                              path=source)
        close = suggest(dotted, _VALID_KEYS)
        raise ConfigError(
            f"unknown recipe key {dotted!r}",
            given=dotted,
            allowed=", ".join(sorted(_VALID_KEYS)),
            hint=f"did you mean {close!r}?" if close else None,
            path=source,
        )
    default = _VALID_KEYS[dotted]
    if isinstance(value, str) and isinstance(default, (int, float)) and not isinstance(default, bool):
        try:  # YAML 1.1 reads 5e-4 (no dot) as a string
            value = float(value) if isinstance(default, float) else int(value)
        except ValueError:
            pass  # left for validate_recipe to report with the key's name
    node = tree
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _merge(tree: dict[str, Any], layer: Mapping[str, Any], *, source: str) -> None:
    if not isinstance(layer, Mapping):
        raise ConfigError("a recipe must be a YAML mapping", given=type(layer).__name__, path=source,
                          allowed="key: value lines, e.g. 'model: mnv2unet_s_denoise'")
    for dotted, value in _flatten(layer).items():
        _set(tree, dotted, value, source=source)
    # an empty section given as a mapping is fine; a section given as a scalar is not
    for key, value in layer.items():
        if key in _SECTIONS and not isinstance(value, Mapping):
            _set(tree, key, value, source=source)


def parse_override(text: str) -> tuple[str, Any]:
    """``'train.lr=1e-3'`` -> ``('train.lr', 0.001)``; the value is parsed as a YAML scalar."""
    import yaml

    if "=" not in text:
        raise ConfigError("override must be KEY=VALUE", given=text, allowed="e.g. train.lr=1e-3",
                          hint="use --set section.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot parse the value of {key!r}", given=raw, hint=str(exc)) from exc
    if isinstance(value, str) and _FLOAT_RE.match(value.strip()):
        value = float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
    return key, value


_FLOAT_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


def apply_overrides(recipe: dict[str, Any], overrides: Iterable[str | tuple[str, Any]],
                    *, source: str = "command line") -> dict[str, Any]:
    """Return a copy of ``recipe`` with overrides applied, then validated."""
    out = copy.deepcopy(recipe)
    for item in overrides:
        key, value = parse_override(item) if isinstance(item, str) else item
        _set(out, key, value, source=source)
    validate_recipe(out, source=source)
    return out


def _get(tree: Mapping[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        node = node[part]
    return node


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_recipe(recipe: Mapping[str, Any], *, source: str = "recipe") -> None:
    """Check types and ranges of every key; raise :class:`ConfigError` naming the first bad key."""
    for key in _REQUIRED:
        if not recipe.get(key):
            raise ConfigError(f"recipe key {key!r} is required", path=source,
                              hint="add e.g. 'model: mnv2unet_s_denoise' (see edgedeblur.models.list_models())")
    for dotted, default in _VALID_KEYS.items():
        value = _get(recipe, dotted)
        if default is None:
            continue
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = _number(value) and (isinstance(default, float) or float(value).is_integer())
        elif isinstance(default, list):
            ok = isinstance(value, list)
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise ConfigError(f"recipe key {dotted!r} has the wrong type", given=repr(value),
                              allowed=f"a {type(default).__name__} like {default!r}", path=source)
    for dotted, choices in _CHOICES.items():
        if _get(recipe, dotted) not in choices:
            raise ConfigError(f"recipe key {dotted!r} has an unknown value", given=repr(_get(recipe, dotted)),
                              allowed=", ".join(str(c) for c in choices if c is not None), path=source)
    for dotted in _POSITIVE:
        if not _get(recipe, dotted) > 0:
            raise ConfigError(f"recipe key {dotted!r} must be positive", given=repr(_get(recipe, dotted)),
                              path=source)
    for dotted in _NON_NEGATIVE:
        if _get(recipe, dotted) < 0:
            raise ConfigError(f"recipe key {dotted!r} must not be negative",
                              given=repr(_get(recipe, dotted)), path=source)
    if not 0.0 <= recipe["train"]["ema"] < 1.0:
        raise ConfigError("recipe key 'train.ema' must be in [0, 1)", given=recipe["train"]["ema"],
                          hint="0.999 is typical; 0 turns EMA off", path=source)
    data = recipe["data"]
    if len(data["sources"]) != len(data["source_weights"]) or not data["sources"]:
        raise ConfigError("recipe keys 'data.sources' and 'data.source_weights' must have the same, "
                          "non-zero length", given=f"{data['sources']} / {data['source_weights']}",
                          path=source)
    if not data["degradations"] or not all(isinstance(d, Mapping) for d in data["degradations"]):
        raise ConfigError("recipe key 'data.degradations' must be a non-empty list of mappings",
                          given=repr(data["degradations"]), path=source,
                          allowed="- {blur: 'shake:size=31', noise: 'gaussian:sigma=0-5', weight: 1}")
    from ._data import build_degradations

    try:
        build_degradations(data["degradations"])
    except ConfigError as exc:
        raise ConfigError(exc.what, given=exc.given, allowed=exc.allowed, hint=exc.hint,
                          path=source) from exc
    loss = recipe["loss"]
    if loss["l1"] + loss["charbonnier"] + loss["fft"] <= 0:
        raise ConfigError("recipe 'loss' has no pixel loss", given=loss,
                          hint="set loss.charbonnier=1 (or loss.l1)", path=source)


def load_recipe(path: str | Path | None = None, overrides: Iterable[str | tuple[str, Any]] = (),
                *, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Load a recipe: defaults < ``base`` < YAML file ``path`` < ``overrides``; validated.

    ``path`` may be a file or a shipped recipe name. Returns a plain nested dict (safe to dump
    back to YAML/JSON, which the trainer does into its run folder).
    """
    import yaml

    recipe = copy.deepcopy(DEFAULTS)
    if base:
        _merge(recipe, base, source="base")
    source = "recipe"
    if path is not None:
        file = recipe_path(path)
        source = str(file)
        try:
            layer = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the recipe ({exc})", path=file) from exc
        _merge(recipe, layer, source=source)
    validate_recipe(recipe, source=source)
    return apply_overrides(recipe, overrides) if overrides else recipe
