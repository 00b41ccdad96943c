"""Noise statistics, the camera order, determinism, the paper protocol and spec strings."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from edgedeblur.degrade import (
    Degradation,
    add_gaussian_noise,
    add_poisson_gaussian_noise,
    degrade,
    gaussian_kernel,
    jpeg_compress,
    linear_to_srgb,
    paper_awgn,
    parse_blur,
    parse_degradation,
    parse_jpeg,
    parse_noise,
    srgb_to_linear,
)
from edgedeblur.errors import ConfigError, InvalidInputError

cv2 = pytest.importorskip("cv2")
cv2.setNumThreads(1)


def natural_image(seed: int = 0, shape: tuple[int, ...] = (96, 96, 3)) -> np.ndarray:
    """A smooth random image with edges, in [0.05, 0.95]."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0.05, 0.95, size=(12, 12) + shape[2:]).astype(np.float32)
    big = cv2.resize(small, shape[1::-1], interpolation=cv2.INTER_CUBIC)
    return np.clip(big, 0.05, 0.95).reshape(shape).astype(np.float32)


@pytest.mark.parametrize("sigma", [5.0, 25.0, 50.0])
def test_gaussian_noise_std_matches_sigma_on_flat_image(sigma: float) -> None:
    flat = np.full((256, 256, 3), 0.5, np.float32)
    noisy = add_gaussian_noise(flat, sigma, np.random.default_rng(1))
    residual = (noisy - flat) * 255
    assert residual.std() == pytest.approx(sigma, rel=0.02)
    assert abs(residual.mean()) < 0.05 * sigma


def test_gaussian_noise_replays_the_papers_random_state() -> None:
    image = natural_image(3)
    ours = add_gaussian_noise(image, 25, np.random.RandomState(0))
    theirs = image + np.random.RandomState(0).normal(0, 25 / 255.0, image.shape)
    assert np.allclose(ours, theirs.astype(np.float32), atol=1e-7)


def test_poisson_gaussian_variance_grows_as_gain_x_plus_read_squared() -> None:
    gain, read = 0.01, 0.02
    rng = np.random.default_rng(2)
    for x in (0.05, 0.2, 0.5, 0.9):
        flat = np.full((200, 200), x, np.float32)
        var = float((add_poisson_gaussian_noise(flat, gain, read, rng) - flat).var())
        assert var == pytest.approx(gain * x + read**2, rel=0.05), x


def test_srgb_transfer_round_trip_and_known_value() -> None:
    x = np.linspace(0, 1, 1001, dtype=np.float32)
    assert np.allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=2e-6)
    assert float(srgb_to_linear(np.float32(0.5))) == pytest.approx(0.21404, abs=1e-4)
    # unclipped data (paper protocol, noise before clipping): the curve mirrored through 0
    y = np.linspace(-0.3, 1.3, 2001).astype(np.float32)
    a = np.abs(y.astype(np.float64))
    want = np.sign(y) * np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    assert np.allclose(srgb_to_linear(y), want, atol=1e-6)
    want = np.sign(y) * np.where(a <= 0.0031308, a * 12.92, 1.055 * a ** (1 / 2.4) - 0.055)
    assert np.allclose(linear_to_srgb(y), want, atol=1e-6)


def test_jpeg_quality_orders_the_error() -> None:
    image = natural_image(4)
    err = {q: float(np.abs(jpeg_compress(image, q) - image).mean()) for q in (10, 50, 95)}
    assert err[95] < err[50] < err[10]
    assert err[95] < 0.01
    out = jpeg_compress(image, 90)
    assert np.allclose(out * 255, np.round(out * 255), atol=1e-4)
    with pytest.raises(ConfigError, match="1-100"):
        jpeg_compress(image, 101)


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    image = natural_image(5)
    spec = parse_degradation("shake:size=15|defocus:radius=1-3", "gaussian:sigma=0-10|poisson-gaussian", "70-95")
    a, b = degrade(image, spec, 123), degrade(image, spec, 123)
    assert a.degraded.tobytes() == b.degraded.tobytes()
    assert a.kernel.tobytes() == b.kernel.tobytes() and a.info == b.info
    c = degrade(image, spec, 124)
    assert a.degraded.tobytes() != c.degraded.tobytes()
    gen = degrade(image, spec, np.random.default_rng(123))
    assert gen.degraded.tobytes() == a.degraded.tobytes()


