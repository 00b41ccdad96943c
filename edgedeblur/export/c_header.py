"""Write a model's I/O contract (and optionally the model bytes) as a C header for firmware.

Why: camera firmware has no JSON parser and often no file system. The header carries what
``firmware/`` (the C library) needs from the manifest as compile-time constants, plus an
``EDB_MODEL_CONTRACT_INIT`` initializer for ``edb_contract``, and the model's sha256 so the
device can refuse a model that is out of step with the header (``edb_verify_model``). With
``embed_model`` the model file (and an OpenVINO ``.bin``) become 64-byte aligned arrays.

Only the standard library and :mod:`edgedeblur.runtime.manifest` are imported: this runs on
any build machine.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from ..errors import ArtifactError, ExportError, OutputPathError
from ..io import atomic_write
from ..runtime.manifest import Manifest, TensorSpec

__all__ = ["DEFAULT_MAX_PIXELS", "DEFAULT_DYNAMIC_TILE", "c_contract", "render_c_header", "write_c_header"]

#: the runtime's Runner defaults, so the C library makes the same tiling decision
DEFAULT_MAX_PIXELS = 2_000_000
DEFAULT_DYNAMIC_TILE = (512, 32)
_DTYPES = {"float32": "EDB_DTYPE_FLOAT32", "int8": "EDB_DTYPE_INT8", "uint8": "EDB_DTYPE_UINT8"}
_BYTES_PER_LINE = 16


def _f32_literal(value: float) -> str:
    """The float32 nearest ``value`` as a C literal that parses back to exactly that float."""
    f32 = struct.unpack("<f", struct.pack("<f", value))[0]
    text = f"{f32:.9g}"
    if not re.search(r"[.eE]", text):
        text += ".0"
    return text + "f"


def _check_tensor(spec: TensorSpec, which: str, path: Path) -> None:
    if spec.dtype not in _DTYPES:
        raise ExportError(
            f"the C library has no {spec.dtype} tensors (io.{which})", path=path,
            given=spec.dtype, allowed=", ".join(_DTYPES),
            hint="export a float32 or INT8 variant (edge-export --target ...) for firmware",
        )
    if spec.range != (0.0, 1.0):
        raise ExportError(f"io.{which}.range must be [0, 1] for the C library", path=path,
                          given=list(spec.range), allowed="[0.0, 1.0]")


def c_contract(manifest: Manifest, *, max_pixels: int = DEFAULT_MAX_PIXELS, tile: int | None = None,
               overlap: int | None = None) -> dict:
    """The values of ``edb_contract`` for ``manifest`` (the same tiling rules as the Runner).

    ``tile``/``overlap`` override the manifest's for dynamic-H/W models (the Runner's options of
    the same name): a smaller tile is less working memory on the device.
    """
    ins, outs = manifest.input, manifest.output
    if manifest.conditioning or ins.channels != outs.channels:
        raise ExportError("the C library has no noise-map input: a deblur pipeline prior (RGB + noise map, "
                          f"{ins.channels} channels in) runs in the Python runtime only", path=manifest.path,
                          given=f"{ins.channels} channels in, {outs.channels} out",
                          allowed="a model with the same channels in and out",
                          hint="use edgedeblur.runtime.load_pipeline, or export a blind zoo model for firmware")
    for spec, which in ((ins, "input"), (outs, "output")):
        _check_tensor(spec, which, manifest.path)
    if max_pixels < 0:
        raise ExportError("max_pixels must be >= 0", given=max_pixels, allowed="0 (always tile) or more")
    default = manifest.tile or DEFAULT_DYNAMIC_TILE
    if not manifest.dynamic_hw and tile not in (None, ins.height):
        raise ExportError("a fixed-shape model is tiled at its input size", path=manifest.path,
                          given=tile, allowed=ins.height, hint="drop --tile for this model")
    tile = int(tile or default[0])
    overlap = int(default[1] if overlap is None else overlap)
    if tile % manifest.pad_multiple or not 0 <= 2 * overlap < tile:
        raise ExportError("tile must be a multiple of pad_multiple and 0 <= overlap < tile / 2",
                          path=manifest.path, given=f"tile={tile}, overlap={overlap}",
                          allowed=f"tile a multiple of {manifest.pad_multiple}")
    return {
        "channels": ins.channels,
        "model_h": 0 if manifest.dynamic_hw else ins.height,
        "model_w": 0 if manifest.dynamic_hw else ins.width,
        "tile_size": tile,
        "max_pixels": max_pixels,
        "tile_overlap": overlap,
        "pad_multiple": manifest.pad_multiple,
        "input": ins,
        "output": outs,
        "sha256": manifest.data["artifact"]["sha256"],
    }


def _tensor_init(spec: TensorSpec) -> str:
    q = spec.quantized
    return (f"{{{_DTYPES[spec.dtype]}, EDB_LAYOUT_{spec.layout}, "
            f"{_f32_literal(spec.scale) if q else '0.0f'}, {spec.zero_point if q else 0}, 0.0f, 1.0f}}")


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tensor_macros(prefix: str, spec: TensorSpec) -> list[str]:
    q = spec.quantized
    return [
        f"#define {prefix}_NAME {_c_string(spec.name)}",
        f"#define {prefix}_SHAPE {{{', '.join(str(s) for s in spec.shape)}}} /* {spec.layout}, -1 = dynamic */",
        f"#define {prefix}_LAYOUT EDB_LAYOUT_{spec.layout}",
        f"#define {prefix}_DTYPE {_DTYPES[spec.dtype]}",
        f"#define {prefix}_SCALE {_f32_literal(spec.scale) if q else '0.0f'}",
        f"#define {prefix}_ZERO_POINT {spec.zero_point if q else 0}",
    ]


def _byte_array(name: str, data: bytes) -> list[str]:
    lines = [f"static const unsigned char {name}[{max(len(data), 1)}] EDB_MODEL_ALIGNED = {{"]
    for i in range(0, len(data), _BYTES_PER_LINE):
        lines.append("    " + ",".join(f"0x{b:02x}" for b in data[i:i + _BYTES_PER_LINE]) + ",")
    lines.append("};")
    return lines


def render_c_header(manifest: Manifest, *, embed_model: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS,
                    tile: int | None = None, overlap: int | None = None) -> str:
    """The header text for ``manifest`` (see the module docstring)."""
    c = c_contract(manifest, max_pixels=max_pixels, tile=tile, overlap=overlap)
    art = manifest.data["artifact"]
    ins, outs = c["input"], c["output"]
    lines = [
        f"/* {manifest.name}: model I/O contract for the edgedeblur firmware library.",
        f" * Generated by edgedeblur-c-header from {manifest.path.name}; do not edit, regenerate.",
        " * Use: static const edb_contract contract = EDB_MODEL_CONTRACT_INIT;",
        " * Embedded data (if any) is compiled only where EDB_MODEL_EMBED_DATA is defined before",
        " * the #include, so include it that way in exactly one .c file. */",
        "#ifndef EDB_MODEL_CONTRACT_H",
        "#define EDB_MODEL_CONTRACT_H",
        "",
        '#include "edgedeblur/edb.h"',
        "",
        f"#define EDB_MODEL_NAME {_c_string(manifest.name)}",
        f"#define EDB_MODEL_TASK {_c_string(manifest.data['model']['task'])}",
        f"#define EDB_MODEL_FORMAT {_c_string(manifest.format)}",
        f"#define EDB_MODEL_PRECISION {_c_string(manifest.precision)}",
        f"#define EDB_MODEL_FILE {_c_string(art['file'])}",
        f"#define EDB_MODEL_FILE_BYTES {int(art['bytes'])}u",
        f"#define EDB_MODEL_SHA256 {_c_string(art['sha256'])}",
    ]
    if art.get("weights_file"):
        lines += [f"#define EDB_MODEL_WEIGHTS_FILE {_c_string(art['weights_file'])}",
                  f"#define EDB_MODEL_WEIGHTS_SHA256 {_c_string(art.get('weights_sha256') or '')}"]
    lines += ["", f"#define EDB_MODEL_CHANNELS {c['channels']}",
              f"#define EDB_MODEL_DYNAMIC_HW {int(manifest.dynamic_hw)}"]
    lines += _tensor_macros("EDB_MODEL_INPUT", ins) + _tensor_macros("EDB_MODEL_OUTPUT", outs)
    lines += [
        f"#define EDB_MODEL_TILE_SIZE {c['tile_size']}",
        f"#define EDB_MODEL_TILE_OVERLAP {c['tile_overlap']}",
        f"#define EDB_MODEL_PAD_MULTIPLE {c['pad_multiple']}",
        f"#define EDB_MODEL_MAX_PIXELS {c['max_pixels']} /* dynamic models run whole frames up to this */",
        "",
        "#define EDB_MODEL_CONTRACT_INIT { \\",
        "    EDB_ABI_VERSION, EDB_MODEL_CHANNELS, "
        f"{c['model_h']}, {c['model_w']}, EDB_MODEL_TILE_SIZE, EDB_MODEL_MAX_PIXELS, \\",
        "    EDB_MODEL_TILE_OVERLAP, EDB_MODEL_PAD_MULTIPLE, \\",
        f"    {_tensor_init(ins)}, \\",
        f"    {_tensor_init(outs)}, \\",
        "    EDB_MODEL_SHA256 }",
    ]
    if embed_model:
        lines += _embedded(manifest)
    lines += ["", "#endif /* EDB_MODEL_CONTRACT_H */", ""]
    return "\n".join(lines)


def _embedded(manifest: Manifest) -> list[str]:
    manifest.verify_files()  # never embed a file that differs from its manifest
    lines = [
        "",
        "#if defined(__GNUC__) || defined(__clang__)",
        "#define EDB_MODEL_ALIGNED __attribute__((aligned(64)))",
        "#else",
        "#define EDB_MODEL_ALIGNED /* add your compiler's 64-byte alignment attribute */",
        "#endif",
        "#define EDB_MODEL_HAS_DATA 1",
        "#ifdef EDB_MODEL_EMBED_DATA",
    ]
    data = manifest.artifact_path.read_bytes()
    lines += _byte_array("edb_model_data", data)
    lines.append(f"#define EDB_MODEL_DATA_SIZE {len(data)}u")
    if manifest.weights_path is not None:
        weights = manifest.weights_path.read_bytes()
        lines += _byte_array("edb_model_weights", weights)
        lines.append(f"#define EDB_MODEL_WEIGHTS_SIZE {len(weights)}u")
    lines.append("#endif /* EDB_MODEL_EMBED_DATA */")
    return lines


def write_c_header(manifest_or_artifact: str | Path, out: str | Path, *, embed_model: bool = False,
                   max_pixels: int = DEFAULT_MAX_PIXELS, tile: int | None = None,
                   overlap: int | None = None) -> Path:
    """Read and validate a manifest, render its header and write ``out`` atomically."""
    manifest = Manifest.read(manifest_or_artifact)
    out = Path(out)
    if out.suffix not in (".h", ".hpp"):
        raise OutputPathError("the output should be a C header", path=out, given=out.suffix or "(none)",
                              allowed=".h", hint="e.g. -o model_contract.h")
    if not out.parent.exists():
        raise OutputPathError("output folder does not exist", path=out, hint=f"mkdir -p {out.parent}")
    inputs = [manifest.path, manifest.artifact_path] + ([manifest.weights_path] if manifest.weights_path else [])
    if any(out.resolve() == Path(p).resolve() for p in inputs):
        raise OutputPathError("output path is one of the model's files", path=out,
                              hint="choose another name with -o")
    try:
        text = render_c_header(manifest, embed_model=embed_model, max_pixels=max_pixels, tile=tile,
                               overlap=overlap)
    except OSError as exc:
        raise ArtifactError(f"cannot read the model to embed ({exc})", path=manifest.artifact_path) from exc
    return atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
