"""MNN and ncnn round trips (64x64, small random-init zoo model) through ``edgedeblur.runtime``.

Each engine row of the targets table is exported, checked by the runtime runner against PyTorch
(parity as for every target), and run again on a whole image of another size (dynamic H/W). A
test skips when its engine's wheel is not installed (``pip install 'edgedeblur[mnn,ncnn]'``).
About 25 s on an idle 2-core machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgedeblur.calibration import CalibrationSource  # noqa: E402
from edgedeblur.export import export_target, get_target, resolve_model  # noqa: E402
from edgedeblur.runtime import Manifest, load  # noqa: E402

MODEL = "mnv2unet_xs_denoise"
TILE = 64
REPO = Path(__file__).resolve().parents[1]
ENGINE_MODULES = {"mnn": ("MNN",), "ncnn": ("ncnn", "pnnx")}


@pytest.fixture(scope="module")
def setup(shared_data, tmp_path_factory):
    torch.set_num_threads(1)
    model = resolve_model(MODEL, random_init=True)
    calib = CalibrationSource(shared_data / "train", images=8, heldout=2, patch=TILE, task=model.task,
                              recipe=model.name)
    return {"model": model, "calib": calib, "cache": {}, "out": tmp_path_factory.mktemp("engines")}


def _export(setup, name: str):
    for module in ENGINE_MODULES[get_target(name).backend]:
        pytest.importorskip(module)
    return export_target(get_target(name), setup["model"], setup["out"], setup["calib"], tile=TILE,
                         calib_method="minmax", max_drop_db=None, allow_float_ops=False, force=True,
                         cache=setup["cache"], extra_export={})


def _torch(setup, img: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
        return setup["model"].module(x)[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("name", ["mnn-fp32", "mnn-fp16", "ncnn-fp32", "ncnn-fp16"])
def test_float_rows_round_trip(setup, name):
    target = get_target(name)
    out = _export(setup, name)
    d = Manifest.read(out.manifest).data
    assert out.passed and abs(out.parity.drop_db) < 0.01 and out.parity.psnr_vs_float_db > 60
    assert d["artifact"]["format"] == target.format and d["artifact"]["backend"] == target.backend
    engine = d["export"]["engine"]
    assert engine["name"] == target.backend and engine["converter_version"] and "NCHW" in engine["layout"]
    assert d["io"]["dynamic_hw"] is True and out.ops_by_precision["float32"] > 0
    if target.weights_suffix:  # ncnn: the .bin beside the .param is named and checked by sha256
        assert d["artifact"]["weights_file"] == out.artifact.with_suffix(".bin").name
        assert out.bytes == out.artifact.stat().st_size + out.artifact.with_suffix(".bin").stat().st_size
    img = np.random.default_rng(1).random((48, 80, 3), dtype=np.float32)
    with load(out.artifact, threads=1, max_pixels=10**9) as runner:
        assert runner.info.name == target.backend
        tol = 2e-3 if name.endswith("fp16") else 1e-4
        assert np.abs(runner.restore(img) - _torch(setup, img)).max() < tol
        assert runner.restore(img[:40, :72]).shape == (40, 72, 3)
        from edgedeblur.errors import InvalidInputError

        with pytest.raises(InvalidInputError, match="does not fit the model"):  # MNN would crash the process
            runner.backend.run(np.zeros((1, 4, 16, 16), np.float32))


@pytest.mark.parametrize("name", ["mnn-int8", "ncnn-int8"])
def test_int8_rows_are_calibrated_and_pass_parity(setup, name):
    out = _export(setup, name)
    d = Manifest.read(out.manifest).data
    assert out.passed and out.parity.drop_db < 0.3 and out.parity.psnr_vs_float_db > 35
    assert out.ops_by_precision["int8"] > 0 and out.ops_by_precision["float32"] == 0 and not out.float_ops
    q = d["export"]["quantization"]
    assert q["algorithm"] == "minmax"
    assert q["calibration"]["images"] == 8 and q["calibration"]["patch"] == TILE  # the project's patches


def test_int8_row_refuses_a_method_the_engine_lacks(setup):
    from edgedeblur.errors import ConfigError

    pytest.importorskip("MNN")
    with pytest.raises(ConfigError, match="mnn-int8 cannot calibrate with this method"):
        export_target(get_target("mnn-int8"), setup["model"], setup["out"], setup["calib"], tile=TILE,
                      calib_method="percentile", max_drop_db=None, allow_float_ops=False, force=True,
                      cache=setup["cache"], extra_export={})


@pytest.mark.parametrize("backend", ["mnn", "ncnn"])
def test_missing_engine_names_its_extra_and_the_runtime_imports_without_it(setup, backend):
    out = _export(setup, f"{backend}-fp32")
    blocked = "; ".join(f"sys.modules[{m!r}] = None" for m in ENGINE_MODULES[backend])
    code = f"""
import sys
{blocked}
import edgedeblur.runtime as rt
from edgedeblur.errors import MissingDependencyError
try:
    rt.load({str(out.artifact)!r})
except MissingDependencyError as e:
    print(str(e))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert f"pip install 'edgedeblur[{backend}]'" in res.stdout, res.stdout + res.stderr
