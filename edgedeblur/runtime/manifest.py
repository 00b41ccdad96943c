"""The artifact manifest: read, validate, write (the I/O contract in ``docs/manifest.md``).

Every exported model ``x.<suffix>`` has ``x.manifest.json`` beside it. The runtime reads
everything it needs from it (layout, dtype, quantization, padding multiple, tile size) and never
guesses from file names. Validation is the schema (``manifest.schema.json``, checked by a
pure-python checker so the runtime needs no ``jsonschema``) plus the rules the schema cannot say
(integer tensors need scale/zero point, fixed shapes must match the tile size, a 4-channel
input is RGB + a noise map declared by ``io.conditioning``, a ``pipeline`` section is what
:meth:`edgedeblur.runtime.pipeline.PipelineConfig.from_dict` accepts, ...). Only the standard
library is imported at import time (the pipeline checks import numpy when a manifest has them),
so exporters and devices share this module.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ArtifactError
from ..io import atomic_write
from ._schema_check import schema_errors

__all__ = [
    "SCHEMA_PATH",
    "TensorSpec",
    "Manifest",
    "manifest_path_for",
    "sha256_file",
    "validate_manifest",
    "write_manifest",
]

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
MANIFEST_SUFFIX = ".manifest.json"
_INT_DTYPES = ("int8", "uint8", "int16")
_INT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The manifest JSON Schema shipped with the package."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output as the manifest describes it."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    layout: str
    range: tuple[float, float]
    colour: str
    scale: float | None
    zero_point: int | None

    @classmethod
    def from_dict(cls, d: dict) -> TensorSpec:
        return cls(
            name=d["name"],
            shape=tuple(int(s) for s in d["shape"]),
            dtype=d["dtype"],
            layout=d["layout"],
            range=(float(d["range"][0]), float(d["range"][1])),
            colour=d["colour"],
            scale=None if d.get("scale") is None else float(d["scale"]),
            zero_point=None if d.get("zero_point") is None else int(d["zero_point"]),
        )

    def _dim(self, axis: str) -> int | None:
        value = self.shape[self.layout.index(axis)]
        return None if value < 0 else value

    @property
    def channels(self) -> int | None:
        return self._dim("C")

    @property
    def height(self) -> int | None:
        return self._dim("H")

    @property
    def width(self) -> int | None:
        return self._dim("W")

    @property
    def batch(self) -> int | None:
        return self._dim("N")

    @property
    def quantized(self) -> bool:
        return self.dtype in _INT_DTYPES


def manifest_path_for(artifact_path: str | Path) -> Path:
    """``model.int8.tflite`` -> ``model.int8.manifest.json`` (only the last suffix is replaced)."""
    p = Path(artifact_path)
    if p.name.endswith(MANIFEST_SUFFIX):
        return p
    return p.with_name(p.stem + MANIFEST_SUFFIX)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed (artifacts can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _noise_map_scale() -> float:
    """The runtime's noise-map scale (imported lazily: this module stays standard-library only)."""
    from .pipeline import NOISE_MAP_SCALE

    return NOISE_MAP_SCALE


def _conditioning_errors(io: dict, ins: TensorSpec, outs: TensorSpec) -> list[str]:
    """A 4-channel input is RGB + a noise-level map, and only with ``io.conditioning`` saying so."""
    cond = io.get("conditioning")
    if ins.channels == 4:
        if outs.channels != 3:
            return [f"io: a 4-channel input (RGB + noise map) needs a 3-channel output, got {outs.channels}"]
        if not cond:
            return ["io.input has 4 channels but io.conditioning is missing: a 4-channel input is only "
                    "RGB + a noise-level map, declared as io.conditioning = "
                    f"{{\"noise_map\": {{\"channel\": 3, \"scale\": {_noise_map_scale()}}}}}"]
        nm = cond["noise_map"]
        errors = []
        if nm["channel"] != 3:
            errors.append(f"io.conditioning.noise_map.channel must be 3 (after RGB), got {nm['channel']}")
        expected = _noise_map_scale()
        if abs(float(nm["scale"]) - expected) > 1e-9 * max(1.0, expected):
            errors.append(f"io.conditioning.noise_map.scale {nm['scale']} differs from this runtime's "
                          f"{expected} (re-export the prior with this edgedeblur version)")
        return errors
    if cond:
        return [f"io.conditioning is only for a 4-channel input (RGB + noise map), input has {ins.channels}"]
    if ins.channels != outs.channels:
        return [f"io: input has {ins.channels} channels but output has {outs.channels}"]
    return []


