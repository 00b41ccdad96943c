"""Blur kernels: normalisation, centring, shapes, real kernels from the shared data, bad kernels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.io
import scipy.ndimage
import scipy.signal
from PIL import Image

from edgedeblur.degrade import (
    blur_image,
    camera_shake_kernel,
    centre_kernel,
    defocus_kernel,
    gaussian_kernel,
    linear_motion_kernel,
    load_kernel,
    validate_kernel,
)
from edgedeblur.errors import KernelError

cv2 = pytest.importorskip("cv2")
cv2.setNumThreads(1)


def centroid(k: np.ndarray) -> tuple[float, float]:
    yy, xx = np.mgrid[0: k.shape[0], 0: k.shape[1]]
    return float((k * yy).sum() / k.sum()), float((k * xx).sum() / k.sum())


def principal_angle(k: np.ndarray) -> float:
    """Angle (degrees, counter-clockwise on screen, in [0, 180)) of the kernel's long axis."""
    cy, cx = centroid(k)
    yy, xx = np.mgrid[0: k.shape[0], 0: k.shape[1]]
    x, y = xx - cx, -(yy - cy)  # y up
    cov = np.array([[(k * x * x).sum(), (k * x * y).sum()], [(k * x * y).sum(), (k * y * y).sum()]])
    w, v = np.linalg.eigh(cov)
    vx, vy = v[:, np.argmax(w)]
    return math.degrees(math.atan2(vy, vx)) % 180


def check_psf(k: np.ndarray, *, centred_within: float = 0.05) -> None:
    assert k.dtype == np.float32 and k.ndim == 2
    assert k.shape[0] % 2 == 1 and k.shape[1] % 2 == 1
    assert abs(float(k.sum(dtype=np.float64)) - 1.0) < 1e-5
    assert k.min() >= 0
    cy, cx = centroid(k)
    assert abs(cy - (k.shape[0] - 1) / 2) <= centred_within
    assert abs(cx - (k.shape[1] - 1) / 2) <= centred_within


@pytest.mark.parametrize(
    "kernel",
    [
        gaussian_kernel(2.0),
        gaussian_kernel(sx=3, sy=1, theta=30),
        defocus_kernel(4),
        defocus_kernel(1.3),
        linear_motion_kernel(15, 30),
        linear_motion_kernel(7.5, 123),
        camera_shake_kernel(31, 0),
        camera_shake_kernel(31, 1),
        camera_shake_kernel(15, 7, anxiety=0.1, extent=1.0, exposure=1.0),
    ],
)
def test_generated_kernels_are_normalised_and_centred(kernel: np.ndarray) -> None:
    check_psf(kernel)


