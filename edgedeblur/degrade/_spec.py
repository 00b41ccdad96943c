"""Degradation specs: the data that says how to degrade an image, and its CLI spec strings.

A spec is plain data (frozen dataclasses) so recipes can store it and any degraded pair can be
reproduced from the spec and a seed. Spec strings look like ``shake:size=31``,
``motion:length=15,angle=30``, ``gaussian:sigma=0-50``; a value ``lo-hi`` is drawn uniformly
per image, and ``a|b`` is a mixture (one alternative drawn per image, ``@w`` gives a weight).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = [
    "BlurSpec",
    "NoiseSpec",
    "Degradation",
    "parse_blur",
    "parse_noise",
    "parse_jpeg",
    "parse_degradation",
    "paper_awgn",
    "BLUR_FORMS",
    "NOISE_FORMS",
    "KERNEL_SETS",
]

Value = float | tuple[float, float]

# kind -> {parameter: (default, low, high, integer)}; default None means "drawn by the generator".
_BLUR_PARAMS: dict[str, dict[str, tuple[Value | None, float, float, bool]]] = {
    "none": {},
    "shake": {"size": (31, 3, 201, True), "anxiety": (None, 1e-4, 1.0, False),
              "extent": (None, 0.05, 1.0, False), "exposure": (None, 0.05, 1.0, False),
              "speed": (None, 0.0, 1.0, False)},
    "motion": {"length": (15, 0, 200, False), "angle": ((0.0, 180.0), -360, 360, False),
               "size": (None, 1, 201, True)},
    "defocus": {"radius": (3, 0, 100, False), "size": (None, 1, 201, True)},
    "gaussian": {"sigma": (None, 0.01, 50, False), "sx": (None, 0.01, 50, False),
                 "sy": (None, 0.01, 50, False), "theta": (0.0, -360, 360, False),
                 "size": (None, 1, 301, True)},
    "file": {"index": (None, 1, 10_000, True)},
}
# Named folders of real kernels under the shared data folder (see kernel_set_dir()).
KERNEL_SETS = {"levin": "kernels/levin09", "usrnet": "kernels/usrnet12", "usrnet-large": "kernels/usrnet_large"}
for _name in KERNEL_SETS:
    _BLUR_PARAMS[_name] = {"index": (None, 1, 10_000, True)}

_NOISE_PARAMS: dict[str, dict[str, tuple[Value | None, float, float, bool]]] = {
    "none": {},
    "gaussian": {"sigma": (25, 0, 255, False)},
    "poisson-gaussian": {"gain": (0.01, 0, 1, False), "read": (0.002, 0, 1, False)},
}

BLUR_FORMS = (
    "none | shake:size=31[,anxiety=0.002-0.03,extent=0.3-1,exposure=0.5-1,speed=0-1] | "
    "motion:length=15,angle=30 | "
    "defocus:radius=4 | gaussian:sigma=2 | gaussian:sx=3,sy=1,theta=30 | file:/path/k.npy | "
    "file:/path/folder | levin | levin:index=3 | usrnet | usrnet-large; "
    "any value may be a range lo-hi; join alternatives with | and weight them with @w"
)
NOISE_FORMS = (
    "none | gaussian:sigma=25 (0-255 scale) | gaussian:sigma=0-50 | "
    "poisson-gaussian:gain=0.01,read=0.002 ([0,1] scale: variance = gain*x + read^2)"
)

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE_RE = re.compile(rf"^({_NUMBER})-({_NUMBER})$")
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")


def _fmt(value: Value) -> str:
    if isinstance(value, tuple):
        return f"{_fmt(value[0])}-{_fmt(value[1])}"
    return f"{value:g}" if float(value) != int(value) or abs(value) >= 1e6 else str(int(value))


@dataclass(frozen=True)
class _Part:
    """One alternative of a blur or noise mixture: a kind, its parameters and a weight."""

    kind: str
    params: tuple[tuple[str, Value], ...] = ()
    path: str | None = None
    weight: float = 1.0

    def get(self, name: str) -> Value | None:
        """The parameter value, or its default, or None."""
        for key, value in self.params:
            if key == name:
                return value
        table = _BLUR_PARAMS if isinstance(self, BlurSpec) else _NOISE_PARAMS
        return table.get(self.kind, {}).get(name, (None,))[0]

    def to_string(self) -> str:
        """The spec string that parses back to this alternative."""
        text = self.kind
        if self.kind == "file":
            text += f":{self.path}"
            if self.params:
                text += "," + ",".join(f"{k}={_fmt(v)}" for k, v in self.params)
        elif self.params:
            text += ":" + ",".join(f"{k}={_fmt(v)}" for k, v in self.params)
        return text + (f"@{self.weight:g}" if self.weight != 1.0 else "")


@dataclass(frozen=True)
class BlurSpec(_Part):
    """A blur alternative, e.g. ``BlurSpec('motion', (('length', 15.0), ('angle', (0.0, 180.0))))``."""


@dataclass(frozen=True)
class NoiseSpec(_Part):
    """A noise alternative, e.g. ``NoiseSpec('gaussian', (('sigma', 25.0),))`` (0-255 scale)."""


@dataclass(frozen=True)
class Degradation:
    """The full degradation recipe; ``degrade(image, spec, seed)`` applies it.

    ``blur`` and ``noise`` are mixtures: one alternative is drawn per image (empty = none).
    ``linear`` runs blur and noise in linear light like a camera (sRGB -> linear -> blur ->
    noise -> sRGB); ``clip`` clips to [0, 1] after the noise (sensor saturation); ``quantize``
    rounds to 8 bit; ``jpeg`` is a quality (or ``(lo, hi)`` range) for a JPEG round trip.
    """

    blur: tuple[BlurSpec, ...] = ()
    noise: tuple[NoiseSpec, ...] = ()
    jpeg: int | tuple[int, int] | None = None
    linear: bool = True
    clip: bool = True
    quantize: bool = True
    border: str = "reflect"

    def __post_init__(self) -> None:
        blur = _as_parts(self.blur, parse_blur, BlurSpec, "blur")
        noise = _as_parts(self.noise, parse_noise, NoiseSpec, "noise")
        object.__setattr__(self, "blur", blur)
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "jpeg", parse_jpeg(self.jpeg))
        if self.border not in ("reflect", "symmetric", "wrap", "constant"):
            raise ConfigError("unknown border mode", given=self.border, allowed="reflect, symmetric, wrap, constant")

    @property
    def blur_string(self) -> str:
        return "|".join(b.to_string() for b in self.blur) or "none"

    @property
    def noise_string(self) -> str:
        return "|".join(n.to_string() for n in self.noise) or "none"

    def to_dict(self) -> dict[str, object]:
        """Plain data (strings, numbers, booleans) for JSON/YAML; ``from_dict`` reverses it."""
        jpeg = list(self.jpeg) if isinstance(self.jpeg, tuple) else self.jpeg
        return {"blur": self.blur_string, "noise": self.noise_string, "jpeg": jpeg,
                "linear": self.linear, "clip": self.clip, "quantize": self.quantize, "border": self.border}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Degradation:
        """Build from ``to_dict()`` output (or a recipe's YAML section); unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise ConfigError("a degradation must be a mapping", given=type(data).__name__,
                              allowed="{blur, noise, jpeg, linear, clip, quantize, border}")
        known = {"blur", "noise", "jpeg", "linear", "clip", "quantize", "border"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError("unknown degradation keys", given=", ".join(sorted(unknown)), allowed=", ".join(sorted(known)))
        jpeg = data.get("jpeg")
        if isinstance(jpeg, list):
            jpeg = tuple(jpeg)
        flags = {k: data[k] for k in ("linear", "clip", "quantize") if k in data}
        for key, value in flags.items():
            if not isinstance(value, bool):
                raise ConfigError(f"degradation {key} must be true or false", given=value)
        return cls(blur=data.get("blur") or (), noise=data.get("noise") or (), jpeg=jpeg,
                   border=str(data.get("border", "reflect")), **flags)


def _as_parts(value: object, parser, cls: type, what: str) -> tuple:  # noqa: ANN001
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return parser(value)
    if isinstance(value, cls):
        return (value,)
    if isinstance(value, (list, tuple)):
        parts: list = []
        for item in value:
            parts.extend(_as_parts(item, parser, cls, what))
        return tuple(parts)
    raise ConfigError(f"{what} must be a spec string or a list of them", given=repr(value),
                      allowed=BLUR_FORMS if what == "blur" else NOISE_FORMS)


def _parse_value(kind: str, key: str, text: str, limits: tuple, forms: str) -> Value:
    _, low, high, _integer = limits
    match = _RANGE_RE.match(text)
    if match:
        value: Value = (float(match.group(1)), float(match.group(2)))
        if value[0] > value[1]:
            raise ConfigError(f"range for {kind} {key} is reversed", given=text, hint=f"write {_fmt(value[1])}-{_fmt(value[0])}")
        ends = value
    elif _NUMBER_RE.match(text):
        value = float(text)
        ends = (value, value)
    else:
        raise ConfigError(f"{kind} {key} must be a number or a range lo-hi", given=text, allowed=forms)
    for end in ends:
        if not (math.isfinite(end) and low <= end <= high):
            hint = None
            if key == "read" and end > 1:
                hint = f"read noise is on the [0,1] scale: did you mean read={end / 255:.4g}?"
            raise ConfigError(f"{kind} {key} out of range", given=text, allowed=f"{_fmt(low)} to {_fmt(high)}", hint=hint)
    return value


def _parse_part(text: str, table: dict, cls: type, forms: str) -> _Part:
    text = text.strip()
    weight = 1.0
    if "@" in text:
        head, _, tail = text.rpartition("@")
        if _NUMBER_RE.match(tail.strip()):
            weight = float(tail)
            text = head.strip()
            if not (math.isfinite(weight) and weight > 0):
                raise ConfigError("mixture weight must be > 0", given=tail, allowed=forms)
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind not in table:
        from ..errors import suggest

        close = suggest(kind, table)
        raise ConfigError(f"unknown {'blur' if cls is BlurSpec else 'noise'} kind", given=kind or text, allowed=forms,
                          hint=f"did you mean {close!r}?" if close else None)
    path = None
    if kind == "file":
        path, _, rest = rest.partition(",") if ",index=" in rest else (rest, "", "")
        path = path.strip()
        if not path:
            raise ConfigError("file: needs a path", given=text, allowed="file:/path/k.npy or file:/path/folder")
    params: dict[str, Value] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, val = item.partition("=")
        key = key.strip().lower()
        if not eq or key not in table[kind]:
            allowed = ", ".join(table[kind]) or "no parameters"
            raise ConfigError(f"bad parameter for {kind}", given=item, allowed=f"{allowed} (forms: {forms})")
        if key in params:
            raise ConfigError(f"{kind} {key} given twice", given=text)
        params[key] = _parse_value(kind, key, val.strip(), table[kind][key], forms)
    if kind == "gaussian" and "sigma" in params and ({"sx", "sy"} & set(params)):
        raise ConfigError("gaussian takes sigma or sx,sy, not both", given=text, allowed=forms)
    if kind == "gaussian" and not params.get("sigma") and not ("sx" in params and "sy" in params):
        if {"sx", "sy"} & set(params):
            raise ConfigError("anisotropic gaussian needs both sx and sy", given=text, allowed=forms)
        params["sigma"] = 2.0
    ordered = tuple((k, params[k]) for k in table[kind] if k in params)
    return cls(kind=kind, params=ordered, path=path, weight=weight)


def parse_blur(text: str) -> tuple[BlurSpec, ...]:
    """Parse a ``--blur`` spec string (see ``BLUR_FORMS``) into its alternatives."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("empty blur spec", given=repr(text), allowed=BLUR_FORMS)
    parts = tuple(_parse_part(p, _BLUR_PARAMS, BlurSpec, BLUR_FORMS) for p in text.split("|"))
    return () if all(p.kind == "none" for p in parts) and len(parts) == 1 else parts


def parse_noise(text: str) -> tuple[NoiseSpec, ...]:
    """Parse a ``--noise`` spec string (see ``NOISE_FORMS``) into its alternatives."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("empty noise spec", given=repr(text), allowed=NOISE_FORMS)
    parts = tuple(_parse_part(p, _NOISE_PARAMS, NoiseSpec, NOISE_FORMS) for p in text.split("|"))
    return () if all(p.kind == "none" for p in parts) and len(parts) == 1 else parts


def parse_jpeg(value: object) -> int | tuple[int, int] | None:
    """``None``/``0`` (no JPEG), a quality 1-100, or a range ``"70-95"`` / ``(70, 95)``."""
    if value is None or value == 0 or value == "none":
        return None
    allowed = "a quality 1-100 (e.g. 90) or a range like 70-95"
    if isinstance(value, str):
        match = _RANGE_RE.match(value.strip())
        if match:
            value = (match.group(1), match.group(2))
    try:
        if isinstance(value, (tuple, list)) and len(value) == 2:
            lo, hi = int(float(value[0])), int(float(value[1]))
            result: int | tuple[int, int] = (lo, hi)
        elif isinstance(value, bool):
            raise ValueError
        else:
            lo = hi = int(float(value))  # type: ignore[arg-type]
            result = lo
    except (TypeError, ValueError) as exc:
        raise ConfigError("bad JPEG quality", given=repr(value), allowed=allowed) from exc
    if not (1 <= lo <= hi <= 100):
        raise ConfigError("JPEG quality out of range", given=repr(value), allowed=allowed)
    return result


def parse_degradation(
    blur: str | None = None,
    noise: str | None = None,
    jpeg: int | str | None = None,
    *,
    linear: bool = True,
    clip: bool = True,
    quantize: bool = True,
    border: str = "reflect",
) -> Degradation:
    """Build a camera-order :class:`Degradation` from CLI spec strings (``None`` = not applied)."""
    return Degradation(
        blur=parse_blur(blur) if blur is not None else (),
        noise=parse_noise(noise) if noise is not None else (),
        jpeg=jpeg, linear=linear, clip=clip, quantize=quantize, border=border,
    )


def paper_awgn(sigma: float) -> Degradation:
    """The published denoising protocol: white Gaussian noise of ``sigma`` (0-255 scale) added
    in float to the [0, 1] image; no blur, gamma, clipping or quantisation."""
    try:
        sigma = float(sigma)
    except (TypeError, ValueError) as exc:
        raise ConfigError("sigma must be a number (0-255 scale)", given=repr(sigma)) from exc
    if not (math.isfinite(sigma) and 0 <= sigma <= 255):
        raise ConfigError("sigma out of range", given=sigma, allowed="0 to 255 (0-255 scale)")
    return Degradation(noise=(NoiseSpec("gaussian", (("sigma", sigma),)),), linear=False, clip=False, quantize=False)
