"""PSNR/SSIM protocol and NIQE: checked against scikit-image, golden values and real images."""

from __future__ import annotations

import numpy as np
import pytest

from edgedeblur.errors import ArtifactError, InvalidInputError
from edgedeblur.io import read_image, to_float
from edgedeblur.metrics import crop_border, niqe, psnr, rgb_to_y, ssim, to_protocol_scale
from edgedeblur.metrics._niqe import _aggd_fit, _ggd_fit, load_niqe_model


@pytest.fixture(scope="module")
def clean(shared_data):
    """A 128x160 colour crop of a real CBSD68 photo (uint8)."""
    return read_image(shared_data / "eval" / "cbsd68" / "101087.png")[40:168, 60:220]


@pytest.fixture(scope="module")
def noisy_float(clean):
    """The paper protocol: float noise sigma 25 on [0, 1], not clipped."""
    rng = np.random.default_rng(1)
    return to_float(clean) + rng.standard_normal(clean.shape).astype(np.float32) * (25 / 255)


def _skimage_ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=255, channel_axis=2 if a.ndim == 3 else None)


def _as_uint8(x: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


# ------------------------------------------------------------------------------------- PSNR


def test_psnr_matches_skimage_on_real_pair(clean, noisy_float):
    from skimage.metrics import peak_signal_noise_ratio

    est8 = _as_uint8(noisy_float)
    assert psnr(clean, est8) == pytest.approx(peak_signal_noise_ratio(clean, est8, data_range=255), abs=1e-9)
    # sigma 25 alone is 20.17 dB; clipping at 0/255 (this crop has saturated sky) only raises it
    assert 20.0 < psnr(clean, noisy_float) < 23.0
    assert psnr(clean, noisy_float, quantize=False) == pytest.approx(
        10 * np.log10(255**2 / np.mean((clean - np.clip(noisy_float, 0, 1) * 255.0) ** 2)))


def test_psnr_golden_values():
    ref = np.full((8, 8, 3), 100, np.uint8)
    assert psnr(ref, ref) == float("inf")
    assert psnr(ref, ref + 1) == pytest.approx(10 * np.log10(255**2), abs=1e-12)  # 48.1308 dB
    assert psnr(ref, (ref + 1).astype(np.float32) / 255) == pytest.approx(48.1308036, abs=1e-6)


def test_float_output_is_quantised_to_uint8(clean, noisy_float):
    """The published protocol rounds the float output to 8 bits before scoring."""
    assert psnr(clean, noisy_float) == pytest.approx(psnr(clean, _as_uint8(noisy_float)), abs=1e-12)
    assert psnr(clean, noisy_float) != pytest.approx(psnr(clean, noisy_float, quantize=False), abs=1e-4)
    # rounding half-way values up, as MATLAB's im2uint8 and np.uint8(x*255+0.5)
    assert to_protocol_scale(np.array([[0.5 / 255, 1.49 / 255, 1.2, -0.3]]))[0].tolist() == [1, 1, 255, 0]


def test_border_crop_ignores_the_border(clean):
    est = clean.copy()
    est[:4] = 0  # damage only the top 4 rows
    assert psnr(clean, est, border=4) == float("inf")
    assert np.isfinite(psnr(clean, est, border=3))
    assert crop_border(clean, 4).shape == (120, 152, 3)
    noisy = np.clip(clean.astype(int) + 7 * (np.arange(clean.size).reshape(clean.shape) % 3 - 1), 0, 255)
    noisy = noisy.astype(np.uint8)
    assert psnr(clean, noisy, border=5) == pytest.approx(psnr(clean[5:-5, 5:-5], noisy[5:-5, 5:-5]))
    assert ssim(clean, noisy, border=5) == pytest.approx(ssim(clean[5:-5, 5:-5], noisy[5:-5, 5:-5]))


def test_y_channel_is_matlab_bt601():
    rgb = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.float64)
    assert rgb_to_y(rgb)[0].tolist() == pytest.approx([235.0, 16.0, 81.481, 144.553, 40.966])


