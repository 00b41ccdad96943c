"""The deblur pipeline through export: a 4-channel prior (RGB + noise map) on every route.

A random-init ``mnv2unet_m_prior`` at a 64 px tile is exported, loaded with
``edgedeblur.runtime.load_pipeline`` and run on a blurred photo with its kernel; the PyTorch
pipeline (the same prior through ``ModelMethod``) is the reference. Calibration and parity
patches are what the pipeline feeds the prior (Wiener data step + noise map). Each export here
takes a few seconds on one core (the first TFLite conversion about 15 s); pruning is slow.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgedeblur.calibration import CalibrationSource  # noqa: E402
from edgedeblur.cli.export import main as cli  # noqa: E402
from edgedeblur.errors import ArtifactError, ConfigError  # noqa: E402
from edgedeblur.export import export_target, get_target, resolve_model  # noqa: E402
from edgedeblur.methods import DEFAULT_DEBLUR_PRIOR, DEFAULT_DENOISER  # noqa: E402
from edgedeblur.metrics import psnr  # noqa: E402
from edgedeblur.runtime import Manifest, load_pipeline, manifest_path_for  # noqa: E402
from edgedeblur.runtime.deconv import MIN_SIGMA  # noqa: E402
from edgedeblur.runtime.pipeline import (  # noqa: E402
    NOISE_MAP_SCALE,
    DeblurPipeline,
    PipelineConfig,
    noise_map_input,
)

PRIOR = "mnv2unet_m_prior"
TILE = 64
SIGMA = 5.0


@pytest.fixture(scope="module")
def setup(shared_data, tmp_path_factory):
    torch.set_num_threads(1)
    model = resolve_model(PRIOR, random_init=True)
    calib = CalibrationSource(shared_data / "train", images=8, heldout=2, patch=TILE, task="prior", seed=0)
    return {"model": model, "calib": calib, "cache": {}, "out": tmp_path_factory.mktemp("exported"), "done": {}}


def _export(setup, name, **kw):
    if name in setup["done"] and not kw:
        return setup["done"][name]
    args = dict(tile=TILE, calib_method="minmax", max_drop_db=None, allow_float_ops=False, force=True,
                extra_export={}, cache=setup["cache"])
    out = kw.pop("out", setup["out"])
    calib = kw.pop("calib", setup["calib"])
    args.update(kw)
    result = export_target(get_target(name), setup["model"], out, calib, **args)
    if not kw:
        setup["done"][name] = result
    return result


@pytest.fixture(scope="module")
def blurred(shared_data):
    """A photo crop (multiples of the prior's pad_multiple), blurred by a camera-shake PSF + noise."""
    from edgedeblur.degrade import blur_image, camera_shake_kernel
    from edgedeblur.io import list_images, read_image, to_float

    img = to_float(read_image(list_images([shared_data / "train"])[0])).astype(np.float32)
    img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
    clean = np.ascontiguousarray(img[:80, :112])
    kernel = camera_shake_kernel(15, np.random.default_rng(0))
    noise = np.random.default_rng(1).normal(0.0, SIGMA / 255, clean.shape).astype(np.float32)
    return np.clip(blur_image(clean, kernel) + noise, 0, 1).astype(np.float32), kernel


@pytest.fixture(scope="module")
def torch_pipeline(setup, blurred):
    """The reference: the same prior in PyTorch inside the same DeblurPipeline."""
    from edgedeblur.models import ModelMethod

    pipe = DeblurPipeline(ModelMethod(setup["model"].module, PRIOR), PipelineConfig())
    y, kernel = blurred
    return pipe.restore(y, kernel=kernel, sigma=SIGMA)


def test_prior_calibration_is_the_pipelines_data_step(setup, shared_data):
    calib = setup["calib"]
    assert calib.channels == 4 and len(calib.calib) == 8 and len(calib.heldout_patches) == 2
    assert not {p.source for p in calib.calib} & {p.source for p in calib.heldout_patches}
    for p in calib.calib + calib.heldout_patches:
        assert p.degraded.shape == (TILE, TILE, 4) and p.clean.shape == p.observed.shape == (TILE, TILE, 3)
        assert MIN_SIGMA / 2 <= p.sigma <= 15.0 and p.kernel.ndim == 2 and p.kernel.size > 1
        assert np.all(p.degraded[..., 3] == np.float32(p.sigma * NOISE_MAP_SCALE))  # the noise map
        assert 0.0 <= p.degraded[..., :3].min() and p.degraded[..., :3].max() <= 1.0
        assert not np.array_equal(p.observed, p.clean)  # blurred and noisy, not a copy
        assert not np.array_equal(p.degraded[..., :3], p.observed)  # deconvolved
        # what parity hands the runner (RGB + the sigma the map encodes) rebuilds the same tensor
        sigma = float(p.degraded[0, 0, 3]) / NOISE_MAP_SCALE
        assert noise_map_input(p.degraded[..., :3], sigma).tobytes() == p.degraded.tobytes()
    d = calib.describe()
    assert d["inputs"]["prior_scale"] == PipelineConfig().prior_scale and "Wiener" in d["degradation"]
    again = CalibrationSource(shared_data / "train", images=8, heldout=2, patch=TILE, task="prior", seed=0)
    other = CalibrationSource(shared_data / "train", images=8, heldout=2, patch=TILE, task="prior", seed=1)
    assert [p.degraded.tobytes() for p in again.calib] == [p.degraded.tobytes() for p in calib.calib]
    assert [p.degraded.tobytes() for p in other.calib] != [p.degraded.tobytes() for p in calib.calib]
    assert calib.calib_batches("NCHW")[0].shape == (1, 4, TILE, TILE)
    assert calib.calib_batches("NHWC")[0].shape == (1, TILE, TILE, 4)


def _check_prior_manifest(outcome, target):
    m = Manifest.read(outcome.manifest)
    d = m.data
    assert d["model"]["name"] == PRIOR and d["model"]["task"] == "prior"
    assert m.input.channels == 4 and m.output.channels == 3
    assert d["io"]["conditioning"] == {"noise_map": {"channel": 3, "scale": NOISE_MAP_SCALE}}
    assert d["pipeline"] == PipelineConfig().to_dict() and outcome.pipeline == d["pipeline"]
    assert d["artifact"]["target"] == target
    return d


def test_onnx_fp32_prior_runs_the_whole_pipeline(setup, blurred, torch_pipeline):
    out = _export(setup, "onnx-fp32")
    d = _check_prior_manifest(out, "onnx-fp32")
    assert d["io"]["input"]["shape"] == [1, 4, -1, -1] and d["io"]["output"]["shape"] == [1, 3, -1, -1]
    assert out.passed and out.parity.psnr_vs_float_db > 60 and abs(out.parity.drop_db) < 0.01
    pipe = load_pipeline(str(out.manifest))
    assert isinstance(pipe, DeblurPipeline) and pipe.config == PipelineConfig() and pipe.prior.conditioned
    y, kernel = blurred
    restored = pipe.restore(y, kernel=kernel, sigma=SIGMA)
    assert restored.shape == y.shape and restored.dtype == np.float32
    assert np.abs(restored - torch_pipeline).max() < 1e-3
    assert pipe.last_psf.source == "given"


@pytest.mark.parametrize("name", ["onnx-int8", "openvino-int8", "tflite-int8"])
def test_int8_prior_runs_the_whole_pipeline(setup, blurred, torch_pipeline, name):
    out = _export(setup, name)
    d = _check_prior_manifest(out, name)
    assert out.passed and out.parity.drop_db < 0.3 and out.parity.psnr_vs_float_db > 35
    assert out.ops_by_precision["int8"] > 0 and not out.float_ops
    q = d["export"]["quantization"]["calibration"]
    assert q["inputs"]["channels"] == 4 and q["images"] == 8
    if name == "tflite-int8":
        assert d["io"]["input"]["shape"] == [1, TILE, TILE, 4] and d["io"]["input"]["dtype"] == "int8"
        assert d["io"]["output"]["shape"] == [1, TILE, TILE, 3]
    elif name == "onnx-int8":
        assert d["io"]["input"]["shape"] == [1, 4, TILE, TILE]
    y, kernel = blurred
    restored = load_pipeline(str(out.manifest)).restore(y, kernel=kernel, sigma=SIGMA)
    assert restored.shape == y.shape
    assert psnr(np.clip(torch_pipeline, 0, 1), np.clip(restored, 0, 1), quantize=False) > 35


def _copy_artifact(outcome, folder):
    folder.mkdir()
    for p in (outcome.artifact, outcome.manifest):
        shutil.copy(p, folder / p.name)
    return folder / outcome.artifact.name, folder / outcome.manifest.name


def test_pipeline_refuses_bad_manifests_naming_the_file(setup, tmp_path):
    out = _export(setup, "onnx-fp32")
    # a malformed pipeline section
    art, man = _copy_artifact(out, tmp_path / "bad_pipeline")
    data = json.loads(man.read_text())
    data["pipeline"]["mode"] = "magic"
    man.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match=rf"{man.name}: invalid manifest: pipeline: unknown deblur pipeline mode"):
        load_pipeline(str(man))
    # a 4-channel input without io.conditioning
    data = json.loads(out.manifest.read_text())
    del data["io"]["conditioning"]
    man.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match=rf"{man.name}: invalid manifest: io.input has 4 channels but "
                                            r"io.conditioning is missing"):
        load_pipeline(str(man))
    # the prior artifact is missing
    art, man = _copy_artifact(out, tmp_path / "missing")
    art.unlink()
    with pytest.raises(ArtifactError, match=rf"{art.name}: artifact file named in the manifest is missing"):
        load_pipeline(str(man))
    # the prior artifact was replaced (same size, other bytes)
    art, man = _copy_artifact(out, tmp_path / "replaced")
    blob = bytearray(art.read_bytes())
    blob[-1] ^= 0xFF
    art.write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match=rf"{art.name}: artifact sha256 differs"):
        load_pipeline(str(man))
    # no pipeline section: a plain prior artifact, not a pipeline
    art, man = _copy_artifact(out, tmp_path / "no_section")
    data = json.loads(man.read_text())
    del data["pipeline"]
    man.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="no deblur pipeline section"):
        load_pipeline(str(man))


