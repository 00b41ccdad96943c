"""Blind kernel estimation (edgedeblur.runtime.kernel_estimate): useful kernels, safe on sharp
photos, a documented contract, clear errors; refinement of a kernel from a sharp latent.

Blur here is a true convolution done with numpy's FFT on a reflect-padded image (no OpenCV
needed); noise is sigma 2.55/255 with 8-bit quantisation, as in
benchmarks/kernel_estimate_eval.py. Procedural dead-leaves images always run; the real-photo
cases use ../shared/data and skip when it is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgedeblur.degrade import camera_shake_kernel, dead_leaves, quantize
from edgedeblur.errors import InvalidInputError
from edgedeblur.io import read_image, to_float
from edgedeblur.metrics import psnr
from edgedeblur.runtime.deconv import wiener_deconvolve
from edgedeblur.runtime.kernel_estimate import (
    KernelEstimate,
    _spread,
    estimate_kernel,
    refine_kernel,
)

SIGMA = 2.55


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("EDGEDEBLUR_FFT_WORKERS", "1")


def blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    r = kernel.shape[0] // 2
    padded = np.pad(image, [(r, r), (r, r)] + [(0, 0)] * (image.ndim - 2), mode="reflect")
    h, w = padded.shape[:2]
    otf = np.fft.rfft2(kernel, (h, w))
    otf = otf[..., None] if image.ndim == 3 else otf
    out = np.fft.irfft2(np.fft.rfft2(padded, axes=(0, 1)) * otf, (h, w), axes=(0, 1))
    # a zero-padded kernel's FFT puts its centre at (r, r): the same-size result starts at 2r
    return out[2 * r : 2 * r + image.shape[0], 2 * r : 2 * r + image.shape[1]].astype(np.float32)


def observe(image: np.ndarray, kernel: np.ndarray | None, seed: int, sigma: float = SIGMA) -> np.ndarray:
    clean = blur(image, kernel) if kernel is not None else image
    noise = np.random.default_rng(seed).normal(0.0, sigma / 255.0, clean.shape)
    return quantize((clean + noise).astype(np.float32))


def check_contract(est: KernelEstimate) -> None:
    k = est.kernel
    assert k.dtype == np.float32 and k.ndim == 2
    assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
    assert np.all(k >= 0) and abs(float(k.sum()) - 1.0) < 1e-4
    n = k.shape[0]
    centroid = np.array([k.sum(axis=1) @ np.arange(n), k.sum(axis=0) @ np.arange(n)])
    assert np.all(np.abs(centroid - (n - 1) / 2) <= 1e-3)  # centred to sub-pixel precision
    assert 0.0 <= est.confidence <= 1.0 and est.seconds > 0
    assert isinstance(est.sharp, bool) and isinstance(est.info, dict)


@pytest.fixture(scope="module")
def photo(shared_data) -> np.ndarray:  # noqa: ANN001 - the conftest fixture (skips if absent)
    files = sorted((shared_data / "train" / "bsds500_train").glob("*.jpg"))
    if not files:
        pytest.skip("no BSDS500 training photos in the shared data")
    return to_float(read_image(files[0]))  # 321 x 481, a training photo (not validation)


def gains(image: np.ndarray, kernel: np.ndarray, seed: int, kernel_size: int) -> tuple[float, ...]:
    observed = observe(image, kernel, seed)
    est = estimate_kernel(observed, kernel_size=kernel_size, sigma=SIGMA, time_budget_s=30.0)
    check_contract(est)
    assert not est.sharp
    return (psnr(image, observed), psnr(image, wiener_deconvolve(observed, kernel, sigma=SIGMA)),
            psnr(image, wiener_deconvolve(observed, est.kernel, sigma=SIGMA)))


@pytest.mark.parametrize(("size", "seed"), [(11, 1), (13, 5)])
def test_shake_on_dead_leaves_is_recovered(size: int, seed: int) -> None:
    blurred, true, est = gains(dead_leaves(256, 3), camera_shake_kernel(size, rng=seed), seed, 21)
    assert est >= true - 3.0, (blurred, true, est)
    assert est >= blurred + 2.0, (blurred, true, est)


def test_shake_on_a_photo_is_recovered(photo: np.ndarray) -> None:
    blurred, true, est = gains(photo, camera_shake_kernel(13, rng=5), 5, 31)
    assert est >= true - 3.0, (blurred, true, est)
    assert est >= blurred + 2.0, (blurred, true, est)


@pytest.mark.parametrize(("source", "sigma"), [("dead_leaves", SIGMA), ("photo", SIGMA),
                                               ("photo", 10.0), ("photo", None)])
def test_sharp_or_noisy_photo_gets_a_harmless_kernel(source: str, sigma: float | None,
                                                     request: pytest.FixtureRequest) -> None:
    image = dead_leaves(256, 4) if source == "dead_leaves" else request.getfixturevalue("photo")
    observed = observe(image, None, 9, sigma or SIGMA)
    # None: the estimator measures the noise; a generous budget: on a loaded machine the 3 s
    # default can stop the pyramid mid-level, and this tests the result, not the speed
    est = estimate_kernel(observed, sigma=sigma, time_budget_s=30.0)
    check_contract(est)
    assert est.sharp and est.kernel.shape == (1, 1)
    restored = wiener_deconvolve(observed, est.kernel, sigma=sigma or SIGMA)
    assert psnr(image, restored) >= psnr(image, observed) - 0.3


def test_noisy_blur_the_sharpness_test_misses_is_still_estimated(shared_data) -> None:  # noqa: ANN001
    """At sigma 10 the single-scale test keeps a delta for this 3 px shake; the pyramid finds
    the blur and overrules it (before, the photo came back as sharp: nothing deblurred)."""
    files = sorted((shared_data / "train" / "bsds500_train").glob("*.jpg"))
    if len(files) < 3:
        pytest.skip("no BSDS500 training photos in the shared data")
    image = to_float(read_image(files[2]))
    kernel = camera_shake_kernel(21, rng=3)
    observed = observe(image, kernel, 9, 10.0)
    est = estimate_kernel(observed, time_budget_s=30.0)
    check_contract(est)
    assert est.info["test_sharp"] and not est.sharp
    assert abs(est.info["spread_px"] - _spread(kernel)) < 1.0
    blurred = psnr(image, observed)
    assert psnr(image, wiener_deconvolve(observed, est.kernel, sigma=10.0)) > blurred + 0.5


def test_subpixel_centring_moves_the_centroid_exactly() -> None:
    """A kernel off its middle by a fraction of a pixel comes back with the centroid on it
    and its shape kept (the validation blurs lost 0.5 dB to a half-pixel offset)."""
    from edgedeblur.runtime._kernel_ops import _centre_subpixel

    k = np.zeros((7, 7), np.float32)
    k[3, 2:6] = [0.1, 0.4, 0.3, 0.2]  # centroid at column 3.6
    k[4, 4] = 0.2
    out = _centre_subpixel(k / k.sum())
    n = out.shape[0]
    centroid = np.array([out.sum(axis=1) @ np.arange(n), out.sum(axis=0) @ np.arange(n)])
    assert n == 9 and np.all(np.abs(centroid - (n - 1) / 2) < 1e-5)
    assert np.all(out >= 0) and abs(float(out.sum()) - 1.0) < 1e-6
    assert float(out.max()) >= 0.25  # moved, not smeared: a third of a pixel at most


def test_flat_image_is_sharp() -> None:
    est = estimate_kernel(np.full((128, 128, 3), 0.5, np.float32))
    check_contract(est)
    assert est.sharp and est.confidence == 0.0 and est.info["stopped"] == "no structure"


def test_colour_is_estimated_on_luminance() -> None:
    observed = observe(dead_leaves(160, 6), camera_shake_kernel(9, rng=6), 6)
    luma = observed @ np.array([0.299, 0.587, 0.114], np.float32)
    a = estimate_kernel(observed, kernel_size=15, sigma=SIGMA, time_budget_s=60.0)
    b = estimate_kernel(luma, kernel_size=15, sigma=SIGMA, time_budget_s=60.0)
    assert a.info["stopped"] is None and not a.sharp
    np.testing.assert_allclose(a.kernel, b.kernel, atol=1e-6)


def test_time_budget_stops_refinement() -> None:
    observed = observe(dead_leaves(256, 7), camera_shake_kernel(15, rng=7), 7)
    est = estimate_kernel(observed, kernel_size=21, sigma=SIGMA, time_budget_s=0.15)
    check_contract(est)
    assert est.seconds < 1.0  # one iteration may overrun the budget, never a whole level
    assert est.info["stopped"] and "time budget" in est.info["stopped"]


@pytest.mark.parametrize(
    ("image", "kwargs", "words"),
    [
        (np.zeros((64, 64, 3, 2), np.float32), {}, "H x W"),
        (np.zeros(300, np.float32), {}, "H x W"),
        (np.zeros((200, 200, 4), np.float32), {}, "H x W"),
        ([[0.5] * 200] * 200, {}, "numpy array"),
        (np.zeros((100, 300), np.float32), {}, "too small"),
        (np.full((200, 200), np.nan, np.float32), {}, "NaN"),
        (np.zeros((200, 200), np.float32), {"kernel_size": 30}, "odd"),
        (np.zeros((200, 200), np.float32), {"kernel_size": 1}, "odd"),
        (np.zeros((200, 200), np.float32), {"kernel_size": 7.0}, "odd"),
        (np.zeros((200, 200), np.float32), {"max_side": 64}, "max_side"),
        (np.zeros((200, 200), np.float32), {"time_budget_s": 0}, "time_budget_s"),
        (np.zeros((200, 200), np.float32), {"sigma": -1.0}, "sigma"),
        (np.zeros((200, 200), np.float32), {"min_confidence": 1.5}, "min_confidence"),
        (np.zeros((200, 200), np.float32), {"min_confidence": float("nan")}, "min_confidence"),
    ],
)
def test_bad_input_names_what_was_given(image: object, kwargs: dict, words: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        estimate_kernel(image, **kwargs)  # type: ignore[arg-type]
    assert words in str(err.value) and "given" in str(err.value) and "allowed" in str(err.value)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Peak normalised cross-correlation over all shifts (1: the same shape)."""
    n = 2 * max(a.shape[0], b.shape[0])
    c = np.fft.irfft2(np.fft.rfft2(a, (n, n)) * np.conj(np.fft.rfft2(b, (n, n))), (n, n))
    return float(c.max() / (np.linalg.norm(a) * np.linalg.norm(b)))


