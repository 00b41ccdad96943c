"""Shared fixtures: the real data in ../shared/data (tests skip with a reason when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set EDGEDEBLUR_DATA)")
    return SHARED_DATA


@pytest.fixture
def onnx_and_torch(tmp_path):
    """``run(deployed, seed)`` -> (onnxruntime output, torch output) of a deploy-form net on one
    seeded 1x3x64x64 input, exported with the legacy exporter (opset 17) as the zoo tests do."""
    import warnings

    import torch

    ort = pytest.importorskip("onnxruntime")

    def run(deployed, seed: int):
        channels = int(getattr(deployed, "in_channels", 3) or 3)  # 4: a noise-conditioned prior
        x = torch.rand(1, channels, 64, 64, generator=torch.Generator().manual_seed(seed))
        path = tmp_path / f"net{seed}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(deployed, (x,), str(path), opset_version=17, dynamo=False,
                              input_names=["input"], output_names=["output"])
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(None, {"input": x.numpy()})[0]
        with torch.no_grad():
            ref = deployed(x).numpy()
        return got, ref

    return run
