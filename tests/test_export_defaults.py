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

from edgedeblur.export import export_model  # noqa: E402
from edgedeblur.methods import DEFAULT_DEBLUR_PRIOR, DEFAULT_DENOISER  # noqa: E402

TILE = 64
CALIB = 8
HELDOUT = 4


def _export(name: str, target: str, out, shared_data):  # noqa: ANN001, ANN202
    (res,) = export_model(name, [target], out, tile=TILE, calib_dir=shared_data / "train", calib_images=CALIB,
                          heldout=HELDOUT, force=True)
    assert not isinstance(res, Exception), res
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
    assert res.manifest.is_file() and res.accuracy_control is not None
    assert res.passed, f"{model}: {target} drop {res.parity.drop_db:+.3f} dB > {res.parity.max_drop_db}"


def test_defaults_are_the_shipped_models():
    assert DEFAULT_DENOISER == "mnv2unet_m_denoise" and DEFAULT_DEBLUR_PRIOR == "mnv2unet_m_prior"
