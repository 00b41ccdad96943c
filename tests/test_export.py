"""Export round trips (64x64, small random-init zoo model), manifests, parity verdicts, bad input.

Every artifact is checked through ``edgedeblur.runtime.load``, the code the device runs. Every
target runs by default (all of this file took about 35 s on an idle 2-core machine); only
prune-then-fine-tune is marked slow.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgedeblur.calibration import CalibrationSource  # noqa: E402
from edgedeblur.cli.export import main as cli  # noqa: E402
from edgedeblur.errors import MissingDependencyError, OutputPathError, UnknownNameError  # noqa: E402
from edgedeblur.export import TARGETS, export_target, get_target, resolve_model  # noqa: E402
from edgedeblur.export._parity import PARITY_MAX_DB  # noqa: E402
from edgedeblur.metrics import psnr  # noqa: E402
from edgedeblur.runtime import Manifest, load  # noqa: E402

MODEL = "mnv2unet_xs_denoise"
TILE = 64


@pytest.fixture(scope="module")
def setup(shared_data, tmp_path_factory):
    torch.set_num_threads(1)
    model = resolve_model(MODEL, random_init=True)
    calib = CalibrationSource(shared_data / "train", images=8, heldout=2, patch=TILE, task=model.task,
                              recipe=model.name)
    return {"model": model, "calib": calib, "cache": {}, "out": tmp_path_factory.mktemp("exported")}


def _export(setup, name, **kw):
    args = dict(tile=TILE, calib_method="minmax", max_drop_db=None, allow_float_ops=False, force=True,
                extra_export={}, cache=setup["cache"])
    out = kw.pop("out", setup["out"])
    args.update(kw)
    return export_target(get_target(name), setup["model"], out, setup["calib"], **args)


def test_target_table_is_complete_and_names_are_unique():
    from edgedeblur.runtime.backends import BACKENDS, DEFAULT_BACKEND

    assert list(TARGETS) == ["onnx-fp32", "onnx-int8", "openvino-fp32", "openvino-fp16", "openvino-int8",
                             "tflite-fp32", "tflite-fp16", "tflite-int8", "tflite-int16x8", "mnn-fp32", "mnn-fp16", "mnn-int8",
                             "ncnn-fp32", "ncnn-fp16", "ncnn-int8"]
    stems = {t.suffix.rsplit(".", 1)[0] for t in TARGETS.values()}
    assert len(stems) == len(TARGETS)  # manifests never collide
    for t in TARGETS.values():
        assert t.backend in BACKENDS and t.format in BACKENDS[t.backend].formats
        assert DEFAULT_BACKEND[t.format] == t.backend
        assert t.needs_calibration == (t.precision == "int8") == bool(t.calib_methods)
        assert t.max_drop_db == (0.3 if t.precision == "int8" else 0.05)
    with pytest.raises(UnknownNameError, match="did you mean 'tflite-int8'"):
        get_target("tflite-int9")


def test_psnr_golden():
    a = np.zeros((4, 4, 3), np.float32)
    assert psnr(a, a + 0.1, quantize=False, max_db=PARITY_MAX_DB) == pytest.approx(20.0, abs=1e-6)
    assert psnr(a, a, quantize=False, max_db=PARITY_MAX_DB) == PARITY_MAX_DB == 100.0


def _check_manifest(outcome, target):
    m = Manifest.read(outcome.manifest)  # schema-validated by the runtime's reader
    d = m.data
    assert d["artifact"]["target"] == target.name and d["artifact"]["backend"] == target.backend
    assert d["model"]["name"] == MODEL and d["export"]["random_init"] is True
    assert d["parity"]["passed"] is outcome.passed and d["parity"]["patches"] == 2
    assert "torch" in d["export"]["tool_versions"]
    return d


@pytest.mark.parametrize("name", ["onnx-fp32", "openvino-fp32", "openvino-fp16"])
def test_float_targets_match_torch(setup, name):
    out = _export(setup, name)
    d = _check_manifest(out, get_target(name))
    assert out.passed and out.parity.psnr_vs_float_db > 60 and abs(out.parity.drop_db) < 0.01
    assert d["io"]["dynamic_hw"] is True and d["io"]["tile"] is None
    # through the runtime on a whole image (dynamic H/W), and on an odd size (padded, cropped back)
    img = np.random.default_rng(1).random((48, 80, 3), dtype=np.float32)
    runner = load(out.artifact)
    with torch.no_grad():
        ref = setup["model"].module(torch.from_numpy(img.transpose(2, 0, 1))[None])[0].permute(1, 2, 0).numpy()
    tol = 2e-3 if name.endswith("fp16") else 1e-4
    assert np.abs(runner.restore(img) - ref).max() < tol
    assert runner.restore(img[:40, :72]).shape == (40, 72, 3)


@pytest.mark.parametrize("name", ["onnx-int8", "openvino-int8"])
def test_int8_targets_pass_parity(setup, name):
    out = _export(setup, name)
    d = _check_manifest(out, get_target(name))
    assert out.passed and out.parity.drop_db < 0.3 and out.parity.psnr_vs_float_db > 35
    assert out.ops_by_precision["int8"] > 0 and out.ops_by_precision["float32"] == 0 and not out.float_ops
    q = d["export"]["quantization"]
    assert q["algorithm"] == "minmax" and q["calibration"]["images"] == 8 and q["calibration"]["patch"] == TILE
    if name == "onnx-int8":
        assert d["io"]["tile"] == {"size": TILE, "overlap": TILE // 8} and d["io"]["input"]["shape"] == [1, 3, TILE, TILE]
        assert q["reduce_range"] is True
    else:  # NNCF accuracy control: half the 0.3 dB gate on the calibration patches; this small
        # model meets it at once, so no layer went back to float
        assert q["method"].startswith("nncf.quantize_with_accuracy_control")
        assert q["accuracy_control"]["max_drop_db"] == pytest.approx(0.15) and q["accuracy_control"]["float_ops"] == []


def test_failed_parity_is_kept_under_a_failed_name(setup, tmp_path):
    out = _export(setup, "openvino-fp16", max_drop_db=-1.0, out=tmp_path)
    assert not out.passed and ".failed." in out.artifact.name and out.artifact.is_file()
    assert out.artifact.with_suffix(".bin").is_file()
    assert json.loads(out.manifest.read_text())["parity"]["passed"] is False
    assert not (tmp_path / f"{MODEL}.openvino-fp16.xml").exists()
    load(out.artifact)  # still loadable for inspection


def test_existing_output_needs_force(setup, tmp_path):
    _export(setup, "onnx-fp32", out=tmp_path)
    with pytest.raises(OutputPathError, match="--force"):
        _export(setup, "onnx-fp32", out=tmp_path, force=False)
    assert _export(setup, "onnx-fp32", out=tmp_path, force=True).passed


def test_missing_toolchain_names_the_extra(setup, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "litert_torch", None)
    with pytest.raises(MissingDependencyError, match=r"edgedeblur\[export\]"):
        _export(setup, "tflite-fp32", out=tmp_path, cache={})


def test_cli_bad_inputs(shared_data, tmp_path, capsys):
    calib = str(shared_data / "train")
    assert cli(["mnv2unet_xs_denois", "-t", "onnx-fp32", "-o", str(tmp_path)]) == 2
    assert "did you mean 'mnv2unet_xs_denoise'" in capsys.readouterr().err
    assert cli([MODEL, "-t", "onnx-fp33", "-o", str(tmp_path)]) == 2
    assert "did you mean 'onnx-fp32'" in capsys.readouterr().err
    from edgedeblur.models import list_models, weights_path

    untrained = next(n for n in list_models() if not weights_path(n).is_file())  # the zoo grows
    assert cli([untrained, "-t", "onnx-fp32", "-o", str(tmp_path), "--calib-dir", calib]) == 2
    assert "--random-init" in capsys.readouterr().err  # untrained zoo model
    assert cli(["w.safetensors", "-t", "onnx-fp32", "-o", str(tmp_path)]) == 2
    assert "--arch" in capsys.readouterr().err
    few = tmp_path / "few"
    few.mkdir()
    assert cli([MODEL, "--random-init", "-t", "onnx-int8", "-o", str(tmp_path), "--calib-dir", str(few)]) == 2
    assert "too few calibration images" in capsys.readouterr().err
    assert cli([MODEL, "--random-init", "-t", "onnx-int8", "--tile", "60", "--calib-dir", calib]) == 2
    assert "multiple of 8" in capsys.readouterr().err
    assert cli([MODEL, "--random-init", "-t", "tflite-int8", "--calib-method", "entropy", "--tile", "64",
                "--calib-images", "8", "--heldout", "2", "-o", str(tmp_path), "--calib-dir", calib]) == 1
    assert "--calib-method minmax" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.tflite"))


def test_cli_exports_and_summarises(shared_data, tmp_path, capsys):
    args = [MODEL, "--random-init", "-t", "openvino-fp32", "--tile", "64", "--calib-images", "8", "--heldout", "2",
            "-o", str(tmp_path), "--calib-dir", str(shared_data / "train")]
    assert cli(args) == 0
    out = capsys.readouterr().out
    assert "pass" in out and "edge-bench" in out and "edge-deblur --method" in out
    assert (tmp_path / f"{MODEL}.openvino-fp32.manifest.json").is_file()
    assert cli(args) == 1  # exists, no --force: reported, exit 1
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["tflite-fp32", "tflite-fp16", "tflite-int8"])
def test_tflite_targets(setup, name):
    out = _export(setup, name)
    d = _check_manifest(out, get_target(name))
    assert out.passed and d["io"]["input"]["layout"] == "NHWC" and d["io"]["tile"]["size"] == TILE
    if name == "tflite-int8":
        assert d["io"]["input"]["dtype"] == "int8" and d["io"]["output"]["dtype"] == "int8"
        assert out.float_ops == [] and set(out.ops_by_precision) == {"int8"}
        assert d["export"]["quantization"]["folded_output_clamp"] is True
        assert out.parity.psnr_vs_float_db > 35
    else:
        assert out.parity.psnr_vs_float_db > 60


@pytest.mark.slow
def test_prune_then_export_records_before_and_after(shared_data, tmp_path):
    from edgedeblur.export import export_model

    (r,) = export_model(MODEL, "onnx-fp32", tmp_path, random_init=True, tile=TILE, calib_images=8, heldout=2,
                        calib_dir=shared_data / "train", prune=0.5, finetune_steps=5)
    assert r.passed
    d = json.loads(r.manifest.read_text())
    pr = d["export"]["pruning"]
    assert pr["ratio"] == 0.5
    assert pr["finetune"].startswith(("edgedeblur.train.train with recipe", "minimal L1 loop"))
    assert pr["after_finetune"]["params"] < 0.6 * pr["before"]["params"]
    assert pr["after_finetune"]["macs_720p"] < pr["before"]["macs_720p"]
    assert d["model"]["params"] == pr["after_finetune"]["params"]