def test_camera_order_blurs_in_linear_light() -> None:
    edge = np.zeros((32, 64), np.float32)
    edge[:, 32:] = 1.0
    k = np.zeros((1, 9), np.float32)
    k[0] = 1.0 / 9
    camera = degrade(edge, Degradation(linear=True), 0, kernel=k).degraded
    gamma = degrade(edge, Degradation(linear=False), 0, kernel=k).degraded
    # a blurred edge half-way across mixes half the light: 0.5 in linear light is 0.735 in sRGB
    mid = 32
    assert gamma[16, mid] == pytest.approx(5 / 9, abs=1 / 255)
    assert camera[16, mid] == pytest.approx(float(linear_to_srgb(np.float32(5 / 9))), abs=1 / 255)
    assert camera[16, mid] - gamma[16, mid] > 0.15
    assert np.allclose(camera * 255, np.round(camera * 255), atol=1e-4)  # quantised to 8 bit


def test_camera_noise_is_clipped_and_quantised_but_paper_noise_is_not() -> None:
    image = natural_image(6) * 0.1  # dark: noise pushes values below 0
    camera = degrade(image, parse_degradation(noise="gaussian:sigma=25"), 0).degraded
    assert camera.min() >= 0 and camera.max() <= 1
    assert np.allclose(camera * 255, np.round(camera * 255), atol=1e-4)
    paper = degrade(image, paper_awgn(25), 0)
    assert paper.degraded.min() < -0.05
    assert (paper.degraded - image).std() * 255 == pytest.approx(25, rel=0.03)
    assert paper.sigma == 25 and paper.kernel.shape == (1, 1)
    replay = degrade(image, paper_awgn(25), np.random.RandomState(0)).degraded
    want = (image + np.random.RandomState(0).normal(0, 25 / 255.0, image.shape)).astype(np.float32)
    assert np.allclose(replay, want, atol=1e-7)


def test_given_kernel_and_grey_images() -> None:
    grey = natural_image(7, (64, 64))
    k = gaussian_kernel(1.5)
    res = degrade(grey, Degradation(linear=False, quantize=False), 0, kernel=k)
    assert res.degraded.shape == grey.shape and np.array_equal(res.kernel, k)
    assert np.allclose(res.degraded, cv2.filter2D(grey, -1, k, borderType=cv2.BORDER_REFLECT_101), atol=1e-6)
    with pytest.raises(ConfigError, match="RandomState"):
        degrade(grey, parse_degradation("gaussian:sigma=1"), np.random.RandomState(0))
    with pytest.raises(InvalidInputError, match="float"):
        degrade((grey * 255).astype(np.uint8), paper_awgn(5), 0)
    with pytest.raises(ConfigError, match="Degradation"):
        degrade(grey, "gaussian:sigma=5", 0)


def test_mixture_weights_and_ranges_are_sampled() -> None:
    spec = parse_degradation("gaussian:sigma=1@3|defocus:radius=2", "gaussian:sigma=0-50", linear=False)
    image = natural_image(8, (24, 24))
    kinds, sigmas = [], []
    for i in range(200):
        info = degrade(image, spec, i).info
        kinds.append(str(info["blur"]).split(":")[0])
        sigmas.append(info["sigma"])
    assert kinds.count("gaussian") / 200 == pytest.approx(0.75, abs=0.08)
    assert 0 <= min(sigmas) < 5 and 45 < max(sigmas) <= 50


