"""android-demo/scripts/copy_model.py: what reaches the APK is a checked LiteRT artifact + manifest,
and the copied manifest is one the Java core (ModelManifest) accepts."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from edgedeblur.errors import ArtifactError
from edgedeblur.runtime import sha256_file, write_manifest

ROOT = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location("copy_model", ROOT / "android-demo" / "scripts" / "copy_model.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("copy_model", mod)
    spec.loader.exec_module(mod)
    return mod


def _export(folder: Path, fmt: str = "tflite", payload: bytes = b"TFL3" + bytes(range(256)) * 4) -> Path:
    art = folder / f"m.{fmt}-int8.{fmt}"
    art.write_bytes(payload)
    spec = {"name": "x", "shape": [1, 64, 64, 3], "dtype": "int8", "layout": "NHWC", "range": [0.0, 1.0],
            "colour": "RGB", "scale": 0.0039, "zero_point": -128}
    data = {"schema_version": 1,
            "artifact": {"file": art.name, "sha256": sha256_file(art), "bytes": art.stat().st_size,
                         "format": fmt, "precision": "int8"},
            "model": {"name": "m", "task": "deblur"},
            "io": {"input": spec, "output": spec, "dynamic_hw": False, "pad_multiple": 8,
                   "tile": {"size": 64, "overlap": 8}}}
    return write_manifest(folder / f"m.{fmt}-int8.manifest.json", data)


def test_copies_checked_artifact_and_manifest(tmp_path: Path) -> None:
    src = tmp_path / "export"
    src.mkdir()
    manifest = _export(src)
    assets = tmp_path / "app" / "assets" / "model"
    out = _module().copy_model(manifest, assets)
    assert out == assets / "model.manifest.json"
    copied = json.loads(out.read_text())
    assert (assets / copied["artifact"]["file"]).read_bytes() == (src / copied["artifact"]["file"]).read_bytes()
    # a second copy replaces the folder (no stale artifacts left behind)
    (assets / "stale.tflite").write_bytes(b"x")
    _module().copy_model(manifest, assets)
    assert sorted(p.name for p in assets.iterdir()) == ["m.tflite-int8.tflite", "model.manifest.json"]


def test_refuses_truncated_artifact_and_wrong_format(tmp_path: Path) -> None:
    mod = _module()
    manifest = _export(tmp_path)
    art = tmp_path / "m.tflite-int8.tflite"
    art.write_bytes(art.read_bytes()[:-10])
    with pytest.raises(ArtifactError, match="size differs"):
        mod.copy_model(manifest, tmp_path / "assets")
    assert not (tmp_path / "assets").exists()
    onnx_dir = tmp_path / "onnx"
    onnx_dir.mkdir()
    with pytest.raises(ArtifactError, match="LiteRT artifacts only"):
        mod.copy_model(_export(onnx_dir, "onnx"), tmp_path / "assets")


def test_cli_exit_code_and_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _module().main([str(tmp_path / "missing.manifest.json"), "--assets", str(tmp_path / "a")]) == 1
    assert "manifest not found" in capsys.readouterr().err
