"""The package's one image check (``edgedeblur._arrays``), in each of the modes its callers use."""

from __future__ import annotations

import numpy as np
import pytest

from edgedeblur._arrays import check_image
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
