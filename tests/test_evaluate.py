"""evaluate()/evaluate_paired() and edge-eval on small real crops, with cheap methods."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgedeblur.cli.evaluate import main as edge_eval
from edgedeblur.degrade import paper_awgn, parse_degradation
from edgedeblur.errors import InvalidInputError, KernelError, UnknownNameError
from edgedeblur.evaluate import evaluate, evaluate_paired, pair_seed
from edgedeblur.io import read_image, to_float, write_image
from edgedeblur.metrics import psnr

N_IMAGES = 3


@pytest.fixture(scope="module")
def clean_dir(shared_data, tmp_path_factory):
    """Three 64x80 crops of CBSD68 photos (fast, still real content)."""
    folder = tmp_path_factory.mktemp("clean")
    for path in sorted((shared_data / "eval" / "cbsd68").glob("*.png"))[:N_IMAGES]:
        write_image(folder / path.name, read_image(path)[100:164, 120:200])
    return folder


class Recorder:
    """A cheap method that returns its input and records what it was given."""

    name = "recorder"
    needs_kernel = False
    needs_sigma = False

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def restore(self, image, *, kernel=None, sigma=None):  # noqa: ANN001, ANN201
        self.calls.append({"kernel": kernel, "sigma": sigma, "shape": image.shape})
        return image.copy()


class Plain:
    """A method whose restore takes only the image (no side information)."""

    name = "plain"

    def restore(self, image):  # noqa: ANN001, ANN201
        return image


SCHEMA = {
    "type": "object",
    "required": ["summary", "images", "failures"],
    "properties": {
        "summary": {
            "type": "object",
            "required": ["psnr", "ssim", "seconds_per_mp", "method", "data", "degradation", "seed",
                         "machine", "images", "failed", "protocol"],
            "properties": {
                "psnr": {"type": "number"}, "ssim": {"type": "number"},
                "seconds_per_mp": {"type": "number", "minimum": 0},
                "method": {"type": "string"}, "seed": {"type": "integer"},
                "images": {"type": "integer"}, "failed": {"type": "integer"},
            },
        },
        "images": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "psnr", "ssim", "seconds", "megapixels", "seconds_per_mp", "kernel"],
        }},
        "failures": {"type": "array", "items": {"type": "object", "required": ["name", "error"]}},
    },
}


def test_identity_under_paper_awgn_scores_the_noise(clean_dir):
    result = evaluate("identity", clean_dir, paper_awgn(25), seed=0)
    assert len(result.scores) == N_IMAGES and not result.failures
    for s in result.scores:
        assert s.psnr == pytest.approx(s.input_psnr)
        assert 19.9 < s.psnr < 23.0  # sigma 25 is 20.17 dB; clipping bright sky at 255 raises it
        assert s.megapixels == pytest.approx(64 * 80 / 1e6)
    assert result.psnr == pytest.approx(np.mean([s.psnr for s in result.scores]))
    assert "paper protocol" in result.degradation


def test_seeds_are_per_image_reproducible_and_independent_of_limit(clean_dir):
    full = evaluate("identity", clean_dir, paper_awgn(25), seed=3)
    again = evaluate("identity", clean_dir, paper_awgn(25), seed=3)
    first = evaluate("identity", clean_dir, paper_awgn(25), seed=3, limit=1)
    other = evaluate("identity", clean_dir, paper_awgn(25), seed=4)
    assert [s.psnr for s in full.scores] == [s.psnr for s in again.scores]
    assert first.scores[0].psnr == full.scores[0].psnr
    assert other.scores[0].psnr != full.scores[0].psnr
    shards = [evaluate("identity", clean_dir, paper_awgn(25), seed=3, shard=(k, 2)) for k in range(2)]
    merged = {s.name: s.psnr for r in shards for s in r.scores}
    assert merged == {s.name: s.psnr for s in full.scores}
    assert pair_seed(0, 1) != pair_seed(0, 2) and pair_seed(0, 1) == pair_seed(0, 1)


def test_true_sigma_and_kernel_go_to_methods_that_accept_them(clean_dir, shared_data):
    rec = Recorder()
    kernels = shared_data / "kernels" / "levin09"
    spec = parse_degradation(noise="gaussian:sigma=2.55", linear=False, clip=False, quantize=False)
    result = evaluate(rec, clean_dir, spec, kernels=kernels, kernel_mode="cycle")
    assert len(result.scores) == N_IMAGES
    for i, call in enumerate(rec.calls):
        assert call["sigma"] == pytest.approx(2.55)
        expected = np.load(sorted(kernels.glob("*.npy"))[i % 8])
        np.testing.assert_allclose(call["kernel"], expected / expected.sum(), atol=1e-6)
    assert [s.kernel for s in result.scores] == [p.stem for p in sorted(kernels.glob("*.npy"))[:N_IMAGES]]
    blind = Recorder()
    evaluate(blind, clean_dir, paper_awgn(25), oracle=False, limit=1)
    assert blind.calls[0]["sigma"] is None
    assert evaluate(Plain(), clean_dir, paper_awgn(25), limit=1).scores  # no side info passed


def test_each_kernel_mode_and_nonblind_wiener_beats_identity(clean_dir, shared_data):
    kernels = shared_data / "kernels" / "levin09"
    spec = parse_degradation(noise="gaussian:sigma=2.55", linear=False, clip=False, quantize=False)
    ident = evaluate("identity", clean_dir, spec, kernels=kernels, limit=2)
    assert len(ident.scores) == 2 * 8
    assert [s.kernel for s in ident.scores[:8]] == [p.stem for p in sorted(kernels.glob("*.npy"))]
    wiener = evaluate("wiener", clean_dir, spec, kernels=[sorted(kernels.glob("*.npy"))[0]], limit=2)
    base = [s.psnr for s in ident.scores if s.kernel == wiener.scores[0].kernel]
    assert wiener.psnr > np.mean(base) + 1.0


def test_centred_kernels_remove_the_shift_a_blind_method_cannot_know(clean_dir, tmp_path):
    """A delta PSF 3 px off the middle only translates the image: raw, the identity scores the
    shift; centred, it scores the noise alone. Non-blind Wiener, given the shifted kernel, undoes it."""
    delta = np.zeros((9, 9), np.float32)
    delta[4, 7] = 1.0
    np.save(tmp_path / "shifted_delta.npy", delta)
    spec = parse_degradation(noise="gaussian:sigma=2.55", linear=False, clip=False, quantize=False)
    raw = evaluate("identity", clean_dir, spec, kernels=tmp_path, limit=2)
    centred = evaluate("identity", clean_dir, spec, kernels=tmp_path, centre_kernels=True, limit=2)
    noise_only = evaluate("identity", clean_dir, spec, limit=2)
    assert centred.psnr == pytest.approx(noise_only.psnr, abs=0.05)
    assert raw.psnr < centred.psnr - 3.0
    assert centred.protocol["centre_kernels"] is True and raw.protocol["centre_kernels"] is False
    assert "centred kernels" in centred.degradation
    w_raw = evaluate("wiener", clean_dir, spec, kernels=tmp_path, limit=2)  # given the shifted PSF
    assert w_raw.psnr > raw.psnr + 5.0  # a non-blind method undoes the shift itself
    assert edge_eval(["-m", "identity", "-d", str(clean_dir), "--noise", "gaussian:sigma=2.55",
                      "--centre-kernels", "-q"]) == 2  # needs --kernels-dir


def test_paired_mode_matches_by_stem(clean_dir, tmp_path):
    degraded = tmp_path / "degraded"
    degraded.mkdir()
    rng = np.random.default_rng(0)
    for path in sorted(clean_dir.glob("*.png"))[:2]:
        noisy = to_float(read_image(path)) + rng.normal(0, 10 / 255, (64, 80, 3)).astype(np.float32)
        write_image(degraded / path.name, noisy)
    write_image(degraded / "orphan.png", np.zeros((64, 80, 3), np.uint8))
    result = evaluate_paired("identity", degraded, clean_dir)
    assert [s.name for s in result.scores] == sorted(p.name for p in clean_dir.glob("*.png"))[:2]
    for s in result.scores:
        expected = psnr(read_image(clean_dir / s.name), read_image(degraded / s.name))
        assert s.psnr == pytest.approx(expected)
    assert [f.name for f in result.failures] == ["orphan.png"]
    assert "no clean image" in result.failures[0].error


def test_corrupt_image_is_reported_and_others_scored(clean_dir, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in clean_dir.glob("*.png"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    result = evaluate("identity", folder, paper_awgn(15))
    assert len(result.scores) == N_IMAGES
    assert [f.name for f in result.failures] == ["broken.png"]
    assert "broken.png" in result.failures[0].error


def test_bad_arguments(clean_dir, tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        evaluate("identity", tmp_path / "nope", paper_awgn(25))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="no images"):
        evaluate("identity", tmp_path / "empty", paper_awgn(25))
    with pytest.raises(UnknownNameError, match="did you mean 'identity'"):
        evaluate("identiy", clean_dir, paper_awgn(25))
    with pytest.raises(InvalidInputError, match="kernel mode"):
        evaluate("identity", clean_dir, paper_awgn(25), kernel_mode="all")
    with pytest.raises(InvalidInputError, match="restore"):
        evaluate(object(), clean_dir, paper_awgn(25))
    with pytest.raises(KernelError):
        evaluate("identity", clean_dir, paper_awgn(25), kernels=tmp_path / "empty")
    with pytest.raises(InvalidInputError, match="shard"):
        evaluate("identity", clean_dir, paper_awgn(25), shard=(2, 2))


# ------------------------------------------------------------------------------- edge-eval


def test_edge_eval_writes_table_and_json(clean_dir, tmp_path, capsys):
    import jsonschema

    out = tmp_path / "report.json"
    code = edge_eval(["--method", "identity", "--data", str(clean_dir), "--noise", "gaussian:sigma=25",
                      "--crop-border", "2", "--y-channel", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "mean (3 images)" in printed and "PSNR" in printed
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    summary = report["summary"]
    assert summary["images"] == N_IMAGES and summary["failed"] == 0
    assert summary["protocol"]["crop_border"] == 2 and summary["protocol"]["y_channel"] is True
    assert summary["degradation_spec"]["noise"] == "gaussian:sigma=25"
    assert summary["degradation_spec"]["clip"] is False
    direct = evaluate("identity", clean_dir, paper_awgn(25), crop_border=2, y_channel=True)
    assert summary["psnr"] == pytest.approx(direct.psnr, abs=1e-4)


def test_edge_eval_failures_and_usage_errors(clean_dir, tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in clean_dir.glob("*.png"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "zz.png").write_bytes(b"not an image")
    assert edge_eval(["-m", "identity", "-d", str(folder), "--noise", "gaussian:sigma=25", "-q"]) == 1
    assert "FAILED zz.png" in capsys.readouterr().err
    assert edge_eval(["-m", "identiy", "-d", str(clean_dir), "--noise", "gaussian:sigma=25"]) == 2
    assert "did you mean 'identity'" in capsys.readouterr().err
    assert edge_eval(["-m", "identity", "-d", str(tmp_path / "missing"), "--noise", "gaussian:sigma=5"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert edge_eval(["-m", "identity", "-d", str(clean_dir)]) == 2
    assert "nothing degrades" in capsys.readouterr().err
    assert edge_eval(["-m", "identity", "-d", str(clean_dir), "--paired", str(clean_dir),
                      "--noise", "gaussian:sigma=5"]) == 2
    assert edge_eval(["-m", "identity", "-d", str(clean_dir), "--noise", "gaussian:sigma=5",
                      "--json", str(tmp_path / "no" / "dir.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert edge_eval(["-m", "identity", "-d", str(clean_dir), "--noise", "gaussian:sigma=5",
                      "--shard", "3/2"]) == 2
    with pytest.raises(SystemExit) as exc:
        edge_eval(["--help"])
    assert exc.value.code == 0
    assert "--kernels-dir" in capsys.readouterr().out


def test_edge_eval_camera_order_and_blind(clean_dir, tmp_path, capsys):
    out = tmp_path / "camera.json"
    assert edge_eval(["-m", "identity", "-d", str(clean_dir), "--noise", "gaussian:sigma=25",
                      "--camera", "--blind", "-q", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())["summary"]
    assert summary["degradation_spec"]["clip"] is True and summary["degradation_spec"]["linear"] is True
    assert summary["protocol"]["side_information"] == "only what the method requires"
    assert "camera order" in summary["degradation"]


def test_edge_eval_scores_a_training_runs_weights_file(clean_dir, tmp_path, capsys):
    """-O weights=FILE scores a run's weights before shipping: the file, not the shipped weights."""
    import torch
    from safetensors.torch import save_file

    from edgedeblur.errors import ArtifactError
    from edgedeblur.models import create_method, create_model

    torch.manual_seed(3)
    net = create_model("mnv2unet_xs_denoise", pretrained=False).eval()
    for p in net.parameters():  # a clearly different net from the shipped one
        p.data.mul_(1.5)
    run_weights = tmp_path / "run" / "weights.safetensors"
    run_weights.parent.mkdir()
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(run_weights))

    image = to_float(read_image(sorted(clean_dir.glob("*.png"))[0]))
    from_file = create_method("mnv2unet_xs_denoise", weights=run_weights)
    assert from_file.name == f"mnv2unet_xs_denoise[{run_weights}]"
    with torch.no_grad():
        expected = net.to_deploy()(torch.from_numpy(image.transpose(2, 0, 1)[None].copy()))[0].numpy()
    np.testing.assert_allclose(from_file.restore(image), expected.transpose(1, 2, 0), atol=1e-5)
    shipped = create_method("mnv2unet_xs_denoise").restore(image)
    assert np.abs(shipped - from_file.restore(image)).max() > 0.01

    out = tmp_path / "report.json"
    args = ["-d", str(clean_dir), "--noise", "gaussian:sigma=25", "-q", "--json", str(out)]
    assert edge_eval(["-m", "mnv2unet_xs_denoise", "-O", f"weights={run_weights}", *args]) == 0
    summary = json.loads(out.read_text())["summary"]
    assert summary["method"] == from_file.name
    assert edge_eval(["-m", "mnv2unet_xs_denoise", *args]) == 0
    assert json.loads(out.read_text())["summary"]["psnr"] != pytest.approx(summary["psnr"], abs=0.01)

    with pytest.raises(ArtifactError, match="weights file not found"):
        create_method("mnv2unet_xs_denoise", weights=tmp_path / "nope.safetensors")
    with pytest.raises(ArtifactError, match="do not fit"):
        create_method("mnv2unet_s_denoise", weights=run_weights)
    capsys.readouterr()
    assert edge_eval(["-m", "mnv2unet_xs_denoise", "-O", "weights=missing.safetensors", *args]) == 2
    assert "missing.safetensors" in capsys.readouterr().err
