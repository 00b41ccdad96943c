"""The NAS search space and the nasunet family: every sampled genome is a valid, exportable net."""

from __future__ import annotations

import copy
import itertools
import json

import numpy as np
import pytest
import torch
from torch import nn

import edgedeblur.models as zoo
from edgedeblur.errors import ConfigError
from edgedeblur.models import nasunet
from edgedeblur.models import nasunet_space as space  # the table the functions read
from edgedeblur.models._blocks import SimpleGate
from edgedeblur.nas.space import (
    SEARCH_SPACE,
    describe_genome,
    genome_from_mnv2unet,
    genome_key,
    mutate_genome,
    sample_genome,
    space_size,
    suggest_genome,
    validate_genome,
)

torch.set_num_threads(1)


def _genome(blocks, kernels, skip, up, dec, widths=(8, 12, 24), expand=2) -> dict:
    levels = [{"width": w, "depth": 1, "block": b, "kernel": k, "expand": expand}
              for w, b, k in zip(widths, blocks, kernels, strict=True)]
    return validate_genome({"levels": levels, "skip": skip, "up": up, "decoder_block": dec})


# three tiny genomes that together use every block, kernel, skip, upsampling and decoder choice
TINY = [
    _genome(("ir", "plain", "naf"), (5, 3, 5), "concat", "conv_nearest", "naf"),
    _genome(("naf", "ir", "plain"), (3, 5, 3), "add", "bilinear_conv", "plain"),
    _genome(("plain", "naf", "ir"), (5, 5, 3), "concat", "conv_bilinear", "ir"),
]