def test_calibration_must_feed_the_prior_four_channels(setup, shared_data, tmp_path):
    rgb = CalibrationSource(shared_data / "train", images=8, heldout=2, patch=TILE, task="denoise")
    with pytest.raises(ConfigError, match="calibration patches have 3 channels"):
        _export(setup, "onnx-int8", out=tmp_path, calib=rgb)


def test_method_names_resolve_to_the_defaults():
    denoise = resolve_model("denoise", random_init=True)
    assert denoise.name == DEFAULT_DENOISER and denoise.in_channels == 3 and denoise.pipeline is None
    deblur = resolve_model("deblur", random_init=True)
    assert deblur.name == DEFAULT_DEBLUR_PRIOR and deblur.conditioned and deblur.method == "deblur"
    assert deblur.pipeline == PipelineConfig().to_dict()


def test_cli_help_names_the_pipelines(capsys):
    with pytest.raises(SystemExit) as exc:
        cli(["--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"'deblur' (the deblur pipeline: its prior {DEFAULT_DEBLUR_PRIOR}" in text
    assert f"'denoise' ({DEFAULT_DENOISER})" in text and "edge-export deblur --target" in text


def test_cli_deblur_needs_shipped_weights(shared_data, tmp_path, capsys, monkeypatch):
    from edgedeblur.models import _registry

    monkeypatch.setattr(_registry, "WEIGHTS_DIR", tmp_path / "no-weights")  # a checkout without them
    assert cli(["deblur", "-t", "onnx-fp32", "-o", str(tmp_path), "--calib-dir", str(shared_data / "train")]) == 2
    err = capsys.readouterr().err
    assert "has no trained weights" in err and f"--arch {DEFAULT_DEBLUR_PRIOR}" in err and "--random-init" in err
    assert not list(tmp_path.iterdir())


def _cli_args(shared_data, tmp_path):
    return ["-t", "onnx-fp32", "--tile", str(TILE), "--calib-images", "8", "--heldout", "2", "-o", str(tmp_path),
            "--calib-dir", str(shared_data / "train"), "--threads", "1"]


def test_cli_deblur_random_init_writes_the_pipeline(shared_data, tmp_path, capsys):
    assert cli(["deblur", "--random-init", *_cli_args(shared_data, tmp_path)]) == 0
    captured = capsys.readouterr()
    assert f"exporting deblur (the deblur pipeline: prior {DEFAULT_DEBLUR_PRIOR}" in captured.err
    assert f"pipeline: deblur = psf-deconvolution (Wiener data step + learned prior {DEFAULT_DEBLUR_PRIOR}" \
        in captured.out
    assert f"edge-deblur --method {tmp_path / DEFAULT_DEBLUR_PRIOR}.onnx-fp32.onnx" in captured.out
    man = manifest_path_for(tmp_path / f"{DEFAULT_DEBLUR_PRIOR}.onnx-fp32.onnx")
    d = Manifest.read(man).data
    assert d["pipeline"] == PipelineConfig().to_dict() and d["export"]["method"] == "deblur"


def test_cli_exports_a_prior_checkpoint(shared_data, tmp_path, capsys):
    from safetensors.torch import save_file

    from edgedeblur.models import create_model

    torch.manual_seed(3)
    ckpt = tmp_path / "weights.safetensors"
    save_file(create_model(PRIOR, pretrained=False).state_dict(), str(ckpt))
    out = tmp_path / "out"
    assert cli([str(ckpt), "--arch", PRIOR, *_cli_args(shared_data, out)]) == 0
    assert "pipeline: deblur" in capsys.readouterr().out
    d = Manifest.read(out / f"{PRIOR}.onnx-fp32.manifest.json").data
    assert d["model"]["weights"] == "checkpoint" and d["pipeline"] == PipelineConfig().to_dict()
    assert load_pipeline(str(out / f"{PRIOR}.onnx-fp32.manifest.json")).prior.conditioned


@pytest.mark.slow
def test_prune_a_prior_then_export(shared_data, tmp_path):
    from edgedeblur.export import export_model

    (r,) = export_model(PRIOR, "onnx-fp32", tmp_path, random_init=True, tile=TILE, calib_images=8, heldout=2,
                        calib_dir=shared_data / "train", prune=0.3, finetune_steps=2)
    assert r.passed and r.pipeline == PipelineConfig().to_dict()
    d = json.loads(r.manifest.read_text())
    assert d["export"]["pruning"]["after_finetune"]["params"] < d["export"]["pruning"]["before"]["params"]
    assert d["io"]["input"]["shape"] == [1, 4, -1, -1]
