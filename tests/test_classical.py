"""Classical baselines on real photos and real kernels: PSNR gains, borders, agreement, shapes.

Images are 128 x 128 crops of the shared eval sets; blur is a true convolution
(``scipy.signal.fftconvolve``, reflect padding) with the Levin et al. 2009 camera-shake kernels.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgedeblur.classical import estimate_noise_sigma, richardson_lucy, wiener_deconvolve
from edgedeblur.io import read_image, to_float
from edgedeblur.methods import get_method

scipy_signal = pytest.importorskip("scipy.signal")


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("EDGEDEBLUR_FFT_WORKERS", "1")
    cv2 = pytest.importorskip("cv2")
    cv2.setNumThreads(1)


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    err = (np.clip(a, 0, 1).astype(np.float64) - b) ** 2
    return float(10 * np.log10(1.0 / (err[mask].mean() if mask is not None else err.mean())))


def border_mask(shape: tuple[int, ...], width: int = 16) -> np.ndarray:
    mask = np.ones(shape[:2], bool)
    mask[width:-width, width:-width] = False
    return mask


def blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    p = max(kernel.shape)
    pad = [(p, p), (p, p)] + [(0, 0)] * (image.ndim - 2)
    big = np.pad(image, pad, mode="reflect")
    k = kernel if image.ndim == 2 else kernel[..., None]
    return scipy_signal.fftconvolve(big, k, mode="same", axes=(0, 1))[p:-p, p:-p].astype(np.float32)


def noisy(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (image + rng.normal(0, sigma / 255, image.shape)).astype(np.float32)


@pytest.fixture(scope="module")
def grey(shared_data) -> np.ndarray:  # noqa: ANN001
    return to_float(read_image(shared_data / "eval/set12/05.png"))[64:192, 64:192]


@pytest.fixture(scope="module")
def colour(shared_data) -> np.ndarray:  # noqa: ANN001
    return to_float(read_image(sorted((shared_data / "eval/cbsd68").iterdir())[3]))[100:228, 150:278]


@pytest.fixture(scope="module")
def levin(shared_data) -> list[np.ndarray]:  # noqa: ANN001
    return [np.load(shared_data / f"kernels/levin09/levin09_k{i}.npy") for i in (1, 4, 7)]


@pytest.mark.parametrize("which", ["grey", "colour"])
def test_wiener_with_the_true_kernel_gains_clearly(which: str, request, levin) -> None:  # noqa: ANN001
    sharp = request.getfixturevalue(which)
    method = get_method("wiener")
    for kernel in levin:
        observed = noisy(blur(sharp, kernel), 2.55)
        restored = method.restore(observed, kernel=kernel, sigma=2.55)
        assert restored.shape == sharp.shape and restored.dtype == np.float32
        gain = psnr(restored, sharp) - psnr(observed, sharp)
        assert gain > 2.5, f"gain {gain:.2f} dB"
        # no border ringing: the outer 16 px band is not worse than the blurred input's
        band = border_mask(sharp.shape)
        assert psnr(restored, sharp, band) > psnr(observed, sharp, band) - 0.5


def test_wiener_estimates_sigma_nearly_as_well_as_knowing_it(colour, levin) -> None:  # noqa: ANN001
    observed = noisy(blur(colour, levin[0]), 5.0)
    known = psnr(wiener_deconvolve(observed, levin[0], sigma=5.0), colour)
    blind = psnr(wiener_deconvolve(observed, levin[0]), colour)
    assert abs(known - blind) < 0.5


def test_edge_taper_prevents_border_ringing(grey, levin) -> None:  # noqa: ANN001
    band = border_mask(grey.shape)
    observed = noisy(blur(grey, levin[1]), 1.0)
    tapered = psnr(wiener_deconvolve(observed, levin[1], sigma=1.0, taper="mean"), grey, band)
    untapered = psnr(wiener_deconvolve(observed, levin[1], sigma=1.0, taper="none"), grey, band)
    edgetaper = psnr(wiener_deconvolve(observed, levin[1], sigma=1.0, taper="blur"), grey, band)
    assert tapered > untapered + 0.5
    assert edgetaper > untapered + 0.5


def test_wiener_delta_kernel_with_tiny_regularisation_is_identity(colour) -> None:  # noqa: ANN001
    delta = np.ones((1, 1), np.float32)
    out = wiener_deconvolve(colour, delta, nsr=1e-9)
    np.testing.assert_allclose(out, colour, atol=1e-4)


def test_even_sized_kernel_does_not_shift_the_image(grey) -> None:  # noqa: ANN001
    # one convention project-wide: centre k // 2, as edgedeblur.degrade blurs
    degrade = pytest.importorskip("edgedeblur.degrade")
    box = np.ones((4, 6), np.float32) / 24
    observed = degrade.blur_image(grey, box)
    restored = wiener_deconvolve(observed, box, sigma=0.5)
    inner = (slice(16, -16), slice(16, -16))
    aligned = psnr(restored[inner], grey[inner])
    assert aligned > psnr(observed[inner], grey[inner]) + 3
    for shift in (1, -1):
        for axis in (0, 1):
            shifted = psnr(np.roll(restored, shift, axis=axis)[inner], grey[inner])
            assert aligned > shifted + 3
    # through the method (which pads the kernel to 5 x 7 when validating): same alignment
    via_method = get_method("wiener").restore(observed, kernel=box, sigma=0.5)
    # (not identical: the FFT size differs, and a box kernel has exact zeros in its spectrum)
    good = psnr(via_method[inner], grey[inner])
    assert good > psnr(observed[inner], grey[inner]) + 3
    assert good > psnr(np.roll(via_method, 1, axis=1)[inner], grey[inner]) + 3


def test_richardson_lucy_gains_and_agrees_with_skimage(grey, levin) -> None:  # noqa: ANN001
    restoration = pytest.importorskip("skimage.restoration")
    kernel = levin[0]
    observed = noisy(blur(grey, kernel), 1.0)
    mine = get_method("richardson-lucy", iterations=20).restore(observed, kernel=kernel)
    assert psnr(mine, grey) > psnr(observed, grey) + 3
    reference = restoration.richardson_lucy(
        np.clip(observed, 0, 1).astype(np.float64), kernel.astype(np.float64), num_iter=20
    )
    inner = (slice(32, -32), slice(32, -32))  # skimage zero-pads, so compare away from borders
    assert psnr(mine[inner], reference[inner]) > 30
    # and our border handling is better than skimage's zero padding
    band = border_mask(grey.shape)
    assert psnr(mine, grey, band) > psnr(reference, grey, band) + 1


def test_richardson_lucy_keeps_brightness(colour, levin) -> None:  # noqa: ANN001
    observed = blur(colour, levin[2])
    out = richardson_lucy(observed, levin[2], iterations=10)
    assert out.shape == colour.shape
    assert abs(float(out.mean()) - float(observed.mean())) < 0.01


@pytest.mark.parametrize(("name", "min_gain"), [("nlm-opencv", 3.5), ("nlm-skimage", 4.0)])
@pytest.mark.parametrize("which", ["grey", "colour"])
def test_nlm_denoises_sigma_25_clearly(name: str, min_gain: float, which: str, request) -> None:  # noqa: ANN001
    sharp = request.getfixturevalue(which)
    observed = noisy(sharp, 25.0)
    restored = get_method(name).restore(observed, sigma=25.0)
    assert restored.shape == sharp.shape and restored.dtype == np.float32
    gain = psnr(restored, sharp) - psnr(observed, sharp)
    assert gain > min_gain, f"{name} gain {gain:.2f} dB"


def test_bm3d_denoises_sigma_25_clearly(colour) -> None:  # noqa: ANN001
    sharp = colour[:64, :64]  # BM3D is slow: about 4 s for 64 x 64 on a busy 2-core machine
    observed = noisy(sharp, 25.0)
    restored = get_method("bm3d").restore(observed, sigma=25.0)
    assert restored.shape == sharp.shape and restored.dtype == np.float32
    assert psnr(restored, sharp) > psnr(observed, sharp) + 6


def test_bm3d_grey_beats_nlm(grey) -> None:  # noqa: ANN001
    sharp = grey[:64, :64]
    observed = noisy(sharp, 25.0, seed=3)
    bm3d = psnr(get_method("bm3d").restore(observed, sigma=25.0), sharp)
    nlm = psnr(get_method("nlm-skimage").restore(observed, sigma=25.0), sharp)
    assert bm3d > psnr(observed, sharp) + 5
    assert bm3d > nlm


def test_denoiser_estimates_sigma_and_says_so(colour, caplog) -> None:  # noqa: ANN001
    method = get_method("nlm-skimage")
    observed = noisy(colour, 25.0)
    with caplog.at_level("INFO", logger="edgedeblur.classical"):
        blind = method.restore(observed)
    assert method.last_sigma_estimated
    assert 20 < method.last_sigma < 30
    assert "estimated" in caplog.text
    assert psnr(blind, colour) > psnr(observed, colour) + 4
    method.restore(observed, sigma=25.0)
    assert not method.last_sigma_estimated and method.last_sigma == 25.0


def test_fast_noise_estimator_is_close_on_a_real_photo(colour) -> None:  # noqa: ANN001
    for sigma in (5.0, 15.0, 30.0):
        estimate = estimate_noise_sigma(noisy(colour, sigma, seed=int(sigma)))
        assert abs(estimate - sigma) < 0.2 * sigma + 1.0, (sigma, estimate)
