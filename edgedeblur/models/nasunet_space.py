"""The NAS search space: genomes of the ``nasunet`` family, as one table of choices.

A genome is a plain JSON-able dict (the interface between the space, the latency model and the
search)::

    {"levels": [{"width": 12, "depth": 0, "block": "ir", "kernel": 3, "expand": 1}, ...],
     "skip": "add", "up": "conv_bilinear", "decoder_block": "ir"}

``levels[i]`` works at 1/2**i resolution. Its ``block``/``kernel``/``expand`` describe the
``depth`` encoder blocks of that level and its ``kernel``/``expand`` also the one decoder merge
block at that level (every level but the deepest has one). Values a genome's network never uses
are normalised by :func:`validate_genome` (block "ir", kernel 3, expand 1), so two genomes
describing the same network have the same :func:`genome_key`.

The space lives in the zoo, next to :mod:`edgedeblur.models.nasunet`, the family that builds a
genome; the architecture search (:mod:`edgedeblur.nas`) is a client that imports it from here
(``edgedeblur.nas.space`` re-exports it). It needs no optuna: ``suggest_genome`` only calls
methods of the trial it is given.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from ..errors import ConfigError
from .mnv2unet import VARIANTS

__all__ = [
    "SEARCH_SPACE",
    "validate_genome",
    "genome_key",
    "sample_genome",
    "suggest_genome",
    "genome_from_mnv2unet",
    "mutate_genome",
    "describe_genome",
    "space_size",
]

# The one table of choices. Per-level widths grow with resolution depth and include every
# width the hand-designed mnv2unet variants use, so those are points of the space.
SEARCH_SPACE: dict[str, Any] = {
    "num_levels": (3, 4, 5),
    "width": ((8, 12, 16), (12, 16, 24, 32), (24, 32, 48, 64), (48, 64, 96, 128), (64, 96, 128, 192)),
    "depth": ((0, 1), (0, 1, 2, 3), (0, 1, 2, 3), (0, 1, 2, 3), (0, 1, 2, 3)),
    "block": ("ir", "plain", "naf"),
    "kernel": (3, 5),
    "expand": (1, 2, 3, 4),
    "skip": ("add", "concat"),
    "up": ("conv_bilinear", "conv_nearest", "bilinear_conv"),
    "decoder_block": ("ir", "plain", "naf"),
}

_LEVEL_KEYS = ("width", "depth", "block", "kernel", "expand")
_TOP_KEYS = ("levels", "skip", "up", "decoder_block")
_UNUSED = {"block": "ir", "kernel": 3, "expand": 1}  # what unused genes are normalised to
_EXPANDING = ("ir", "naf")  # block types whose ``expand`` matters ("plain" ignores it)


def _bad(key: str, given: object, allowed: object, hint: str) -> ConfigError:
    return ConfigError(f"bad genome key {key!r}", given=given, allowed=allowed, hint=hint)


def _check_choice(key: str, value: object, choices: tuple) -> object:
    # bool is an int subclass: True must not pass as depth 1
    if isinstance(value, bool) or value not in choices:
        raise _bad(key, value, ", ".join(map(str, choices)), f"set {key} to one of the allowed values")
    return choices[choices.index(value)]  # the table's value: 12.0 becomes 12


def _used(level: dict, index: int, num_levels: int, decoder_block: str) -> dict[str, bool]:
    """Which of block/kernel/expand the network built from this level actually reads."""
    enc = level["depth"] > 0
    dec = index < num_levels - 1  # the deepest level has no decoder merge block
    return {
        "block": enc,
        "kernel": enc or dec,
        "expand": (enc and level["block"] in _EXPANDING) or (dec and decoder_block in _EXPANDING),
    }


def validate_genome(genome: object) -> dict:
    """Check ``genome`` against :data:`SEARCH_SPACE`; return a normalised copy.

    Raises :class:`ConfigError` naming the bad key (``levels[2].kernel``), what is allowed and
    the fix. The copy has exactly the known keys, and genes the network does not use set to
    fixed values, so equal networks give equal genomes.
    """
    if not isinstance(genome, dict):
        raise ConfigError("a genome must be a dict", given=type(genome).__name__,
                          allowed=f"keys {', '.join(_TOP_KEYS)}", hint="see edgedeblur.nas.space docs")
    unknown = sorted(set(genome) - set(_TOP_KEYS))
    missing = [k for k in _TOP_KEYS if k not in genome]
    if unknown or missing:
        key = (unknown or missing)[0]
        raise _bad(key, "unknown key" if unknown else "missing", ", ".join(_TOP_KEYS),
                   "remove it" if unknown else f"add {key!r}")
    out: dict[str, Any] = {k: _check_choice(k, genome[k], SEARCH_SPACE[k]) for k in _TOP_KEYS[1:]}
    levels = genome["levels"]
    if not isinstance(levels, (list, tuple)) or len(levels) not in SEARCH_SPACE["num_levels"]:
        raise _bad("levels", levels if not isinstance(levels, (list, tuple)) else f"{len(levels)} levels",
                   "a list of 3 to 5 level dicts", "give one dict per resolution level")
    out["levels"] = [_validate_level(lv, i, len(levels), out["decoder_block"]) for i, lv in enumerate(levels)]
    return {k: out[k] for k in _TOP_KEYS}


def _validate_level(level: object, i: int, num_levels: int, decoder_block: str) -> dict:
    name = f"levels[{i}]"
    if not isinstance(level, dict):
        raise _bad(name, level, f"a dict with keys {', '.join(_LEVEL_KEYS)}", "give a dict per level")
    unknown = sorted(set(level) - set(_LEVEL_KEYS))
    missing = [k for k in _LEVEL_KEYS if k not in level]
    if unknown or missing:
        key = f"{name}.{(unknown or missing)[0]}"
        raise _bad(key, "unknown key" if unknown else "missing", ", ".join(_LEVEL_KEYS),
                   "remove it" if unknown else "add it")
    clean = {
        "width": _check_choice(f"{name}.width", level["width"], SEARCH_SPACE["width"][i]),
        "depth": _check_choice(f"{name}.depth", level["depth"], SEARCH_SPACE["depth"][i]),
        "block": _check_choice(f"{name}.block", level["block"], SEARCH_SPACE["block"]),
        "kernel": _check_choice(f"{name}.kernel", level["kernel"], SEARCH_SPACE["kernel"]),
        "expand": _check_choice(f"{name}.expand", level["expand"], SEARCH_SPACE["expand"]),
    }
    for key, used in _used(clean, i, num_levels, decoder_block).items():
        if not used:
            clean[key] = _UNUSED[key]
    return clean


def genome_key(genome: dict) -> str:
    """Short stable id of the network: 12 hex digits of sha256 over the canonical JSON."""
    text = json.dumps(validate_genome(genome), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _pick(rng: Any, choices: tuple) -> Any:
    # rng.choice would turn ints into numpy ints (not JSON-able); index instead
    return choices[int(rng.integers(len(choices)))]


def sample_genome(rng: Any, max_levels: int = 5) -> dict:
    """A uniformly drawn genome (each gene independently) with 3..``max_levels`` levels."""
    allowed = [n for n in SEARCH_SPACE["num_levels"] if n <= max_levels]
    if not allowed:
        raise ConfigError("max_levels is below the smallest level count", given=max_levels,
                          allowed=SEARCH_SPACE["num_levels"], hint="use max_levels >= 3")
    n = _pick(rng, tuple(allowed))
    genome = {
        "levels": [{
            "width": _pick(rng, SEARCH_SPACE["width"][i]),
            "depth": _pick(rng, SEARCH_SPACE["depth"][i]),
            "block": _pick(rng, SEARCH_SPACE["block"]),
            "kernel": _pick(rng, SEARCH_SPACE["kernel"]),
            "expand": _pick(rng, SEARCH_SPACE["expand"]),
        } for i in range(n)],
        **{k: _pick(rng, SEARCH_SPACE[k]) for k in ("skip", "up", "decoder_block")},
    }
    return validate_genome(genome)


def suggest_genome(trial: Any, max_levels: int = 5) -> dict:
    """A genome from an Optuna trial; block/kernel/expand are asked only where they are used.

    Parameter names: ``levels``, ``skip``, ``up``, ``decoder_block``, then per level ``l{i}_width``,
    ``l{i}_depth`` and conditionally ``l{i}_block``, ``l{i}_kernel``, ``l{i}_expand``.
    """
    n_choices = [n for n in SEARCH_SPACE["num_levels"] if n <= max_levels]
    n = trial.suggest_categorical("levels", n_choices)
    genome: dict[str, Any] = {k: trial.suggest_categorical(k, list(SEARCH_SPACE[k]))
                              for k in ("skip", "up", "decoder_block")}
    levels = []
    for i in range(n):
        lv = {"width": trial.suggest_categorical(f"l{i}_width", list(SEARCH_SPACE["width"][i])),
              "depth": trial.suggest_categorical(f"l{i}_depth", list(SEARCH_SPACE["depth"][i])),
              **_UNUSED}
        if lv["depth"] > 0:
            lv["block"] = trial.suggest_categorical(f"l{i}_block", list(SEARCH_SPACE["block"]))
        used = _used(lv, i, n, genome["decoder_block"])
        for key in ("kernel", "expand"):
            if used[key]:
                lv[key] = trial.suggest_categorical(f"l{i}_{key}", list(SEARCH_SPACE[key]))
        levels.append(lv)
    genome["levels"] = levels
    return validate_genome(genome)


def genome_from_mnv2unet(size: str) -> dict:
    """The genome whose NASUNet has the parameters and MACs of ``mnv2unet_{size}_*``.

    mnv2unet uses inverted residuals everywhere, add skips, UpResize (conv_bilinear) and merges
    full resolution without expansion: level 0 gets expand 1, the others the variant's ratio.
    """
    if size not in VARIANTS:
        raise ConfigError("unknown mnv2unet size", given=size, allowed=", ".join(VARIANTS),
                          hint="use one of the zoo sizes, e.g. 's'")
    widths, depths, expand = VARIANTS[size]
    levels = [{"width": w, "depth": d, "block": "ir", "kernel": 3, "expand": expand if i else 1}
              for i, (w, d) in enumerate(zip(widths, depths, strict=True))]
    if depths[0]:
        raise ConfigError("mnv2unet variants with full-resolution encoder blocks are not in the space",
                          given=size, hint="level 0 merge and encoder share one expand ratio")
    return validate_genome({"levels": levels, "skip": "add", "up": "conv_bilinear", "decoder_block": "ir"})


def mutate_genome(genome: dict, rng: Any, max_levels: int = 5) -> dict:
    """A different valid genome one gene away: a level gene, a global gene, or the level count."""
    base = validate_genome(genome)
    for _ in range(100):  # a redraw can hit an unused gene or the same value; retry
        g = copy.deepcopy(base)
        what = int(rng.integers(3))
        if what == 0:
            i = int(rng.integers(len(g["levels"])))
            key = _pick(rng, _LEVEL_KEYS)
            table = SEARCH_SPACE[key][i] if key in ("width", "depth") else SEARCH_SPACE[key]
            g["levels"][i][key] = _pick(rng, table)
        elif what == 1:
            key = _pick(rng, ("skip", "up", "decoder_block"))
            g[key] = _pick(rng, SEARCH_SPACE[key])
        else:
            n = _pick(rng, tuple(k for k in SEARCH_SPACE["num_levels"] if k <= max_levels))
            if n < len(g["levels"]):
                g["levels"] = g["levels"][:n]
            while len(g["levels"]) < n:
                i = len(g["levels"])
                g["levels"].append({"width": _pick(rng, SEARCH_SPACE["width"][i]), "depth": 1,
                                    "block": "ir", "kernel": 3, "expand": 2})
        g = validate_genome(g)
        if g != base:
            return g
    raise ConfigError("could not mutate this genome", given=describe_genome(base),
                      hint="check max_levels allows more than one level count")


def describe_genome(genome: dict) -> str:
    """One line, e.g. ``L4 w12-24-48-96 d0-1-1-2 ir/ir/plain/naf k3-3-5-3 e1-2-2-2 add conv_bilinear dec:ir``."""
    g = validate_genome(genome)
    lv = g["levels"]

    def join(key: str, sep: str = "-") -> str:
        return sep.join(str(x[key]) for x in lv)

    return (f"L{len(lv)} w{join('width')} d{join('depth')} {join('block', '/')} k{join('kernel')} "
            f"e{join('expand')} {g['skip']} {g['up']} dec:{g['decoder_block']}")


def space_size(max_levels: int = 5) -> int:
    """Number of distinct networks in the space (genomes after normalisation of unused genes)."""
    total = 0
    n_kernel, n_expand = len(SEARCH_SPACE["kernel"]), len(SEARCH_SPACE["expand"])
    for n in (k for k in SEARCH_SPACE["num_levels"] if k <= max_levels):
        for dec in SEARCH_SPACE["decoder_block"]:
            per_net = len(SEARCH_SPACE["skip"]) * len(SEARCH_SPACE["up"])
            for i in range(n):
                count = 0
                for depth in SEARCH_SPACE["depth"][i]:
                    for block in (SEARCH_SPACE["block"] if depth else ("ir",)):
                        used = _used({"depth": depth, "block": block}, i, n, dec)
                        count += (n_kernel if used["kernel"] else 1) * (n_expand if used["expand"] else 1)
                per_net *= len(SEARCH_SPACE["width"][i]) * count
            total += per_net
    return total