def test_gaussian_widths_and_orientation() -> None:
    k = gaussian_kernel(2.0)
    var = (k * (np.arange(k.shape[1]) - k.shape[1] // 2) ** 2).sum()
    assert var == pytest.approx(4.0, rel=0.03)  # truncated at 3 sigma: a hair under sigma^2
    k = gaussian_kernel(sx=3, sy=1, theta=30)
    assert principal_angle(k) == pytest.approx(30.0, abs=0.5)
    assert principal_angle(gaussian_kernel(sx=1, sy=3, theta=0)) == pytest.approx(90.0, abs=0.5)


def test_motion_kernel_length_and_angle() -> None:
    k = linear_motion_kernel(15, 0)
    rows = np.nonzero(k.sum(axis=1))[0]
    assert list(rows) == [k.shape[0] // 2]  # horizontal: one row
    x = np.arange(k.shape[1]) - k.shape[1] // 2
    assert (k.sum(axis=0) * x**2).sum() == pytest.approx(15**2 / 12, rel=0.05)  # uniform over 15 px
    assert principal_angle(linear_motion_kernel(15, 30)) == pytest.approx(30.0, abs=1.0)
    assert principal_angle(linear_motion_kernel(15, 90)) == pytest.approx(90.0, abs=1.0)


def test_defocus_disk_is_flat_and_round() -> None:
    k = defocus_kernel(4)
    assert k.max() == pytest.approx(1 / (math.pi * 16), rel=0.03)  # area pi r^2
    assert np.allclose(k, k.T) and np.allclose(k, k[::-1])
    assert defocus_kernel(0).shape == (1, 1)


def test_camera_shake_is_seeded_and_varied() -> None:
    a, b = camera_shake_kernel(31, 5), camera_shake_kernel(31, 5)
    c = camera_shake_kernel(31, 6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    for k in (a, c):
        assert k[0].sum() == 0 and k[-1].sum() == 0 and k[:, 0].sum() == 0 and k[:, -1].sum() == 0
        assert (k > 1e-4).sum() >= 10  # a path, not a dot


def participation(k: np.ndarray) -> float:
    """How many pixels the kernel's light is effectively spread over: 1 / sum(k^2)."""
    k = k.astype(np.float64) / k.sum()
    return float(1.0 / (k**2).sum())


def test_camera_shake_parameters_do_what_they_say() -> None:
    seeds = range(12)
    calm = np.median([participation(camera_shake_kernel(31, s, anxiety=0.003, extent=1)) for s in seeds])
    tangled = np.median([participation(camera_shake_kernel(31, s, anxiety=0.1, extent=1)) for s in seeds])
    assert tangled > 1.3 * calm  # an erratic hand covers more of the kernel
    small = np.median([participation(camera_shake_kernel(31, s, extent=0.3)) for s in seeds])
    big = np.median([participation(camera_shake_kernel(31, s, extent=1.0)) for s in seeds])
    assert big > 2 * small
    # uneven hand speed concentrates light where the hand dwells: a higher peak for the same path
    steady = [camera_shake_kernel(31, s, anxiety=0.005, speed=0.0) for s in seeds]
    jerky = [camera_shake_kernel(31, s, anxiety=0.005, speed=1.0) for s in seeds]
    assert np.median([j.max() / k.max() for j, k in zip(jerky, steady, strict=True)]) > 1.2


def test_real_levin_kernels_load_and_keep_orientation(shared_data) -> None:
    files = sorted((shared_data / "kernels" / "levin09").glob("*.npy"))
    assert len(files) == 8
    for path in files:
        k = load_kernel(path)
        check_psf(k, centred_within=k.shape[0])  # real kernels keep their stored position
        assert np.allclose(k, np.load(path) / np.load(path).sum(), atol=1e-7)
        impulse = np.zeros((61, 61), np.float32)
        impulse[30, 30] = 1.0
        out = blur_image(impulse, k)
        r = k.shape[0] // 2
        # a true convolution of an impulse reproduces the PSF, not its 180-degree rotation
        assert np.allclose(out[30 - r: 31 + r, 30 - r: 31 + r], k, atol=1e-7)
        assert not np.allclose(k, k[::-1, ::-1], atol=1e-4)
    assert np.allclose(load_kernel(files[0], flip=True), load_kernel(files[0])[::-1, ::-1])


def test_centre_kernel_moves_real_kernels_onto_their_centroid(shared_data) -> None:
    offsets = []
    for path in sorted((shared_data / "kernels" / "levin09").glob("*.npy")):
        k = load_kernel(path)
        cy, cx = centroid(k)
        offsets.append(max(abs(cy - (k.shape[0] - 1) / 2), abs(cx - (k.shape[1] - 1) / 2)))
        c = centre_kernel(k)
        check_psf(c, centred_within=0.5)
        # a whole-pixel translation: the same values, and the blurs differ by a shift only
        np.testing.assert_allclose(np.sort(c[c > 0]), np.sort(k[k > 0]), rtol=1e-6)
        img = np.random.default_rng(0).random((64, 64)).astype(np.float32)
        a, b = blur_image(img, k), blur_image(img, c)
        dy = round(centroid(k)[0] - (k.shape[0] - 1) / 2)
        dx = round(centroid(k)[1] - (k.shape[1] - 1) / 2)
        np.testing.assert_allclose(np.roll(b, (dy, dx), axis=(0, 1))[20:44, 20:44], a[20:44, 20:44], atol=1e-5)
    assert max(offsets) > 3  # Levin's k6 is off by more than 3 pixels: the reason for centring
    centred = gaussian_kernel(2.0)
    assert centre_kernel(centred) is not None and np.array_equal(centre_kernel(centred), centred)


def test_even_sized_real_kernel_is_padded_to_odd(shared_data) -> None:
    path = shared_data / "kernels" / "usrnet_large" / "k_large_2.npy"
    raw = np.load(path)
    k = load_kernel(path)
    assert raw.shape == (70, 70) and k.shape == (71, 71)
    assert np.allclose(k[:70, :70], raw / raw.sum(), atol=1e-7)


def test_blur_is_a_true_convolution_with_numpy_borders() -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(40, 50)).astype(np.float32)
    k = camera_shake_kernel(9, 3)
    want = scipy.ndimage.convolve(image.astype(np.float64), k.astype(np.float64), mode="mirror")
    assert np.allclose(blur_image(image, k, border="reflect"), want, atol=1e-5)
    want = scipy.ndimage.convolve(image.astype(np.float64), k.astype(np.float64), mode="reflect")
    assert np.allclose(blur_image(image, k, border="symmetric"), want, atol=1e-5)
    full = scipy.signal.fftconvolve(image, k, mode="same")
    assert np.allclose(blur_image(image, k)[8:-8, 8:-8], full[8:-8, 8:-8], atol=1e-5)
    want = scipy.ndimage.convolve(image.astype(np.float64), k.astype(np.float64), mode="wrap")
    assert np.allclose(blur_image(image, k, border="wrap"), want, atol=1e-5)
    colour = np.stack([image, image * 0.5, 1 - image], axis=2)
    out = blur_image(colour, k)
    assert out.shape == colour.shape and np.allclose(out[..., 1], blur_image(image * 0.5, k), atol=1e-6)


def test_kernel_files_in_other_formats(tmp_path) -> None:
    k = camera_shake_kernel(15, 2)
    png = tmp_path / "k.png"
    Image.fromarray((k / k.max() * 255).round().astype(np.uint8)).save(png)
    assert np.allclose(load_kernel(png), k, atol=2e-3)
    scipy.io.savemat(tmp_path / "one.mat", {"kernel": k.astype(np.float64)})
    assert np.allclose(load_kernel(tmp_path / "one.mat"), k, atol=1e-7)
    cells = np.empty((1, 2), dtype=object)
    cells[0, 0], cells[0, 1] = k, gaussian_kernel(1.0)
    scipy.io.savemat(tmp_path / "cells.mat", {"kernels": cells})
    assert np.allclose(load_kernel(tmp_path / "cells.mat", index=1), gaussian_kernel(1.0), atol=1e-7)
    with pytest.raises(KernelError, match="choose one"):
        load_kernel(tmp_path / "cells.mat")
    scipy.io.savemat(tmp_path / "two.mat", {"a": k, "b": k})
    with pytest.raises(KernelError, match="exactly one"):
        load_kernel(tmp_path / "two.mat")
    assert np.allclose(load_kernel(tmp_path / "two.mat", key="b"), k, atol=1e-7)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[np.nan, 1.0], [1.0, 1.0]]), "NaN or inf"),
        (np.array([[np.inf, 1.0, 0.0]]), "NaN or inf"),
        (np.array([[-1.0, 2.0, 1.0]]), "negative"),
        (np.zeros((3, 3)), "sums to zero"),
        (np.zeros((0, 5)), "empty"),
        (np.ones((3, 3, 2)), "2-D"),
        ("not a kernel", "not numeric"),
    ],
)
def test_bad_kernels_raise_kernel_error(bad, match: str) -> None:
    with pytest.raises(KernelError, match=match):
        validate_kernel(bad)


def test_bad_kernel_files_name_the_file(tmp_path) -> None:
    nan_file = tmp_path / "nan.npy"
    np.save(nan_file, np.full((5, 5), np.nan, np.float32))
    with pytest.raises(KernelError, match="nan.npy.*NaN"):
        load_kernel(nan_file)
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"this is not numpy")
    with pytest.raises(KernelError, match="junk.npy"):
        load_kernel(junk)
    with pytest.raises(KernelError, match="does not exist"):
        load_kernel(tmp_path / "missing.npy")
    other = tmp_path / "kernel.txt"
    other.write_text("1 2 3")
    with pytest.raises(KernelError, match="unsupported kernel file type"):
        load_kernel(other)
    with pytest.raises(KernelError):
        gaussian_kernel(0.0)
    with pytest.raises(KernelError):
        linear_motion_kernel(-3)
