"""The PSF-aware deblur pipeline: the numpy data step, the pipeline's rules, and its numbers."""

from __future__ import annotations

import numpy as np
import pytest

from edgedeblur.errors import ConfigError, InvalidInputError, KernelError
from edgedeblur.runtime import _fft
from edgedeblur.runtime.deconv import DataStep, wiener_deconvolve
from edgedeblur.runtime.pipeline import (
    NOISE_MAP_SCALE,
    DeblurPipeline,
    PipelineConfig,
    noise_map_input,
)


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("EDGEDEBLUR_FFT_WORKERS", "1")


def _scene(h: int = 96, w: int = 128, seed: int = 0) -> np.ndarray:
    """Smooth shading, hard-edged rectangles and fine texture: something to deblur."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = 0.2 + 0.5 * (xx / w) * (0.5 + 0.5 * np.sin(yy / 9.0))
    for _ in range(6):
        y0, x0 = rng.integers(0, h - 20), rng.integers(0, w - 20)
        img[y0:y0 + rng.integers(6, 20), x0:x0 + rng.integers(6, 20)] += rng.uniform(-0.3, 0.3)
    img = np.clip(img, 0, 1)
    return np.stack([img, img * 0.9 + 0.05, 1 - img * 0.8], axis=-1).astype(np.float32)


def _blur(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    from edgedeblur.degrade import blur_image

    return blur_image(x, k)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    from edgedeblur.metrics import psnr

    return psnr(a, np.clip(b, 0, 1))


def _shake(size: int = 15, seed: int = 3) -> np.ndarray:
    from edgedeblur.degrade import camera_shake_kernel, centre_kernel

    return centre_kernel(camera_shake_kernel(size, np.random.default_rng(seed)))


def test_numpy_fft_fallback_matches_scipy(monkeypatch) -> None:  # noqa: ANN001
    x, k = _scene(), _shake()
    y = _blur(x, k)
    with_scipy = wiener_deconvolve(y, k, sigma=2.0)
    monkeypatch.setattr(_fft, "_scipy_fft", lambda: None)
    without = wiener_deconvolve(y, k, sigma=2.0)
    assert without.dtype == np.float32
    assert np.abs(with_scipy - without).max() < 1e-4


def test_data_step_limits_and_consistency() -> None:
    x, k = _scene(), _shake()
    y = _blur(x, k)
    step = DataStep(y, k)
    z = np.full_like(y, 0.5)
    # a huge rho trusts the prior's estimate: x = z
    assert np.abs(step.solve(z, 1e6) - z).max() < 1e-3
    # a small rho with the true image as z stays near it and explains y better than z = y
    near = step.solve(x, 1e-3)
    assert _psnr(x, near) > _psnr(x, y) + 8
    with pytest.raises(InvalidInputError, match="rho"):
        step.solve(z, 0.0)
    with pytest.raises(InvalidInputError, match="shape"):
        step.solve(z[:10], 0.1)


def test_noise_map_input_layout() -> None:
    x = np.linspace(-0.2, 1.2, 30, dtype=np.float32).reshape(5, 6)
    m = noise_map_input(x, 10.0)
    assert m.shape == (5, 6, 4) and m.dtype == np.float32
    assert m[..., :3].min() == 0.0 and m[..., :3].max() == 1.0
    assert np.allclose(m[..., 3], 10.0 * NOISE_MAP_SCALE)


class _ClassicalPrior:
    """A real, non-learned prior for the pipeline's plumbing tests (OpenCV non-local means)."""

    def __init__(self) -> None:
        from edgedeblur.methods import get_method

        self.nlm = get_method("nlm-opencv")
        self.sigmas: list[float] = []

    def restore(self, image: np.ndarray, *, sigma: float | None = None) -> np.ndarray:
        self.sigmas.append(float(sigma))
        return self.nlm.restore(np.clip(image, 0, 1), sigma=max(float(sigma), 1.0))


