"""Write the golden vectors that the Android core (android-demo/core) and the browser demo must match.

Why: the app re-implements the runtime's tile grid, blend window, quantization, padding and
layout handling in Java/JavaScript. These vectors come from the Python runtime itself
(``edgedeblur.runtime``), so a port that drifts from it fails its unit tests.

Outputs (``tests/golden/``):
- ``tiling.json``: ``axis_starts``/``tile_grid`` for many (h, w, tile, overlap) and ``blend_ramp``.
- ``quant.json``: ``Runner.to_model``/``from_model`` on int8 and uint8 specs, half-way values included.
- ``restore.json``: whole-image ``Runner.restore`` results for four manifests (int8 NHWC fixed,
  uint8 NCHW grey, float32 dynamic) through a deterministic integer "model" that shifts each
  value by an amount depending on its position inside the tile, so seams and blending show.

Run: ``.venv/bin/python benchmarks/make_golden_vectors.py [--check]`` (``--check`` compares with
the committed files instead of writing, and exits 1 on a difference).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from edgedeblur.runtime import Manifest, Runner, blend_ramp, tile_grid, validate_manifest
from edgedeblur.runtime.backends import BackendInfo
from edgedeblur.runtime.tiling import axis_starts

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"

TILING_CASES = [(1, 1, 8, 0), (7, 9, 8, 2), (8, 8, 8, 3), (9, 8, 8, 3), (70, 53, 32, 6), (100, 257, 64, 8),
                (1080, 1920, 256, 32), (4000, 3000, 256, 32), (513, 1025, 512, 32), (33, 33, 16, 7)]
RAMP_CASES = [(8, 0), (8, 3), (32, 6), (64, 8), (256, 32), (512, 32), (16, 7)]


def position_shift(i: int | np.ndarray, j: int | np.ndarray, c: int | np.ndarray) -> np.ndarray:
    """The golden model's change at tile position (i, j), channel c: an integer in -3..5."""
    return (i + 2 * j) % 7 - 3 + c


class ShiftBackend:
    """A deterministic model on the raw tensor (any layout/dtype), re-implemented in the Java test."""

    def __init__(self, spec) -> None:  # noqa: ANN001 - TensorSpec
        self.spec = spec
        self.info = BackendInfo(name="golden-shift", version="1", device="cpu")

    def run(self, x: np.ndarray) -> np.ndarray:
        nhwc = x.transpose(0, 2, 3, 1) if self.spec.layout == "NCHW" else x
        _, h, w, c = nhwc.shape
        i, j, k = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
        d = position_shift(i, j, k)
        if self.spec.quantized:
            lo, hi = (-128, 127) if self.spec.dtype == "int8" else (0, 255)
            y = np.clip(nhwc.astype(np.int32) + d, lo, hi).astype(self.spec.dtype)
        else:
            y = (nhwc + np.float32(0.01) * d.astype(np.float32)).astype(np.float32)
        return y.transpose(0, 3, 1, 2) if self.spec.layout == "NCHW" else y

    def close(self) -> None:
        pass


def _tensor(shape: list[int], dtype: str, layout: str, colour: str, scale: float | None, zp: int | None) -> dict:
    return {"name": "x", "shape": shape, "dtype": dtype, "layout": layout, "range": [0.0, 1.0],
            "colour": colour, "scale": scale, "zero_point": zp}


def manifest_dict(io: dict, fmt: str = "tflite", precision: str = "int8") -> dict:
    """A complete schema-valid manifest around ``io`` (the golden artifact file does not exist)."""
    data = {
        "schema_version": 1,
        "artifact": {"file": "golden.bin", "sha256": "0" * 64, "bytes": 1, "format": fmt,
                     "precision": precision, "target": f"{fmt}-{precision}", "backend": "litert"},
        "model": {"name": "golden", "task": "denoise"},
        "io": io,
    }
    validate_manifest(data)
    return data


