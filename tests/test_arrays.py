"""The package's one image check (``edgedeblur._arrays``), in each of the modes its callers use."""

from __future__ import annotations

import numpy as np
import pytest

from edgedeblur._arrays import check_image, check_kernel
from edgedeblur.errors import InvalidInputError


def test_float_images_come_back_float32_and_grey_channel_is_dropped() -> None:
    out = check_image(np.zeros((4, 5, 1), np.float64))
    assert out.shape == (4, 5) and out.dtype == np.float32
    same = np.zeros((4, 5, 3), np.float32)
    assert check_image(same) is same


def test_pixels_mode_keeps_integer_dtypes_and_one_pixel_images() -> None:
    for dtype in (np.uint8, np.uint16, np.float64):
        image = np.zeros((1, 3, 3), dtype)
        assert check_image(image, dtypes="pixels", min_side=1) is image
    with pytest.raises(InvalidInputError, match="unsupported dtype"):
        check_image(np.zeros((4, 4), np.int32), dtypes="pixels", min_side=1)


def test_any_channels_mode_keeps_the_channel_axis() -> None:
    assert check_image(np.zeros((4, 4, 1), np.float32), channels="any", min_side=1).shape == (4, 4, 1)
    assert check_image(np.zeros((4, 4, 5), np.float32), channels="any", min_side=1).shape == (4, 4, 5)


@pytest.mark.parametrize(("image", "kwargs", "match"), [
    ([[0.0]], {}, "numpy array"),
    (np.zeros((4, 4, 4), np.float32), {}, "wrong shape"),
    (np.zeros((4, 4, 2, 1), np.float32), {"channels": "any"}, "wrong shape"),
    (np.zeros((1, 8), np.float32), {}, "too small"),
    (np.zeros((7, 30), np.float32), {"min_side": 8}, "at least 8 x 8"),
    (np.zeros((0, 4), np.uint8), {"dtypes": "pixels", "min_side": 1}, "too small"),
    (np.zeros((4, 4), np.uint8), {}, "must be float"),
    (np.full((4, 4), np.inf, np.float32), {}, "NaN or infinity"),
    (np.array([[np.inf, -np.inf], [0, 0]]), {}, "NaN or infinity"),
])
def test_bad_images_are_refused(image: object, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        check_image(image, **kwargs)


def test_huge_finite_values_are_not_mistaken_for_infinity() -> None:
    big = np.full((4, 4), 1e308, np.float64)  # the float64 sum overflows; every value is finite
    assert check_image(big, dtypes="pixels") is big
    with pytest.raises(InvalidInputError, match="NaN or infinity"):  # but not in float32
        check_image(big)


# --- kernels ------------------------------------------------------------------------------

BAD_KERNELS = [
    ("not a kernel", "not numeric"),
    (np.ones((3, 3), bool), "not numeric"),
    (np.array([[1, 2]], object), "not numeric"),
    (np.full((3, 3), 1 + 1j), "complex-valued"),
    (np.ones((3, 3, 2)), "2-D"),
    (np.ones(5), "2-D"),
    (np.zeros((0, 5)), "empty"),
    (np.array([[np.nan, 1.0]]), "NaN or inf"),
    (np.array([[np.inf, 1.0]]), "NaN or inf"),
    (np.array([[-1.0, 2.0]]), "negative"),
    (np.zeros((3, 3)), "sums to zero"),
]


@pytest.mark.parametrize(("kernel", "match"), BAD_KERNELS)
def test_bad_kernels_are_refused_as_invalid_input(kernel: object, match: str) -> None:
    from edgedeblur.errors import KernelError

    with pytest.raises(KernelError, match=match) as err:
        check_kernel(kernel, path="psf.npy")
    assert isinstance(err.value, InvalidInputError) and str(err.value).startswith("psf.npy: ")
    assert "allowed:" in str(err.value)


def test_kernels_are_normalised_or_kept_as_given() -> None:
    k = check_kernel(np.array([[0, 2], [2, 4]], np.int64))  # integers are fine; even sides padded
    assert k.dtype == np.float32 and k.shape == (3, 3) and k.sum() == pytest.approx(1.0)
    assert np.allclose(k[:2, :2], [[0, 0.25], [0.25, 0.5]]) and not k[2].any() and not k[:, 2].any()
    given = np.array([[0.0, 2.0], [2.0, 4.0]])
    kept = check_kernel(given, normalise=False)
    assert kept.dtype == np.float32 and np.array_equal(kept, given)
    assert check_kernel(np.ones((1, 3, 3)) / 9).shape == (3, 3)  # singleton axes are dropped


def test_a_kernel_larger_than_its_image_is_refused() -> None:
    from edgedeblur.errors import KernelError

    assert check_kernel(np.ones((9, 9)), image_shape=(9, 30, 3)).shape == (9, 9)
    for shape in ((11, 3), (3, 31)):
        with pytest.raises(KernelError, match="larger than the image") as err:
            check_kernel(np.ones(shape), image_shape=(10, 30), path="k.npy")
        assert f"{shape[0]} x {shape[1]} kernel for a 10 x 30 image" in str(err.value)


def test_every_entry_point_uses_the_one_kernel_check(tmp_path) -> None:  # noqa: ANN001
    import scipy.io

    from edgedeblur.classical import check_kernel as classical_check
    from edgedeblur.degrade import load_kernel, validate_kernel
    from edgedeblur.errors import KernelError
    from edgedeblur.methods import get_method
    from edgedeblur.runtime.pipeline import DeblurPipeline

    assert validate_kernel is check_kernel and classical_check is check_kernel
    np.save(tmp_path / "c.npy", np.full((3, 3), 1 + 0j))
    scipy.io.savemat(tmp_path / "c.mat", {"psf": np.full((3, 3), 1 + 1j)})
    for name in ("c.npy", "c.mat"):
        with pytest.raises(KernelError, match=f"{name}: kernel is complex-valued"):
            load_kernel(tmp_path / name)
    image = np.full((16, 20, 3), 0.5, np.float32)
    for method in (get_method("wiener"), get_method("richardson-lucy"), DeblurPipeline(prior=None)):
        with pytest.raises(KernelError, match="larger than the image"):
            method.restore(image, kernel=np.ones((17, 3)) / 51, sigma=2.0)
        with pytest.raises(KernelError, match="complex-valued"):
            method.restore(image, kernel=np.full((3, 3), 1 / 9 + 0j), sigma=2.0)