def test_pipeline_rules_refuse_bad_side_information() -> None:
    pipe = DeblurPipeline(_ClassicalPrior())
    x = _scene()
    with pytest.raises(KernelError, match="larger"):
        pipe.restore(x, kernel=np.ones((81, 81), np.float32) / 81**2, sigma=2.0)
    with pytest.raises(InvalidInputError, match="trained for"):
        pipe.restore(x, kernel=_shake(), sigma=40.0)
    with pytest.raises(InvalidInputError, match="trained for"):
        pipe.restore(x, kernel=_shake(), sigma=float("nan"))
    with pytest.raises(InvalidInputError):
        pipe.restore(np.zeros((4, 4, 3), np.float32), kernel=_shake(), sigma=2.0)
    with pytest.raises(ConfigError, match="unknown deblur pipeline settings"):
        PipelineConfig.from_dict({"itertions": 3})
    with pytest.raises(InvalidInputError, match="mode"):
        PipelineConfig(mode="magic")
    with pytest.raises(InvalidInputError, match="iterations"):
        PipelineConfig(iterations=0)
    with pytest.raises(InvalidInputError, match="fallback_margin"):
        PipelineConfig(fallback_margin=-1)
    with pytest.raises(InvalidInputError, match="linear"):
        PipelineConfig(linear="maybe")


def test_fit_residual_is_the_noise_for_the_true_kernel() -> None:
    from edgedeblur.runtime.pipeline import fit_residual

    x, k = _scene(128, 160), _shake(15)
    y = _blur(x, k) + np.random.default_rng(0).normal(0, 3 / 255, x.shape).astype(np.float32)
    assert fit_residual(y, x, k, 8) == pytest.approx(3.0, rel=0.05)
    # the unblurred scene explains the blurred photo far worse; a wrong kernel too
    assert fit_residual(y, x, np.ones((1, 1), np.float32), 8) > 1.3 * fit_residual(y, x, k, 8)
    assert fit_residual(y, x, _shake(15, seed=9), 8) > 1.05 * fit_residual(y, x, k, 8)


def test_hqs_schedule_falls_to_the_noise_level() -> None:
    prior = _ClassicalPrior()
    pipe = DeblurPipeline(prior, PipelineConfig(mode="hqs", iterations=4, hqs_sigma_start=12.0, linear=False))
    x, k = _scene(), _shake()
    out = pipe.restore(_blur(x, k), kernel=k, sigma=2.0)
    assert out.shape == x.shape and np.isfinite(out).all()
    assert prior.sigmas[0] == pytest.approx(12.0) and prior.sigmas[-1] == pytest.approx(2.0)
    assert all(a >= b for a, b in zip(prior.sigmas, prior.sigmas[1:], strict=False))


def test_blind_refinement_restores_latents_with_refine_rounds(monkeypatch) -> None:  # noqa: ANN001
    """The first restoration and the result get every round; the latents in between get
    ``refine_rounds`` (one prior pass per refinement instead of three)."""
    from edgedeblur.runtime import kernel_estimate
    from edgedeblur.runtime.pipeline import PSFInfo

    prior = _ClassicalPrior()
    pipe = DeblurPipeline(prior, PipelineConfig(iterations=3, refine_passes=3, refine_rounds=1, linear=False))
    x, k = _scene(), _shake()
    monkeypatch.setattr(pipe, "_kernel", lambda image, kernel: PSFInfo("estimated", k, 0.5))
    monkeypatch.setattr(kernel_estimate, "refine_kernel", lambda y, out, k0, sigma=None: k0)
    pipe.restore(_blur(x, k), sigma=2.0)
    # 3 (first) + 1 + 1 (latents) + 3 (result) + 1 (the fit check's denoised photo)
    assert len(prior.sigmas) == 9
    assert pipe.last_psf.note.startswith("refined 3x")
    with pytest.raises(InvalidInputError, match="refine_rounds"):
        PipelineConfig(refine_rounds=0)


@pytest.mark.parametrize(("field", "bad"), [("grid_iterations", 0), ("grid_iterations", 17),
                                            ("grid_iterations", 1.5), ("grid_prior_scale", 0.0),
                                            ("grid_prior_scale", float("nan"))])