def test_real_kernel_sets_by_name(shared_data, monkeypatch) -> None:
    monkeypatch.setenv("EDGEDEBLUR_DATA", str(shared_data))
    image = natural_image(9)
    res = degrade(image, parse_degradation("levin:index=3"), 0)
    assert res.info["blur"].endswith("levin09_k3.npy")
    assert np.allclose(res.kernel, np.load(shared_data / "kernels/levin09/levin09_k3.npy"), atol=1e-7)
    res.kernel[:] = 0  # results are the caller's to modify: the kernel cache must not change
    again = degrade(image, parse_degradation("levin:index=3"), 0)
    assert np.allclose(again.kernel, np.load(shared_data / "kernels/levin09/levin09_k3.npy"), atol=1e-7)
    seen = {degrade(image, parse_degradation("usrnet", linear=False), i).info["blur"] for i in range(30)}
    assert len(seen) > 5
    with pytest.raises(ConfigError, match="index out of range"):
        degrade(image, parse_degradation("levin:index=9"), 0)


GOOD_SPECS = [
    ("shake:size=31", None), ("motion:length=15,angle=30", None), ("defocus:radius=4", None),
    ("gaussian:sigma=2", None), ("gaussian:sx=3,sy=1,theta=30", None), ("file:/tmp/k.npy", None),
    ("levin", None), ("shake:size=21-41,extent=0.3-1|defocus:radius=1-4@0.5", "gaussian:sigma=0-5"),
    ("shake:size=31,anxiety=0.002-0.03,exposure=0.5-1,speed=0-1", None),
    ("none", "gaussian:sigma=25"), (None, "poisson-gaussian:gain=0.01,read=0.002"),
    ("motion:length=5-25,angle=-30-30", "gaussian:sigma=0-50"),
]


@pytest.mark.parametrize("blur, noise", GOOD_SPECS)
def test_spec_strings_round_trip_through_dict_and_yaml(blur, noise) -> None:
    spec = parse_degradation(blur, noise, jpeg=90)
    again = parse_degradation(spec.blur_string, spec.noise_string, jpeg=90)
    assert again == spec
    assert Degradation.from_dict(spec.to_dict()) == spec
    assert Degradation.from_dict(yaml.safe_load(yaml.safe_dump(spec.to_dict()))) == spec


def test_spec_values() -> None:
    (b,) = parse_blur("motion:length=5-25,angle=-30-30")
    assert b.get("length") == (5.0, 25.0) and b.get("angle") == (-30.0, 30.0)
    assert parse_blur("none") == () and parse_noise("none") == ()
    assert parse_jpeg("70-95") == (70, 95) and parse_jpeg(90) == 90 and parse_jpeg(None) is None
    assert paper_awgn(15).to_dict()["linear"] is False


@pytest.mark.parametrize(
    "blur, noise, jpeg, match",
    [
        ("blurry", None, None, "unknown blur kind"),
        ("shak:size=31", None, None, "did you mean 'shake'"),
        ("shake:size=abc", None, None, "number or a range"),
        ("shake:colour=3", None, None, "bad parameter"),
        ("gaussian:sigma=5-2", None, None, "reversed"),
        ("motion:length=500", None, None, "out of range"),
        ("gaussian:sx=3", None, None, "both sx and sy"),
        ("gaussian:sigma=2,sx=1,sy=1", None, None, "not both"),
        ("file:", None, None, "needs a path"),
        ("", None, None, "empty"),
        (None, "gaussian:sigma=300", None, "out of range"),
        (None, "poisson-gaussian:read=5", None, "read=0.0196"),
        (None, "speckle", None, "unknown noise kind"),
        (None, None, 101, "out of range"),
        (None, None, "good", "bad JPEG"),
    ],
)
def test_bad_specs_are_config_errors_listing_allowed_forms(blur, noise, jpeg, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        parse_degradation(blur, noise, jpeg)
    err = info.value
    assert err.given is not None and (err.allowed is not None or err.hint)  # what was given, what to do


def test_from_dict_rejects_unknown_keys_and_bad_flags() -> None:
    with pytest.raises(ConfigError, match="unknown degradation keys"):
        Degradation.from_dict({"blurr": "shake"})
    with pytest.raises(ConfigError, match="true or false"):
        Degradation.from_dict({"blur": "shake", "linear": "yes"})
    with pytest.raises(ConfigError):
        paper_awgn(-1)