def test_y_channel_psnr_and_ssim(clean, noisy_float):
    est8 = _as_uint8(noisy_float)
    y_ref, y_est = rgb_to_y(clean.astype(np.float64)), rgb_to_y(est8.astype(np.float64))
    mse = np.mean((y_ref - y_est) ** 2)
    assert psnr(clean, noisy_float, y_channel=True) == pytest.approx(10 * np.log10(255**2 / mse))
    # averaging the colour noise into luma raises PSNR by several dB
    assert psnr(clean, noisy_float, y_channel=True) > psnr(clean, noisy_float) + 3
    assert ssim(clean, noisy_float, y_channel=True) == pytest.approx(
        _skimage_ssim(y_ref, y_est), abs=1e-3)


# ------------------------------------------------------------------------------------- SSIM


def test_ssim_matches_skimage_colour_and_grey(clean, noisy_float, shared_data):
    from scipy.ndimage import gaussian_filter

    est8 = _as_uint8(noisy_float)
    assert ssim(clean, est8) == pytest.approx(_skimage_ssim(clean, est8), abs=1e-3)
    blurred = _as_uint8(gaussian_filter(to_float(clean), sigma=(1.5, 1.5, 0)))
    assert ssim(clean, blurred) == pytest.approx(_skimage_ssim(clean, blurred), abs=1e-3)
    grey = read_image(shared_data / "eval" / "set12" / "01.png")[:96, :128]
    grey_noisy = _as_uint8(to_float(grey) + np.random.default_rng(0).normal(0, 15 / 255, grey.shape))
    assert ssim(grey, grey_noisy) == pytest.approx(_skimage_ssim(grey, grey_noisy), abs=1e-3)
    assert ssim(clean, clean) == pytest.approx(1.0)
    assert 0.2 < ssim(clean, est8) < ssim(clean, blurred) < 1.0


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("ref", "est", "kwargs", "message"),
    [
        (np.zeros((20, 20, 3), np.uint8), np.zeros((20, 21, 3), np.uint8), {}, "differ in shape"),
        (np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.uint8), {"border": 10}, "leaves no pixels"),
        (np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.uint8), {"border": -1}, "non-negative"),
        (np.zeros((20, 20), np.uint8), np.full((20, 20), np.nan, np.float32), {}, "NaN"),
        (np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.int32), {}, "unsupported dtype"),
        (np.zeros((20, 20, 4), np.uint8), np.zeros((20, 20, 4), np.uint8), {}, "H x W or H x W x 3"),
        ([[1, 2]], np.zeros((1, 2), np.uint8), {}, "numpy array"),
    ],
)
def test_bad_input_is_explained(ref, est, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        psnr(ref, est, **kwargs)


def test_ssim_needs_an_11x11_window():
    with pytest.raises(InvalidInputError, match="11x11"):
        ssim(np.zeros((10, 30), np.uint8), np.zeros((10, 30), np.uint8))


# ------------------------------------------------------------------------------------- NIQE


def test_ggd_and_aggd_fits_recover_known_shapes():
    rng = np.random.default_rng(0)
    alpha, var = _ggd_fit(rng.normal(0, 0.5, 200_000))
    assert alpha == pytest.approx(2.0, abs=0.05) and var == pytest.approx(0.25, rel=0.02)
    alpha, _ = _ggd_fit(rng.laplace(0, 1, 200_000))
    assert alpha == pytest.approx(1.0, abs=0.05)
    # an AGGD with shape 2: each side a half-Gaussian, chosen with probability proportional to
    # its scale (left 0.5, right 1), so left variance 0.25 and right variance 1
    magnitude = np.abs(rng.normal(0, 1, 200_000))
    left = rng.random(200_000) < 1 / 3
    x = np.where(left, -0.5 * magnitude, magnitude)
    alpha, mean, left_var, right_var = _aggd_fit(x)
    assert alpha == pytest.approx(2.0, abs=0.1)
    assert left_var == pytest.approx(0.25, rel=0.03) and right_var == pytest.approx(1.0, rel=0.03)
    assert mean > 0  # heavier right side


def test_packaged_model_is_the_bsd400_fit():
    model = load_niqe_model()
    assert model.mean.shape == (36,) and model.cov.shape == (36, 36)
    assert np.allclose(model.cov, model.cov.T)
    assert model.n_images == 400 and model.n_patches > 1000
    assert "BSD400" in model.source


def test_niqe_increases_with_blur_and_noise(shared_data):
    from scipy.ndimage import gaussian_filter

    image = to_float(read_image(shared_data / "eval" / "cbsd68" / "102061.png"))
    score_clean = niqe(image)
    score_blur1 = niqe(gaussian_filter(image, sigma=(1.0, 1.0, 0)))
    score_blur2 = niqe(gaussian_filter(image, sigma=(2.5, 2.5, 0)))
    rng = np.random.default_rng(0)
    score_noise = niqe(image + rng.standard_normal(image.shape).astype(np.float32) * 25 / 255)
    assert score_clean < 6.0  # a sharp natural photo sits near the model
    assert score_clean < score_blur1 < score_blur2
    assert score_noise > score_clean + 2.0
    assert niqe(read_image(shared_data / "eval" / "cbsd68" / "102061.png")) == pytest.approx(score_clean, abs=0.05)


def test_niqe_bad_input(tmp_path):
    with pytest.raises(InvalidInputError, match="too small"):
        niqe(np.zeros((90, 300), np.uint8))
    with pytest.raises(ArtifactError, match="missing"):
        load_niqe_model(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, mean=np.zeros(3), cov=np.eye(3), n_images=1, n_patches=1, source=np.array(""))
    with pytest.raises(ArtifactError, match="wrong shape"):
        load_niqe_model(bad)


def test_fit_save_load_round_trip(shared_data, tmp_path):
    """A model fitted on a few training photos saves, reloads and scores like the original."""
    from edgedeblur.metrics import fit_niqe_model

    photos = [read_image(p) for p in sorted((shared_data / "train" / "bsds500_train").glob("*.jpg"))[:3]]
    model = fit_niqe_model(photos, source="three photos")
    assert model.n_images == 3 and model.n_patches >= 3
    path = model.save(tmp_path / "m.npz")
    loaded = load_niqe_model(path)
    np.testing.assert_array_equal(loaded.mean, model.mean)
    assert loaded.source == "three photos"
    image = read_image(shared_data / "eval" / "cbsd68" / "101085.png")
    assert niqe(image, loaded) == pytest.approx(niqe(image, model))


def test_metrics_import_needs_only_numpy():
    """The edge runtime may score on a Pi: importing the metrics must not pull scipy/torch."""
    import subprocess
    import sys

    code = ("import sys, edgedeblur.metrics; "
            "print(','.join(m for m in ('scipy', 'torch', 'skimage', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_psnr_cap_and_the_one_formula() -> None:
    """``max_db`` caps (also identical images); the formula is shared with the trainer's
    validation PSNR (``psnr_from_mse``, peak 1 on [0, 1] tensors)."""
    from edgedeblur.metrics import psnr_from_mse

    a = np.full((8, 8, 3), 0.25, np.float32)
    assert psnr(a, a) == float("inf") and psnr(a, a, quantize=False, max_db=100.0) == 100.0
    b = a + np.float32(0.1)
    assert psnr(a, b, quantize=False) == pytest.approx(20.0, abs=1e-5)
    assert psnr(a, b, quantize=False, max_db=15.0) == 15.0
    assert psnr_from_mse(0.01, peak=1.0) == pytest.approx(20.0) == psnr_from_mse(0.01 * 255**2)
    assert psnr_from_mse(0.0, peak=1.0, max_db=120.0) == 120.0