def test_grid_settings_are_checked(field: str, bad: object) -> None:
    with pytest.raises(InvalidInputError, match=field):
        PipelineConfig(**{field: bad})


def test_grid_path_runs_grid_iterations_prior_passes() -> None:
    """The PSF-grid loop takes its own pass count, not the single-PSF ``iterations``."""
    from edgedeblur.runtime.gyro import PSFGrid

    x, k = _scene(), _shake()
    for passes in (1, 3):
        prior = _ClassicalPrior()
        pipe = DeblurPipeline(prior, PipelineConfig(iterations=3, grid_iterations=passes, linear=False))
        out = pipe.restore(_blur(x, k), psf_grid=PSFGrid.uniform(k, *x.shape[:2]), sigma=2.0)
        assert out.shape == x.shape and len(prior.sigmas) == passes


def test_config_round_trips_through_its_manifest_form() -> None:
    cfg = PipelineConfig(mode="hqs", iterations=3, prior_scale=20.0)
    assert PipelineConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="noise_map_scale"):
        PipelineConfig.from_dict({**cfg.to_dict(), "noise_map_scale": 0.5})


# --- the shipped prior: numbers -----------------------------------------------------------------
def _val_photo(shared_data, size: int = 160) -> np.ndarray:  # noqa: ANN001
    """A centre crop of a validation photo of the training split (never trained on)."""
    from edgedeblur.io import list_images, read_image, to_float

    photo = to_float(read_image(list_images([shared_data / "train/bsds500_test"], recursive=False)[-3]))
    h, w = photo.shape[:2]
    return np.ascontiguousarray(photo[(h - size) // 2:(h + size) // 2, (w - size) // 2:(w + size) // 2])


@pytest.fixture(scope="module")
def shipped_deblur():  # noqa: ANN201
    pytest.importorskip("torch")
    from edgedeblur.methods import get_method

    return get_method("deblur")


def test_shipped_pipeline_beats_wiener_given_the_kernel(shared_data, shipped_deblur) -> None:  # noqa: ANN001
    x, k = _val_photo(shared_data), _shake(19, seed=11)
    y = (np.round(np.clip(_blur(x, k) + np.random.default_rng(0).normal(0, 2.55 / 255, x.shape), 0, 1) * 255)
         / 255).astype(np.float32)
    wiener = _psnr(x, wiener_deconvolve(y, k, sigma=2.55))
    ours = _psnr(x, shipped_deblur.restore(y, kernel=k, sigma=2.55))
    assert shipped_deblur.last_psf.source == "given"
    assert ours > wiener + 1.0, (ours, wiener)
    one_pass = DeblurPipeline(shipped_deblur.prior, PipelineConfig(mode="wiener", iterations=1))
    assert ours > _psnr(x, one_pass.restore(y, kernel=k, sigma=2.55)) > wiener


def test_shipped_pipeline_blind_deblurs_and_leaves_a_sharp_photo_alone(shared_data, shipped_deblur) -> None:  # noqa: ANN001
    from edgedeblur.io import list_images, read_image, to_float

    # a whole validation photo (blind estimation fails often on small crops: docs/deblur_results.md)
    x = to_float(read_image(list_images([shared_data / "train/bsds500_test"], recursive=False)[-6]))
    k = _shake(15, seed=5)
    rng = np.random.default_rng(1)
    y = np.clip(_blur(x, k) + rng.normal(0, 2.55 / 255, x.shape), 0, 1).astype(np.float32)
    blind = _psnr(x, shipped_deblur.restore(y))
    assert shipped_deblur.last_psf.source == "estimated"
    assert blind > _psnr(x, y) + 1.5, (blind, _psnr(x, y))
    crop = np.ascontiguousarray(x[:160, :160])
    noisy = np.clip(crop + rng.normal(0, 10 / 255, crop.shape), 0, 1).astype(np.float32)
    out = shipped_deblur.restore(noisy)
    assert shipped_deblur.last_psf.source == "sharp"
    assert _psnr(crop, out) > _psnr(crop, noisy) + 3.0  # denoised, not damaged


def test_blind_pipeline_refuses_a_kernel_that_does_not_explain_the_photo(shared_data, shipped_deblur,
                                                                         monkeypatch) -> None:  # noqa: ANN001
    from edgedeblur.runtime import kernel_estimate
    from edgedeblur.runtime.kernel_estimate import KernelEstimate

    x, k = _val_photo(shared_data, 192), _shake(17, seed=4)
    y = np.clip(_blur(x, k) + np.random.default_rng(2).normal(0, 2 / 255, x.shape), 0, 1).astype(np.float32)
    handed: list[np.ndarray] = []
    monkeypatch.setattr(kernel_estimate, "estimate_kernel",
                        lambda image, **_: KernelEstimate(handed[-1], 0.5, False, 0.0, {}))
    pipe = DeblurPipeline(shipped_deblur.prior, PipelineConfig(refine_passes=0))
    handed.append(k)  # an estimator that found the true kernel: kept
    good = pipe.restore(y)
    assert pipe.last_psf.source == "estimated" and "fit excess" in pipe.last_psf.note
    assert _psnr(x, good) > _psnr(x, y) + 1.0
    wrong = np.zeros((17, 17), np.float32)
    wrong[8, :] = 1 / 17  # a horizontal streak where the shake was another path
    handed.append(wrong)
    out = pipe.restore(y)
    assert pipe.last_psf.source == "fallback" and "rejected" in pipe.last_psf.note
    np.testing.assert_allclose(out, shipped_deblur.prior.restore(y, sigma=pipe._sigma(y, None, True)), atol=1e-6)
    unchecked = DeblurPipeline(shipped_deblur.prior, PipelineConfig(refine_passes=0, fallback_margin=100.0))
    assert _psnr(x, out) > _psnr(x, unchecked.restore(y))  # the fallback did less harm


def test_linear_light_data_step_undoes_a_linear_light_blur(shared_data, shipped_deblur) -> None:  # noqa: ANN001
    from edgedeblur.runtime.deconv import linear_to_srgb, srgb_to_linear

    x, k = _val_photo(shared_data), _shake(17, seed=2)
    y = linear_to_srgb(_blur(srgb_to_linear(x), k))  # how a camera blurs: light, then gamma
    y = (np.round(y * 255) / 255).astype(np.float32)
    linear = DeblurPipeline(shipped_deblur.prior, PipelineConfig(linear=True))
    srgb = DeblurPipeline(shipped_deblur.prior, PipelineConfig(linear=False))
    assert _psnr(x, linear.restore(y, kernel=k, sigma=1.0)) > _psnr(x, srgb.restore(y, kernel=k, sigma=1.0))


def test_auto_domain_follows_how_the_photo_was_blurred(shared_data, shipped_deblur) -> None:  # noqa: ANN001
    from edgedeblur.runtime.deconv import linear_to_srgb, srgb_to_linear

    x, k = _val_photo(shared_data, 224), _shake(19, seed=6)
    noise = np.random.default_rng(4).normal(0, 1.5 / 255, x.shape)
    camera = np.clip(linear_to_srgb(np.clip(_blur(srgb_to_linear(x), k), 0, 1)) + noise, 0, 1).astype(np.float32)
    synthetic = np.clip(_blur(x, k) + noise, 0, 1).astype(np.float32)
    auto = DeblurPipeline(shipped_deblur.prior, PipelineConfig(linear="auto"))
    out = auto.restore(camera, kernel=k)
    assert auto.last_linear is True
    assert _psnr(x, out) > _psnr(x, DeblurPipeline(shipped_deblur.prior, PipelineConfig(linear=False)).restore(camera, kernel=k))
    out = auto.restore(synthetic, kernel=k)
    assert auto.last_linear is False
    assert _psnr(x, out) > _psnr(x, DeblurPipeline(shipped_deblur.prior, PipelineConfig(linear=True)).restore(synthetic, kernel=k))