def _pipeline_errors(data: dict, ins: TensorSpec) -> list[str]:
    """The optional top-level ``pipeline`` section: what ``PipelineConfig.from_dict`` accepts."""
    section = data.get("pipeline")
    if section is None:
        return []
    from ..errors import EdgeDeblurError
    from .pipeline import PipelineConfig

    errors = []
    if ins.channels != 4:
        errors.append(f"pipeline: a deblur pipeline needs a prior taking RGB + a noise map (4 input "
                      f"channels), io.input has {ins.channels}")
    try:
        PipelineConfig.from_dict(section)
    except (EdgeDeblurError, TypeError, ValueError) as exc:
        errors.append(f"pipeline: {exc}")
    return errors


def _rule_errors(data: dict) -> list[str]:
    """Checks the JSON Schema cannot express."""
    errors: list[str] = []
    io = data["io"]
    for key in ("input", "output"):
        t = io[key]
        if t["dtype"] in _INT_DTYPES and (t.get("scale") is None or t.get("zero_point") is None):
            errors.append(f"io.{key}: dtype {t['dtype']} needs 'scale' and 'zero_point'")
        if t["dtype"] not in _INT_DTYPES and (t.get("scale") is not None or t.get("zero_point") is not None):
            errors.append(f"io.{key}: float dtype {t['dtype']} must have scale/zero_point null")
        lo, hi = _INT_RANGE.get(t["dtype"], (0, 0))
        zp = t.get("zero_point")
        if t["dtype"] in _INT_DTYPES and zp is not None and not lo <= zp <= hi:
            errors.append(f"io.{key}.zero_point: {zp} outside [{lo}, {hi}] for {t['dtype']}")
        spec = TensorSpec.from_dict(t)
        allowed = (1, 3, 4) if key == "input" else (1, 3)
        if spec.channels not in allowed:
            errors.append(f"io.{key}.shape: channel dim must be {' or '.join(map(str, allowed))}"
                          f"{' (4: RGB + a noise map, with io.conditioning)' if key == 'input' else ''}, "
                          f"got {spec.channels}")
        if t["range"][1] <= t["range"][0]:
            errors.append(f"io.{key}.range: must be [low, high] with low < high")
    ins, outs = TensorSpec.from_dict(io["input"]), TensorSpec.from_dict(io["output"])
    errors += _conditioning_errors(io, ins, outs)
    errors += _pipeline_errors(data, ins)
    fixed = ins.height is not None and ins.width is not None
    if io["dynamic_hw"] == fixed:
        errors.append(
            f"io.dynamic_hw is {io['dynamic_hw']} but input H/W are {ins.height}/{ins.width} "
            "(use -1 for dynamic dimensions)"
        )
    tile = io.get("tile")
    if fixed and not io["dynamic_hw"]:
        if ins.height != ins.width:
            errors.append(f"io.input: fixed H/W must be square for tiling, got {ins.height}x{ins.width}")
        if tile is None or tile["size"] != ins.height:
            errors.append(f"io.tile.size must equal the fixed input size {ins.height}, got {tile}")
    if tile is not None:
        if tile["overlap"] * 2 >= tile["size"]:
            errors.append(f"io.tile.overlap {tile['overlap']} must be < half of size {tile['size']}")
        if tile["size"] % io["pad_multiple"]:
            errors.append(f"io.tile.size {tile['size']} must be a multiple of pad_multiple {io['pad_multiple']}")
    return errors


def validate_manifest(data: Any, path: str | Path | None = None) -> None:
    """Raise :class:`ArtifactError` listing every problem of a manifest dict (schema + rules)."""
    errors = schema_errors(data, load_schema())
    if not errors:
        errors = _rule_errors(data)
    if errors:
        raise ArtifactError(
            "invalid manifest: " + "; ".join(errors[:8]) + (f" (+{len(errors) - 8} more)" if len(errors) > 8 else ""),
            path=path,
            allowed=f"a manifest following {SCHEMA_PATH.name} (see docs/manifest.md)",
            hint="re-export the model with edge-export, or fix the listed fields",
        )


