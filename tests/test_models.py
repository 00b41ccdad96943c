"""Every registered zoo model, tested for free: shape, range, deploy parity, pad multiple, cards."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import edgedeblur.models as zoo
from edgedeblur.errors import ArtifactError, ConfigError, InvalidInputError, UnknownNameError
from edgedeblur.models._macs import input_channels

torch.set_num_threads(1)
MODELS = zoo.list_models()


def _unique_architectures() -> list[str]:
    """One name per distinct (family, architecture): deblur/denoise twins share a graph."""
    seen: dict[str, str] = {}
    for name in MODELS:
        entry = zoo._registry._REGISTRY[name]
        seen.setdefault(f"{entry.family}:{sorted(entry.arch.items())}", name)
    return sorted(seen.values())


ARCHS = _unique_architectures()


def _randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm non-trivial statistics so folding is really exercised."""
    g = torch.Generator().manual_seed(seed)
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            n = mod.num_features
            mod.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.5)
            with torch.no_grad():
                mod.weight.copy_(torch.rand(n, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(n, generator=g) * 0.1)
        for pname in ("beta", "gamma"):  # NAFNet layer scales start at 0 (identity blocks)
            param = getattr(mod, pname, None)
            if isinstance(param, nn.Parameter):
                with torch.no_grad():
                    param.copy_(torch.randn(param.shape, generator=g) * 0.5)
    return model


def test_registry_is_populated() -> None:
    families = {zoo.get_card(n).family for n in MODELS}
    assert {"mnv2unet"} <= families
    assert set(zoo.list_models("denoise")) | set(zoo.list_models("deblur")) <= set(MODELS)
    assert all(zoo.get_card(n).task == "denoise" for n in zoo.list_models("denoise"))


@pytest.mark.parametrize("name", ARCHS)
def test_forward_odd_size_through_method(name: str) -> None:
    method = zoo.create_method(name, pretrained=False)
    rng = np.random.default_rng(1)
    image = rng.random((37, 53, 3), dtype=np.float32)
    out = method.restore(image)
    assert out.shape == image.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    grey = method.restore(image[:, :, 0])
    assert grey.shape == (37, 53)


@pytest.mark.parametrize("name", ARCHS)
def test_deploy_matches_training_form(name: str) -> None:
    model = _randomise_bn(zoo.create_model(name, pretrained=False)).eval()
    deployed = model.to_deploy()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in deployed.modules())
    assert not any(isinstance(m, nn.LayerNorm) for m in deployed.modules())
    m = model.pad_multiple
    x = torch.rand(1, input_channels(model), 2 * m if m >= 16 else 32, 3 * m if m >= 16 else 48)
    with torch.no_grad():
        ref, got = model(x), deployed(x)
    assert ref.shape == (1, 3, *x.shape[2:])
    assert (ref - got).abs().max().item() < 1e-5
    assert ref.min() >= 0 and ref.max() <= 1


@pytest.mark.parametrize("name", ARCHS)
def test_pad_multiple_is_needed_and_enough(name: str) -> None:
    model = zoo.create_model(name, pretrained=False).eval()
    m = model.pad_multiple
    assert m >= 1 and (m & (m - 1)) == 0, "pad_multiple is a power of two"
    with torch.no_grad():
        c = input_channels(model)
        assert model(torch.rand(1, c, m * 2, m * 3)).shape == (1, 3, m * 2, m * 3)
        if m > 1:  # a size that is not a multiple must fail (so the pad really matters)
            with pytest.raises(RuntimeError):
                model(torch.rand(1, c, m * 2 + m // 2, m * 3))


@pytest.mark.parametrize("name", MODELS)
def test_card_fields(name: str) -> None:
    card = zoo.get_card(name)
    assert card.name == name and card.task in zoo.TASKS
    model = zoo.create_model(name, pretrained=False)
    assert card.params == sum(p.numel() for p in model.parameters())
    assert card.macs_720p > 0
    if name in ARCHS:  # computed from the net, not typed (twins share the count)
        assert card.macs_720p == zoo.count_macs(model, 720, 1280)
    assert card.io["pad_multiple"] == model.pad_multiple
    assert card.io["range"] == [0.0, 1.0] and card.io["colour"] == "RGB"
    json.dumps(card.to_dict())


def test_count_macs_single_conv_by_hand() -> None:
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert zoo.count_macs(conv, 10, 12) == 10 * 12 * 8 * 3 * 9
    strided = nn.Conv2d(3, 6, 4, stride=2, padding=1, groups=3)
    assert zoo.count_macs(strided, 16, 20) == 8 * 10 * 6 * 1 * 16
    deconv = nn.ConvTranspose2d(3, 2, 2, stride=2)
    assert zoo.count_macs(deconv, 5, 5) == 5 * 5 * 3 * 2 * 4
    lin = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 7))
    assert zoo.count_macs(lin, 4, 4) == 48 * 7


def test_count_macs_rounds_up_to_pad_multiple() -> None:
    conv = nn.Conv2d(3, 3, 1, bias=False)
    conv.pad_multiple = 8
    assert zoo.count_macs(conv, 9, 9) == 16 * 16 * 9


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownNameError) as err:
        zoo.create_model("mnv2unet_s_deblr")
    assert "did you mean 'mnv2unet_s_deblur'" in str(err.value)
    with pytest.raises(UnknownNameError):
        zoo.create_model("nope")
    with pytest.raises(UnknownNameError):
        zoo.list_models(task="sharpen")


def test_pretrained_without_weights_is_clear(tmp_path, monkeypatch) -> None:
    from edgedeblur.models import _registry

    monkeypatch.setattr(_registry, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ArtifactError) as err:
        zoo.create_model("mnv2unet_xs_deblur")
    assert "no trained weights" in str(err.value) and "pretrained=False" in str(err.value)