def _randomise(model: nn.Module, seed: int) -> nn.Module:
    """Non-trivial BN statistics and NAF layer scales, so deploy folding is really exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) * 0.5 + 0.5)
                mod.weight.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
            for pname in ("beta", "gamma"):
                param = getattr(mod, pname, None)
                if isinstance(param, nn.Parameter):
                    param.copy_(torch.randn(param.shape, generator=g) * 0.5)
    return model.eval()


def test_sampled_genomes_validate_build_and_run() -> None:
    rng = np.random.default_rng(0)
    genomes = [sample_genome(rng) for _ in range(200)]
    seen: dict[str, set] = {k: set() for k in ("block", "kernel", "expand", "skip", "up", "decoder_block", "n")}
    x = torch.rand(1, 3, 32, 32)
    for g in genomes:
        assert validate_genome(g) == g  # sampled genomes are already normalised
        json.dumps(g)  # plain JSON types only (no numpy ints)
        model = zoo.create_model("nasunet_deblur", pretrained=False, genome=g).eval()
        assert model.pad_multiple == 2 ** (len(g["levels"]) - 1)
        with torch.no_grad():
            y = model(x)
        assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
        for key in ("skip", "up", "decoder_block"):
            seen[key].add(g[key])
        seen["n"].add(len(g["levels"]))
        for lv in g["levels"]:
            seen["block"].add(lv["block"])
            seen["kernel"].add(lv["kernel"])
            seen["expand"].add(lv["expand"])
    # the sampler reaches every choice of the table
    for key in ("block", "kernel", "expand", "skip", "up", "decoder_block"):
        assert seen[key] == set(SEARCH_SPACE[key]), key
    assert seen["n"] == set(SEARCH_SPACE["num_levels"])
    assert len({genome_key(g) for g in genomes}) == 200


def test_sample_genome_respects_max_levels_and_seed() -> None:
    a = [sample_genome(np.random.default_rng(5), max_levels=3) for _ in range(3)]
    assert a[0] == a[1] == a[2] and len(a[0]["levels"]) == 3
    with pytest.raises(ConfigError, match="max_levels"):
        sample_genome(np.random.default_rng(0), max_levels=2)


@pytest.mark.parametrize("seed", range(4))
def test_deploy_matches_training_form(seed: int) -> None:
    g = TINY[seed] if seed < len(TINY) else sample_genome(np.random.default_rng(seed))
    model = _randomise(zoo.create_model("nasunet_deblur", pretrained=False, genome=g), seed)
    deployed = model.to_deploy()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in deployed.modules())
    x = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ref, got = model(x), deployed(x)
    assert (ref - got).abs().max().item() < 1e-5
    assert (ref - x).abs().max().item() > 1e-3  # the blocks really act (not an identity net)


@pytest.mark.parametrize("size", ["xs", "s", "m", "l"])
def test_mnv2unet_variants_are_points_of_the_space(size: str) -> None:
    ref = zoo.create_model(f"mnv2unet_{size}_deblur", pretrained=False)
    net = zoo.create_model("nasunet_deblur", pretrained=False, genome=genome_from_mnv2unet(size))
    assert zoo.count_params(net) == zoo.count_params(ref)
    assert zoo.count_macs(net, 720, 1280) == zoo.count_macs(ref, 720, 1280)
    assert net.pad_multiple == ref.pad_multiple


def test_registered_entries_default_to_mnv2unet_s() -> None:
    for task in ("deblur", "denoise"):
        card = zoo.get_card(f"nasunet_{task}")
        assert card.family == "nasunet" and card.task == task and not card.has_weights
        assert card.arch["genome"] == genome_from_mnv2unet("s")
        assert card.macs_720p == zoo.get_card("mnv2unet_s_deblur").macs_720p
    with pytest.raises(ConfigError, match="mnv2unet size"):
        genome_from_mnv2unet("xl")


def _set(g: dict, path: str, value) -> dict:
    g = copy.deepcopy(g)
    target, *keys = path.split(".")
    if target.startswith("levels["):
        obj = g["levels"][int(target[7:-1])]
        obj[keys[0]] = value
    elif value is _DELETE:
        del g[target]
    else:
        g[target] = value
    return g


_DELETE = object()


@pytest.mark.parametrize(("path", "value", "named"), [
    ("levels[0].width", 24, "levels[0].width"),
    ("levels[2].kernel", 7, "levels[2].kernel"),
    ("levels[1].block", "mbconv", "levels[1].block"),
    ("levels[1].depth", True, "levels[1].depth"),
    ("levels[0].depth", 2, "levels[0].depth"),
    ("levels[3].expand", 6, "levels[3].expand"),
    ("levels[1].stride", 2, "levels[1].stride"),
    ("skip", "mul", "skip"),
    ("up", "pixelshuffle", "up"),
    ("decoder_block", None, "decoder_block"),
    ("levels", [], "levels"),
    ("up", _DELETE, "up"),
    ("extra", 1, "extra"),
])
def test_bad_genomes_name_the_key(path: str, value, named: str) -> None:
    g = _set(genome_from_mnv2unet("s"), path, value)
    with pytest.raises(ConfigError) as err:
        validate_genome(g)
    assert repr(named) in str(err.value) and err.value.allowed is not None
    with pytest.raises(ConfigError):  # the model refuses it the same way
        zoo.create_model("nasunet_deblur", pretrained=False, genome=g)


def test_validate_refuses_non_dicts_and_normalises_numbers() -> None:
    with pytest.raises(ConfigError, match="must be a dict"):
        validate_genome([1, 2])
    g = genome_from_mnv2unet("s")
    g["levels"][1]["width"] = 24.0
    assert validate_genome(g)["levels"][1]["width"] == 24
    assert isinstance(validate_genome(g)["levels"][1]["width"], int)


def test_key_is_stable_and_names_the_network() -> None:
    g = genome_from_mnv2unet("s")
    assert genome_key(g) == "824a219f88df"  # pinned: caches and names must survive releases
    assert genome_key(json.loads(json.dumps(g))) == genome_key(g)
    reordered = {k: g[k] for k in reversed(list(g))}
    assert genome_key(reordered) == genome_key(g)
    # genes the network never reads do not change the key: the deepest level has no decoder
    # merge, so with depth 0 its block, kernel and expand are unused
    unused = copy.deepcopy(g)
    unused["levels"][3].update(depth=0)
    other = copy.deepcopy(unused)
    other["levels"][3].update(block="naf", kernel=5, expand=4)
    assert genome_key(unused) == genome_key(other)
    changed = copy.deepcopy(g)
    changed["levels"][3]["kernel"] = 5
    assert genome_key(changed) != genome_key(g)


def test_describe_genome() -> None:
    assert describe_genome(genome_from_mnv2unet("s")) == (
        "L4 w12-24-48-96 d0-1-1-2 ir/ir/ir/ir k3-3-3-3 e1-2-2-2 add conv_bilinear dec:ir")


def test_suggest_genome_with_optuna_asks_only_used_genes() -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(40):
        trial = study.ask()
        g = suggest_genome(trial)
        assert validate_genome(g) == g
        for i, lv in enumerate(g["levels"]):
            assert (f"l{i}_block" in trial.params) == (lv["depth"] > 0)
        deepest = len(g["levels"]) - 1
        if g["levels"][deepest]["depth"] == 0:
            assert f"l{deepest}_kernel" not in trial.params
        study.tell(trial, 0.0)
    assert study.trials[0].params["levels"] in SEARCH_SPACE["num_levels"]


def test_mutate_genome_changes_one_thing() -> None:
    rng = np.random.default_rng(3)
    parent = genome_from_mnv2unet("m")
    for _ in range(30):
        child = mutate_genome(parent, rng)
        assert validate_genome(child) == child and genome_key(child) != genome_key(parent)
        if len(child["levels"]) == len(parent["levels"]):
            flat = lambda g: [(k, g[k]) for k in ("skip", "up", "decoder_block")] + [  # noqa: E731
                (i, k, v) for i, lv in enumerate(g["levels"]) for k, v in lv.items()]
            diff = [a for a, b in zip(flat(parent), flat(child), strict=True) if a != b]
            assert 1 <= len(diff) <= 3  # one gene, plus genes it made (un)used


def test_space_size_counts_distinct_networks(monkeypatch) -> None:
    """Brute force on a small table: distinct normalised genomes == the closed-form count."""
    small = {**SEARCH_SPACE, "num_levels": (3,), "width": ((8,), (16,), (24,)),
             "depth": ((0, 1), (0, 1), (0, 1)), "expand": (1, 2), "skip": ("add",), "up": ("conv_bilinear",)}
    monkeypatch.setattr(space, "SEARCH_SPACE", small)
    keys = set()
    per_level = list(itertools.product((0, 1), small["block"], small["kernel"], small["expand"]))
    for dec in small["decoder_block"]:
        for combo in itertools.product(per_level, repeat=3):
            levels = [{"width": w[0], "depth": d, "block": b, "kernel": k, "expand": e}
                      for w, (d, b, k, e) in zip(small["width"], combo, strict=True)]
            keys.add(genome_key({"levels": levels, "skip": "add", "up": "conv_bilinear", "decoder_block": dec}))
    assert space_size() == len(keys)


def test_full_space_size_and_level_limit() -> None:
    assert space_size(3) < space_size(4) < space_size()
    assert space_size() > 10**12


def test_no_minimum_gate_equals_clamped_gate() -> None:
    x = torch.randn(2, 8, 5, 5) * 10
    assert torch.allclose(SimpleGate(6.0)(x), SimpleGate(6.0, no_minimum=True)(x), atol=1e-5)


def _genome_file(tmp_path, stem: str, **over) -> object:
    data = {"name": stem, "task": "deblur", "genome": TINY[0], "search": {"trials": 2}, **over}
    path = tmp_path / f"{stem}.json"
    path.write_text(json.dumps(data))
    return path


def test_genome_file_registers_a_zoo_entry(tmp_path) -> None:
    name = "nasunet_test_found_deblur"
    path = _genome_file(tmp_path, name)
    try:
        assert nasunet.register_genome_file(path) == name
        card = zoo.get_card(name)
        assert card.family == "nasunet" and card.arch["genome"] == TINY[0]
        assert describe_genome(TINY[0]) in card.description
        model = zoo.create_model(name, pretrained=False)
        assert model.genome == TINY[0]
    finally:
        zoo._registry._REGISTRY.pop(name, None)


@pytest.mark.parametrize(("over", "match"), [
    ({"name": "other"}, "must equal"),
    ({"task": "sharpen"}, "bad task"),
    ({"search": []}, "search"),
    ({"genome": {**TINY[0], "skip": "mul"}}, "'skip'"),
    ({"extra": 1}, "exactly these keys"),
])
def test_bad_genome_files_name_the_file(tmp_path, over: dict, match: str) -> None:
    path = _genome_file(tmp_path, "nasunet_bad_deblur", **over)
    with pytest.raises(ConfigError, match=match) as err:
        nasunet.load_genome_file(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("index", range(len(TINY)))
def test_tiny_genomes_export_to_onnx_and_match_onnxruntime(index: int, onnx_and_torch) -> None:
    deployed = _randomise(zoo.create_model("nasunet_deblur", pretrained=False, genome=TINY[index]), index).to_deploy()
    got, ref = onnx_and_torch(deployed, index)
    assert got.shape == ref.shape == (1, 3, 64, 64)
    assert np.abs(got - ref).max() < 1e-4


def _export_int8(genome: dict, tmp_path):
    pytest.importorskip("ai_edge_litert")
    pytest.importorskip("ai_edge_quantizer")
    from edgedeblur.export import export_model

    (result,) = export_model("nasunet_deblur", ["tflite-int8"], tmp_path, random_init=True,
                             model_kwargs={"genome": genome}, tile=64, calib_images=8, heldout=1,
                             max_drop_db=100)
    return result


@pytest.mark.parametrize("index", [
    0,  # naf (gate without MINIMUM), concat, nearest: the choices most at risk of float ops
    pytest.param(1, marks=pytest.mark.slow),
    pytest.param(2, marks=pytest.mark.slow),
])
def test_tiny_genome_exports_to_tflite_int8_without_float_ops(index: int, tmp_path) -> None:
    result = _export_int8(TINY[index], tmp_path)
    assert not isinstance(result, Exception), result
    assert result.float_ops == [] and set(result.ops_by_precision) == {"int8"}
    manifest = json.loads(result.manifest.read_text())
    assert manifest["model"]["name"] == "nasunet_deblur"
    assert result.parity.psnr_vs_float_db > 25  # random init: a loose sanity bound on INT8 error