def write_manifest(path: str | Path, data: dict) -> Path:
    """Validate ``data`` and write it to ``path`` atomically (temp file + rename)."""
    path = Path(path)
    validate_manifest(data, path)
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


@dataclass(frozen=True)
class Manifest:
    """A validated manifest and the artifact it describes."""

    path: Path
    data: dict

    @classmethod
    def read(cls, path: str | Path) -> Manifest:
        """Read and validate ``path`` (a ``*.manifest.json`` or the artifact beside it)."""
        path = manifest_path_for(path)
        if not path.is_file():
            raise ArtifactError(
                "manifest not found", path=path,
                hint="every artifact needs its <stem>.manifest.json beside it; re-export with edge-export",
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"manifest is not valid JSON ({exc})", path=path) from exc
        validate_manifest(data, path)
        return cls(path=path, data=data)

    @property
    def artifact_path(self) -> Path:
        return self.path.parent / self.data["artifact"]["file"]

    @property
    def weights_path(self) -> Path | None:
        name = self.data["artifact"].get("weights_file")
        return None if not name else self.path.parent / name

    @property
    def format(self) -> str:
        return self.data["artifact"]["format"]

    @property
    def precision(self) -> str:
        return self.data["artifact"]["precision"]

    @property
    def preferred_backend(self) -> str | None:
        return self.data["artifact"].get("backend")

    @property
    def name(self) -> str:
        return self.data["model"]["name"]

    @property
    def input(self) -> TensorSpec:
        return TensorSpec.from_dict(self.data["io"]["input"])

    @property
    def output(self) -> TensorSpec:
        return TensorSpec.from_dict(self.data["io"]["output"])

    @property
    def dynamic_hw(self) -> bool:
        return bool(self.data["io"]["dynamic_hw"])

    @property
    def pad_multiple(self) -> int:
        return int(self.data["io"]["pad_multiple"])

    @property
    def conditioning(self) -> dict | None:
        """``io.conditioning`` (``{"noise_map": {"channel": 3, "scale": ...}}``) of a 4-channel prior."""
        return self.data["io"].get("conditioning") or None

    @property
    def pipeline(self) -> dict | None:
        """The top-level ``pipeline`` section (``PipelineConfig.to_dict()``), validated on read."""
        return self.data.get("pipeline") or None

    @property
    def tile(self) -> tuple[int, int] | None:
        t = self.data["io"].get("tile")
        return None if t is None else (int(t["size"]), int(t["overlap"]))

    @property
    def receptive_field(self) -> dict | None:
        """``io.receptive_field`` probed at export (None in manifests written before it existed)."""
        return self.data["io"].get("receptive_field") or None

    @property
    def field_overlap(self) -> int | None:
        """The tile overlap chosen from the receptive field at export, if recorded."""
        rf = self.receptive_field
        return None if rf is None else int(rf["overlap"])

    def verify_files(self) -> None:
        """Refuse an artifact that is missing, truncated or differs from the manifest's sha256."""
        art = self.data["artifact"]
        checks = [(self.artifact_path, art["sha256"], art.get("bytes"))]
        if self.weights_path is not None:
            checks.append((self.weights_path, art.get("weights_sha256"), None))
        for file, expected, size in checks:
            if not file.is_file():
                raise ArtifactError("artifact file named in the manifest is missing", path=file,
                                    hint=f"it must sit beside {self.path.name}")
            actual_size = file.stat().st_size
            if size is not None and actual_size != size:
                raise ArtifactError("artifact size differs from the manifest (truncated or replaced?)",
                                    path=file, given=actual_size, allowed=size,
                                    hint="re-copy or re-export the artifact")
            if expected and sha256_file(file) != expected:
                raise ArtifactError("artifact sha256 differs from the manifest (corrupt or replaced)",
                                    path=file, hint="re-copy or re-export the artifact")