def test_weights_round_trip_and_mismatch(tmp_path, monkeypatch) -> None:
    from safetensors.torch import save_file

    from edgedeblur.models import _registry

    monkeypatch.setattr(_registry, "WEIGHTS_DIR", tmp_path)
    model = _randomise_bn(zoo.create_model("mnv2unet_xs_deblur", pretrained=False)).eval()
    save_file(model.state_dict(), str(tmp_path / "mnv2unet_xs_deblur.safetensors"))
    loaded = zoo.create_model("mnv2unet_xs_deblur")
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    with pytest.raises(ArtifactError, match="do not fit"):
        zoo.create_model("mnv2unet_xs_deblur", widths=(8, 16, 24, 48))
    (tmp_path / "mnv2unet_s_deblur.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ArtifactError, match="cannot read weights"):
        zoo.create_model("mnv2unet_s_deblur")


def test_card_file_metrics_and_bad_cards(tmp_path, monkeypatch) -> None:
    from edgedeblur.models import _registry

    monkeypatch.setattr(_registry, "CARDS_DIR", tmp_path)
    name = "mnv2unet_xs_denoise"
    assert zoo.get_card(name).metrics == {}
    (tmp_path / f"{name}.json").write_text(json.dumps(
        {"name": name, "metrics": {"cbsd68_s25_psnr": 30.1}, "recipe": "r.yaml"}))
    card = zoo.get_card(name)
    assert card.metrics == {"cbsd68_s25_psnr": 30.1} and card.recipe == "r.yaml"
    for bad in ({"name": "other", "metrics": {}}, {"name": name, "metrics": {"a": "x"}},
                {"name": name, "metrics": {}, "typo": 1}):
        (tmp_path / f"{name}.json").write_text(json.dumps(bad))
        with pytest.raises(ArtifactError):
            zoo.get_card(name)
    (tmp_path / f"{name}.json").write_text("{broken")
    with pytest.raises(ArtifactError, match="unreadable"):
        zoo.get_card(name)


def test_register_rejects_bad_cards_and_duplicates() -> None:
    with pytest.raises(ConfigError):
        zoo.register_model("x_bad", card={"family": "x", "task": "sharpen"})
    with pytest.raises(ConfigError):
        zoo.register_model("mnv2unet_s_deblur", card={"family": "x", "task": "deblur"})(nn.Identity)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((8, 8, 3), dtype=np.uint8),
        np.zeros((8, 8, 4), dtype=np.float32),
        np.full((8, 8, 3), np.nan, dtype=np.float32),
        np.zeros((1, 8, 3), dtype=np.float32),
        [[0.0, 1.0]],
    ],
)
def test_method_rejects_bad_images(image) -> None:
    method = zoo.create_method("mnv2unet_xs_deblur", pretrained=False)
    with pytest.raises(InvalidInputError):
        method.restore(image)


def test_method_accepts_noisy_out_of_range_input() -> None:
    method = zoo.create_method("mnv2unet_xs_denoise", pretrained=False)
    image = np.random.default_rng(0).normal(0.5, 0.4, (20, 24, 3)).astype(np.float32)
    out = method.restore(image)
    assert out.shape == image.shape and 0 <= out.min() and out.max() <= 1
    assert method.needs_kernel is False and method.needs_sigma is False


@pytest.mark.parametrize("name", ARCHS)
def test_int8_friendly_structure(name: str) -> None:
    """Strided convs pad exactly like TFLite SAME (no PAD op); no unbounded/odd ops on deploy."""
    deployed = zoo.create_model(name, pretrained=False).to_deploy()
    for mod in deployed.modules():
        if isinstance(mod, nn.Conv2d) and max(mod.stride) > 1:
            for k, s, p in zip(mod.kernel_size, mod.stride, mod.padding, strict=True):
                assert 2 * p == k - s, f"{mod} needs an explicit PAD before it in TFLite"
        banned = (nn.LayerNorm, nn.GroupNorm, nn.PixelShuffle, nn.Hardswish, nn.GELU, nn.SiLU,
                  nn.LSTM, nn.GRU, nn.BatchNorm2d)
        assert not isinstance(mod, banned), f"{type(mod).__name__} on the deploy path"


@pytest.mark.parametrize("name", ARCHS)
def test_onnx_export_matches_onnxruntime(name: str, onnx_and_torch) -> None:
    got, ref = onnx_and_torch(zoo.create_model(name, pretrained=False).to_deploy(), 3)
    assert got.shape == ref.shape == (1, 3, 64, 64)
    assert np.abs(got - ref).max() < 1e-4


def test_tiled_restore_matches_whole_image_for_a_local_net() -> None:
    """Where only one tile covers a pixel and its 21-px receptive field lies inside that tile,
    DnCNN's tiled output equals the whole-image output; elsewhere blending keeps it close."""
    whole = zoo.create_method("dncnn_s_denoise", pretrained=False, tile=0)
    tiled = zoo.create_method("dncnn_s_denoise", pretrained=False, tile=64, overlap=24)
    tiled.model = whole.model  # same weights
    image = np.random.default_rng(2).random((104, 104, 3), dtype=np.float32)
    a, b = whole.restore(image), tiled.restore(image)
    assert a.shape == b.shape == image.shape
    # tiles start at 0 and 40: rows/cols 24..39 are covered by the first tile only, >= 24 px
    # from its inner edge, so they are exact
    assert np.abs(a[24:40, 24:40] - b[24:40, 24:40]).max() < 1e-5
    assert np.abs(a - b).mean() < 0.02


def test_bad_tile_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="tile"):
        zoo.create_method("mnv2unet_xs_deblur", pretrained=False, tile=50)
