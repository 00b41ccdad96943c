"""The shipped defaults must survive INT8 (issue 16): a new default that breaks INT8 cannot land.

The default denoiser and the default deblur prior (``edge-export denoise`` / ``edge-export
deblur``), shipped weights, exported with a small tile and calibration set and checked through the
runtime against the same 0.3 dB gate ``edge-export`` uses (64 px tile, 8 calibration and 4
held-out patches). ``openvino-int8`` passes on both (NNCF accuracy control); ``tflite-int8``
passes on the prior here and fails on the denoiser (0.52-0.66 dB at 256 px: a loss spread over
every activation that no quarter of its layers kept float recovers, docs/export.md), an
``xfail(strict=True)`` that turns red the day it starts passing, so the mark must go then.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from edgedeblur.methods import DEFAULT_DEBLUR_PRIOR, DEFAULT_DENOISER  # noqa: E402

TILE = 64
CALIB = 8
HELDOUT = 4

# The export runs in a child process, as `edge-export` does for a user: the toolchains it
# loads (NNCF, ai-edge-quantizer and TensorFlow's runtime) stay out of the test process, where
# they crashed a later, unrelated numpy test (SIGSEGV in the clean-clone CI run).
_EXPORT = """
import json, sys
from pathlib import Path
from edgedeblur.export import export_model
name, target, out, calib, tile, n_calib, heldout = sys.argv[1:8]
(res,) = export_model(name, [target], Path(out), tile=int(tile), calib_dir=Path(calib),
                      calib_images=int(n_calib), heldout=int(heldout), force=True)
if isinstance(res, Exception):
    print(json.dumps({"error": repr(res)}))
else:
    print(json.dumps({"manifest": str(res.manifest), "passed": bool(res.passed),
                      "accuracy_control": res.accuracy_control is not None,
                      "drop_db": res.parity.drop_db, "max_drop_db": res.parity.max_drop_db}))
"""


def _export(name: str, target: str, out, shared_data) -> dict:  # noqa: ANN001
    done = subprocess.run([sys.executable, "-c", _EXPORT, name, target, str(out), str(shared_data / "train"),
                           str(TILE), str(CALIB), str(HELDOUT)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    res = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in res, res["error"]
    return res


#: (model, target) pairs; the default suite runs the cheap ones (about 25 s each on this 2-core
#: machine), the others (accuracy-control searches of 60-90 s each) are marked slow
CASES = [
    pytest.param("denoise", "openvino-int8", id="denoise-openvino-int8"),
    pytest.param("deblur", "tflite-int8", id="deblur-tflite-int8"),
    pytest.param("deblur", "openvino-int8", id="deblur-openvino-int8", marks=pytest.mark.slow),
    pytest.param("denoise", "tflite-int8", id="denoise-tflite-int8", marks=[pytest.mark.slow, pytest.mark.xfail(
        strict=True, reason="issue 16: tflite-int8 fails the 0.3 dB gate on the default denoiser")]),
]


@pytest.mark.parametrize(("model", "target"), CASES)
def test_shipped_default_passes_int8(model, target, shared_data, tmp_path):
    pytest.importorskip("nncf" if target.startswith("openvino") else "ai_edge_quantizer")
    res = _export(model, target, tmp_path, shared_data)
    assert (tmp_path / res["manifest"]).is_file() and res["accuracy_control"]
    assert res["passed"], f"{model}: {target} drop {res['drop_db']:+.3f} dB > {res['max_drop_db']}"


def test_defaults_are_the_shipped_models():
    assert DEFAULT_DENOISER == "mnv2unet_m_denoise" and DEFAULT_DEBLUR_PRIOR == "mnv2unet_m_prior"