def restore_cases() -> list[dict]:
    int8 = {"input": _tensor([1, 32, 32, 3], "int8", "NHWC", "RGB", 0.0038250961806625128, -128),
            "output": _tensor([1, 32, 32, 3], "int8", "NHWC", "RGB", 0.0038676068652421236, -128),
            "dynamic_hw": False, "pad_multiple": 8, "tile": {"size": 32, "overlap": 6}}
    grey = {"input": _tensor([1, 1, 24, 24], "uint8", "NCHW", "GREY", 1 / 255, 0),
            "output": _tensor([1, 1, 24, 24], "uint8", "NCHW", "GREY", 0.0041, 3),
            "dynamic_hw": False, "pad_multiple": 4, "tile": {"size": 24, "overlap": 4}}
    dyn = {"input": _tensor([1, 3, -1, -1], "float32", "NCHW", "RGB", None, None),
           "output": _tensor([1, 3, -1, -1], "float32", "NCHW", "RGB", None, None),
           "dynamic_hw": True, "pad_multiple": 8, "tile": None}
    specs = [("int8_nhwc_tiled", int8, (70, 53, 3)), ("int8_nhwc_small_reflect", int8, (5, 20, 3)),
             ("uint8_nchw_grey", grey, (50, 41, 1)), ("float32_dynamic_whole", dyn, (30, 27, 3))]
    rng = np.random.default_rng(7)
    cases = []
    for name, io, shape in specs:
        data = manifest_dict(io, "tflite" if io["input"]["dtype"] != "float32" else "onnx",
                             "fp32" if io["input"]["dtype"] == "float32" else "int8")
        manifest = Manifest(path=Path("golden.manifest.json"), data=data)
        runner = Runner(manifest, ShiftBackend(manifest.input), batch=1)
        image = rng.integers(0, 256, size=shape, dtype=np.uint8)
        out = runner.restore(image if shape[2] == 3 else image[..., 0])
        cases.append({"name": name, "manifest": data, "height": shape[0], "width": shape[1],
                      "channels": shape[2], "image": image.ravel().tolist(),
                      "expected": out.ravel().tolist()})
    return cases


def quant_cases() -> list[dict]:
    cases = []
    for dtype, scale, zp in [("int8", 0.0038250961806625128, -128), ("uint8", 1 / 255, 0), ("int8", 0.01, 3)]:
        spec = _tensor([1, 8, 8, 3], dtype, "NHWC", "RGB", scale, zp)
        data = manifest_dict({"input": spec, "output": spec, "dynamic_hw": False, "pad_multiple": 8,
                              "tile": {"size": 8, "overlap": 0}})
        runner = Runner(Manifest(path=Path("q.manifest.json"), data=data), ShiftBackend(None), batch=1)
        pixels = np.concatenate([np.arange(256, dtype=np.float32) / np.float32(255.0),
                                 (np.arange(40, dtype=np.float32) + np.float32(0.5)) * np.float32(scale),
                                 np.array([-0.1, 1.2], dtype=np.float32)])
        q = runner.to_model(pixels.reshape(1, 1, -1, 1).repeat(3, axis=3))[0, 0, :, 0]
        levels = np.arange(-128, 128) if dtype == "int8" else np.arange(256)
        deq = runner.from_model(levels.astype(dtype).reshape(1, 1, -1, 1).repeat(3, axis=3))[0, 0, :, 0]
        cases.append({"dtype": dtype, "scale": scale, "zero_point": zp,
                      "pixels": pixels.tolist(), "quantized": q.astype(int).tolist(),
                      "levels": levels.tolist(), "dequantized": deq.astype(float).tolist()})
    return cases


def tiling_vectors() -> dict:
    grids = [{"h": h, "w": w, "tile": t, "overlap": o,
              "ys": axis_starts(h, t, o), "xs": axis_starts(w, t, o),
              "count": len(tile_grid(h, w, t, o))} for h, w, t, o in TILING_CASES]
    ramps = [{"tile": t, "overlap": o, "ramp": blend_ramp(t, o).astype(float).tolist()} for t, o in RAMP_CASES]
    return {"grids": grids, "ramps": ramps}


def build() -> dict[str, str]:
    """File name -> JSON text of every golden file."""
    files = {"tiling.json": tiling_vectors(), "quant.json": {"cases": quant_cases()},
             "restore.json": {"cases": restore_cases()}}
    return {name: json.dumps(body, separators=(",", ":")) + "\n" for name, body in files.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with tests/golden instead of writing")
    args = parser.parse_args(argv)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, text in build().items():
        path = GOLDEN / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({len(text)} bytes)")
    if stale:
        print("golden vectors differ from the Python runtime: " + ", ".join(stale)
              + "\nre-run: .venv/bin/python benchmarks/make_golden_vectors.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