def rough_version(kernel: np.ndarray) -> np.ndarray:
    """The kernel smeared by a 3 x 3 box, its faint part cut: a plausible coarse estimate."""
    k = np.pad(kernel, 2).astype(np.float64)
    smeared = sum(np.roll(k, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    smeared[smeared < smeared.max() / 10] = 0.0
    return (smeared / smeared.sum()).astype(np.float32)


@pytest.mark.parametrize(("size", "seed"), [(13, 5), (15, 3)])
def test_refine_kernel_moves_a_rough_kernel_to_the_true_one(size: int, seed: int) -> None:
    image = dead_leaves(256, seed)
    kernel = camera_shake_kernel(size, rng=seed)
    observed = observe(image, kernel, seed)
    rough = rough_version(kernel)
    refined = refine_kernel(observed, image, rough, sigma=SIGMA)  # the true latent
    check_contract(KernelEstimate(refined, 1.0, False, 1.0))
    assert similarity(refined, kernel) >= max(0.93, similarity(rough, kernel) + 0.1)
    n = refined.shape[0]
    centroid = np.array([refined.sum(axis=1) @ np.arange(n), refined.sum(axis=0) @ np.arange(n)])
    assert np.all(np.abs(centroid - (n - 1) / 2) < 1e-3)  # centred to sub-pixel precision
    wiener = [psnr(image, wiener_deconvolve(observed, k, sigma=SIGMA)) for k in (kernel, rough, refined)]
    assert wiener[2] >= wiener[1] + 1.0 and wiener[2] >= wiener[0] - 0.5, wiener


def test_refine_kernel_keeps_the_kernel_without_edges() -> None:
    kernel = camera_shake_kernel(9, rng=2)
    flat = np.full((128, 128), 0.5, np.float32)
    refined = refine_kernel(observe(flat, kernel, 2), flat, kernel * 3.0, sigma=SIGMA)
    np.testing.assert_allclose(refined, kernel / kernel.sum(), atol=1e-6)


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        (((64, 64), (64, 64), np.ones((4, 4))), {}, "odd square"),
        (((64, 64), (64, 64), -np.ones((3, 3))), {}, "non-negative"),
        (((64, 64), (64, 32), np.ones((3, 3))), {}, "height and width"),
        (((64, 64, 2), (64, 64), np.ones((3, 3))), {}, "H x W"),
        (((20, 20), (20, 20), np.ones((5, 5))), {}, "too small"),
        (((64, 64), (64, 64), np.ones((3, 3))), {"iterations": 0}, "iterations"),
        (((64, 64), (64, 64), np.ones((3, 3))), {"grow": -1}, "grow"),
        (((64, 64), (64, 64), np.ones((3, 3))), {"sigma": float("nan")}, "sigma"),
        (((64, 64), (64, 64), np.ones((3, 3))), {"max_side": 16}, "max_side"),
    ],
)
def test_refine_kernel_bad_input_names_what_was_given(args: tuple, kwargs: dict, words: str) -> None:
    blurred, latent = (np.zeros(shape, np.float32) for shape in args[:2])
    with pytest.raises(InvalidInputError) as err:
        refine_kernel(blurred, latent, args[2], **kwargs)
    assert words in str(err.value) and "given" in str(err.value) and "allowed" in str(err.value)
