"""The method registry: names, options, errors, protocol, and no heavy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from edgedeblur.errors import (
    ConfigError,
    InvalidInputError,
    KernelError,
    UnknownNameError,
)
from edgedeblur.methods import Method, check_image, get_method, list_methods, register_method

CLASSICAL = ["bm3d", "identity", "nlm-opencv", "nlm-skimage", "richardson-lucy", "wiener"]


def test_classical_methods_are_listed() -> None:
    names = list_methods(include_learned=False)
    assert names == sorted(names)
    for name in CLASSICAL:
        assert name in names


@pytest.mark.parametrize("name", CLASSICAL)
def test_every_classical_method_follows_the_protocol(name: str) -> None:
    method = get_method(name)
    assert isinstance(method, Method)
    assert method.name == name
    assert isinstance(method.needs_kernel, bool) and isinstance(method.needs_sigma, bool)


def test_deconvolvers_declare_they_need_a_kernel() -> None:
    assert get_method("wiener").needs_kernel
    assert get_method("richardson-lucy").needs_kernel
    assert not get_method("bm3d").needs_kernel
    assert not get_method("identity").needs_sigma


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_method("weiner")
    message = str(info.value)
    assert "weiner" in message and "did you mean 'wiener'" in message
    assert "richardson-lucy" in message  # the allowed list is shown


def test_missing_artifact_path_says_no_such_file(tmp_path) -> None:
    with pytest.raises(UnknownNameError, match="no such file"):
        get_method(str(tmp_path / "model.tflite"))


def test_options_reach_the_method_and_bad_ones_are_explained() -> None:
    assert get_method("richardson-lucy", iterations=7).iterations == 7
    with pytest.raises(ConfigError, match="iterations"):
        get_method("richardson-lucy", iteratons=7)
    with pytest.raises(InvalidInputError, match="iterations"):
        get_method("richardson-lucy", iterations=0)
    with pytest.raises(InvalidInputError, match="taper"):
        get_method("wiener", taper="hann")
    with pytest.raises(InvalidInputError, match="profile"):
        get_method("bm3d", profile="fast")


def test_register_method_adds_a_name_and_refuses_a_clash() -> None:
    class Negate:
        name = "test-negate"
        needs_kernel = False
        needs_sigma = False

        def restore(self, image, *, kernel=None, sigma=None):  # noqa: ANN001, ANN201
            return 1.0 - image

    from edgedeblur import methods

    register_method("test-negate")(Negate)
    try:
        assert "test-negate" in list_methods(include_learned=False)
        out = get_method("test-negate").restore(np.zeros((2, 2), np.float32))
        np.testing.assert_array_equal(out, np.ones((2, 2), np.float32))
        with pytest.raises(ValueError, match="already registered"):
            register_method("test-negate")(lambda: Negate())
    finally:
        methods._REGISTRY.pop("test-negate", None)


def test_identity_returns_a_copy_with_the_same_values() -> None:
    image = np.random.default_rng(0).random((5, 6, 3), dtype=np.float32)
    out = get_method("identity").restore(image)
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_array_equal(out, image)
    assert out is not image


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((4, 4), np.uint8), "float"),
        (np.zeros((4, 4, 4), np.float32), "shape"),
        (np.zeros((4,), np.float32), "shape"),
        (np.full((4, 4), np.nan, np.float32), "NaN"),
        ([[0.0, 1.0]], "numpy array"),
    ],
)
def test_bad_images_are_refused_with_an_explanation(image, match: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInputError, match=match):
        check_image(image)
    with pytest.raises(InvalidInputError, match=match):
        get_method("identity").restore(image)


def test_single_channel_last_axis_is_accepted_as_grey() -> None:
    assert check_image(np.zeros((4, 4, 1), np.float64)).shape == (4, 4)


@pytest.mark.parametrize(
    ("kernel", "match"),
    [
        (None, "needs the blur kernel"),
        (np.zeros((0, 3), np.float32), "empty"),
        (np.array([[0.5, np.nan]], np.float32), "NaN"),
        (np.array([[-1.0, 0.5]], np.float32), "negative"),
        (np.zeros((3, 3), np.float32), "sums to zero"),
        (np.ones(5, np.float32), "2-D"),
    ],
)
def test_bad_kernels_are_refused(kernel, match: str) -> None:  # noqa: ANN001
    with pytest.raises(KernelError, match=match):
        get_method("wiener").restore(np.zeros((8, 8), np.float32), kernel=kernel)


@pytest.mark.parametrize("sigma", [-1.0, 300.0, float("nan"), "loud"])
def test_bad_sigma_is_refused(sigma) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInputError, match="sigma"):
        get_method("nlm-opencv").restore(np.zeros((8, 8), np.float32), sigma=sigma)


def test_registry_and_classical_import_without_torch_or_scipy() -> None:
    code = (
        "import sys\n"
        "from edgedeblur.methods import get_method, list_methods\n"
        "list_methods(include_learned=False); get_method('wiener'); get_method('bm3d')\n"
        "heavy = [m for m in ('torch', 'tensorflow', 'scipy', 'cv2', 'skimage', 'bm3d')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
