"""Trainer: recipes and their precedence, losses on known inputs, EMA maths, a real tiny run."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from edgedeblur.errors import ArtifactError, ConfigError
from edgedeblur.train import (
    DEFAULTS,
    ModelEMA,
    PatchDiscriminator,
    PixelLoss,
    apply_overrides,
    charbonnier,
    fft_l1,
    gradient_penalty,
    l1,
    list_recipes,
    load_recipe,
    lr_factor,
    parse_override,
    ragan_ls_d,
    ragan_ls_g,
    recipe_path,
    wgan_d,
    wgan_g,
)

torch.set_num_threads(1)

NOISE = [{"noise": "gaussian:sigma=10-30", "linear": False, "clip": False, "quantize": False}]


def _write(tmp_path, text: str):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- recipes ------------------------------------------------------------------------------------
def test_precedence_defaults_recipe_overrides(tmp_path):
    path = _write(tmp_path, """
model: mnv2unet_xs_denoise
data:
  crop: 48
  degradations:
    - {noise: "gaussian:sigma=0-50", linear: false, clip: false, quantize: false}
train: {lr: 0.001, steps: 100}
""")
    recipe = load_recipe(path, ["train.lr=5e-4", ("data.batch", 3)])
    assert recipe["train"]["lr"] == 5e-4  # override beats recipe
    assert recipe["train"]["steps"] == 100  # recipe beats default
    assert recipe["data"]["crop"] == 48
    assert recipe["data"]["batch"] == 3
    assert recipe["train"]["ema"] == DEFAULTS["train"]["ema"]  # default kept
    assert DEFAULTS["data"]["crop"] == 64  # defaults never mutated


def test_parse_override_parses_yaml_scalars():
    assert parse_override("train.lr=1e-3") == ("train.lr", 1e-3)
    assert parse_override("checkpoint.ship=false") == ("checkpoint.ship", False)
    assert parse_override("data.sources=[bsds500]") == ("data.sources", ["bsds500"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("train.lr")


def test_shipped_recipes_all_load_and_name_registered_models():
    from edgedeblur.models import list_models

    names = list_recipes()
    assert {"mnv2unet_s_denoise", "mnv2unet_s_deblur"} <= set(names)
    for name in names:
        recipe = load_recipe(name)
        assert recipe["model"] in list_models(), name
        # a shipped recipe records its budget: wall-clock minutes, or (the NAS comparison runs) a
        # step count with no clock, said in the file's comments
        tcfg = recipe["train"]
        step_budget = tcfg["max_minutes"] == 0 and tcfg["steps"] <= 10000
        assert tcfg["max_minutes"] > 0 or step_budget, name
        if step_budget:
            assert "budget" in recipe_path(name).read_text().lower(), name


@pytest.mark.parametrize("override, key", [
    ("train.lrr=1", "train.lrr"),
    ("optimiser.lr=1", "optimiser.lr"),
    ("train.lr=fast", "train.lr"),
    ("train.steps=2.5", "train.steps"),
    ("train.schedule=linear", "train.schedule"),
    ("data.crop=0", "data.crop"),
    ("train.ema=1.5", "train.ema"),
    ("checkpoint.ship=maybe", "checkpoint.ship"),
])
def test_bad_key_or_value_is_config_error_naming_the_key(tmp_path, override, key):
    path = _write(tmp_path, "model: mnv2unet_xs_denoise\ndata: {degradations: [{noise: 'gaussian:sigma=5'}]}\n")
    recipe = load_recipe(path)
    with pytest.raises(ConfigError) as info:
        apply_overrides(recipe, [override])
    assert key in str(info.value)


def test_typo_suggests_closest_key_and_names_file(tmp_path):
    path = _write(tmp_path, "model: m\ntrain: {learning_rate: 0.1}\n")
    with pytest.raises(ConfigError) as info:
        load_recipe(path)
    assert "train.learning_rate" in str(info.value) and str(path) in str(info.value)
    path = _write(tmp_path, "model: m\ntrain: {stpes: 10}\n")
    with pytest.raises(ConfigError, match="did you mean 'train.steps'"):
        load_recipe(path)


def test_missing_model_bad_degradation_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="'model' is required"):
        load_recipe(_write(tmp_path, "data: {degradations: [{noise: 'gaussian:sigma=5'}]}\n"))
    with pytest.raises(ConfigError, match=r"data\.degradations\[0\]"):
        load_recipe(_write(tmp_path, "model: m\ndata: {degradations: [{noise: 'gausian:sigma=5'}]}\n"))
    with pytest.raises(ConfigError, match="data.degradations"):
        load_recipe(_write(tmp_path, "model: m\n"))
    with pytest.raises(ConfigError, match="recipe not found"):
        load_recipe(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="YAML mapping"):
        load_recipe(_write(tmp_path, "- just\n- a list\n"))


# --- losses -------------------------------------------------------------------------------------
def test_pixel_losses_known_values():
    x = torch.zeros(1, 3, 8, 8)
    y = torch.full((1, 3, 8, 8), 0.5)
    assert l1(x, y).item() == pytest.approx(0.5)
    assert charbonnier(x, x, eps=1e-3).item() == pytest.approx(1e-3)
    assert charbonnier(x, y, eps=1e-3).item() == pytest.approx(math.sqrt(0.25 + 1e-6))
    # a constant offset c puts c*sqrt(H*W) in the DC bin of an orthonormal rfft2, 0 elsewhere
    bins = 8 * (8 // 2 + 1) * 2  # H x (W/2+1) complex values, real and imaginary parts
    assert fft_l1(x, y).item() == pytest.approx(0.5 * 8 / bins, rel=1e-5)
    assert fft_l1(y, y).item() == 0.0
    total, parts = PixelLoss({"l1": 2.0, "charbonnier": 0.0, "fft": 1.0})(x, y)
    assert total.item() == pytest.approx(2 * 0.5 + 0.5 * 8 / bins, rel=1e-5)
    assert set(parts) == {"l1", "fft"}


def test_relativistic_lsgan_values():
    real, fake = torch.full((2, 1, 3, 3), 0.5), torch.full((2, 1, 3, 3), -0.5)
    assert ragan_ls_d(real, fake).item() == pytest.approx(0.0)  # the discriminator's optimum
    assert ragan_ls_g(real, fake).item() == pytest.approx(4.0)  # ((1+1)^2 + (-1-1)^2) / 2
    assert ragan_ls_g(fake, real).item() == pytest.approx(0.0)  # fooled: fakes rank above reals
    assert wgan_d(real, fake).item() == pytest.approx(-1.0)
    assert wgan_g(real, fake).item() == pytest.approx(0.5)


def test_gradient_penalty_of_unit_norm_linear_critic_is_zero():
    w = torch.randn(1, 3, 4, 4)
    w = w / w.norm()

    def critic(x):
        return (x * w).flatten(1).sum(1)

    real, fake = torch.rand(4, 3, 4, 4), torch.rand(4, 3, 4, 4)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert gradient_penalty(lambda x: 3 * critic(x), real, fake).item() == pytest.approx(4.0, rel=1e-5)


def test_patch_discriminator_shape():
    d = PatchDiscriminator(3, width=8, layers=3)
    assert d(torch.rand(2, 3, 64, 64)).shape == (2, 1, 6, 6)


# --- EMA and schedule ---------------------------------------------------------------------------
def test_ema_update_maths():
    net = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema = ModelEMA(net, decay=0.9)
    with torch.no_grad():
        net.weight.fill_(3.0)
    ema.update(net)  # decay ramp: min(0.9, 1/10) = 0.1 -> 0.1*1 + 0.9*3
    assert ema.module.weight.item() == pytest.approx(2.8)
    ema.updates = 1000  # ramp over: decay 0.9 -> 0.9*2.8 + 0.1*3
    ema.update(net)
    assert ema.module.weight.item() == pytest.approx(2.82)
    assert not ema.module.weight.requires_grad


def test_ema_copies_buffers():
    net = nn.BatchNorm2d(2)
    ema = ModelEMA(net, decay=0.99)
    net.running_mean.fill_(5.0)
    ema.update(net)
    assert torch.equal(ema.module.running_mean, net.running_mean)


def test_lr_factor_warmup_and_cosine():
    kw = {"warmup": 10, "schedule": "cosine", "min_ratio": 0.1}
    assert lr_factor(0, 0.0, **kw) == pytest.approx(0.1)
    assert lr_factor(9, 0.0, **kw) == pytest.approx(1.0)
    assert lr_factor(50, 0.5, **kw) == pytest.approx(0.55)
    assert lr_factor(99, 1.0, **kw) == pytest.approx(0.1)
    assert lr_factor(99, 0.7, warmup=0, schedule="plateau", min_ratio=0, plateau_scale=0.25) == 0.25


# --- a real (tiny) run on the training photos ---------------------------------------------------
class Tiny(nn.Module):
    """A 2-conv residual net with the zoo's head layout, fast enough for tests."""

    pad_multiple = 1

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU6())
        self.head = nn.Module()
        self.head.conv = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x):
        return torch.clamp(x + self.head.conv(self.body(x)), 0, 1)


def _tiny_recipe(shared_data, **extra):
    recipe = load_recipe(base={"model": "tiny", "data": {"degradations": NOISE}})
    overrides = {"data.root": str(shared_data), "data.crop": 24, "data.batch": 2,
                 "data.sources": ["bsds500", "train400_gray"], "data.source_weights": [1.0, 1.0],
                 "data.val_images": 2, "data.val_crop": 32, "train.steps": 3, "train.warmup": 0,
                 "train.schedule": "constant", "train.lr": 1e-2, "val.every": 2, "log.every": 1,
                 "checkpoint.every": 2, **extra}
    return apply_overrides(recipe, list(overrides.items()))


def _run(recipe, out, resume=False):
    from edgedeblur.train import train

    torch.manual_seed(0)
    return train(recipe, out, resume=resume, model=Tiny(), show_progress=False)


def _weights(path):
    from edgedeblur.train import load_weights

    return load_weights(path)


def test_tiny_run_end_to_end_resume_and_determinism(shared_data, tmp_path):
    recipe3 = _tiny_recipe(shared_data)
    res = _run(recipe3, tmp_path / "a")
    assert res.steps == 3 and res.stopped_by == "steps"
    assert res.final_val_psnr is not None and 10 < res.final_val_psnr < 60
    run = tmp_path / "a"
    for name in ("checkpoint/state.pt", "checkpoint/ema.safetensors", "weights.safetensors",
                 "log.csv", "curves.png", "summary.json", "recipe.json"):
        assert (run / name).is_file(), name
    rows = (run / "log.csv").read_text().splitlines()
    assert len(rows) >= 4 and all(math.isfinite(float(r.split(",")[3])) for r in rows[1:] if r.split(",")[3])
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["recipe"]["model"] == "tiny"

    # resume a 3-step run to 5 steps == an uninterrupted 5-step run, bit for bit
    recipe5 = apply_overrides(recipe3, [("train.steps", 5)])
    resumed = _run(recipe5, run, resume=True)
    assert resumed.steps == 5
    _run(recipe5, tmp_path / "b")
    wa, wb = _weights(run / "weights.safetensors"), _weights(tmp_path / "b/weights.safetensors")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    steps_logged = [int(r.split(",")[0]) for r in (run / "log.csv").read_text().splitlines()[1:]]
    assert steps_logged == sorted(steps_logged) and steps_logged[-1] == 5

    # a different seed gives different weights; the trained net differs from its start
    other = _run(apply_overrides(recipe5, [("train.seed", 1)]), tmp_path / "c")
    wc = _weights(other.weights)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)
    assert wa["head.conv.weight"].abs().sum() > 0  # zero-initialised head has moved


def test_run_folder_guards(shared_data, tmp_path):
    recipe = _tiny_recipe(shared_data, **{"train.steps": 1})
    with pytest.raises(ArtifactError, match="no checkpoint"):
        _run(recipe, tmp_path / "x", resume=True)
    _run(recipe, tmp_path / "x")
    with pytest.raises(ConfigError, match="already holds a checkpoint"):
        _run(recipe, tmp_path / "x")
    with pytest.raises(ConfigError, match="another model"):
        _run(apply_overrides(recipe, [("model", "other")]), tmp_path / "x", resume=True)


def test_train_init_fine_tunes_from_earlier_weights(shared_data, tmp_path):
    first = _run(_tiny_recipe(shared_data), tmp_path / "stage1")
    w1 = _weights(first.weights)
    # lr ~0: a fine-tune that starts from stage 1 ends where stage 1 ended (and not at zero-init)
    ft = _tiny_recipe(shared_data, **{"train.init": first.weights, "train.lr": 1e-12, "train.steps": 2,
                                      "train.seed": 1})
    second = _run(ft, tmp_path / "stage2")
    w2 = _weights(second.weights)
    assert w1.keys() == w2.keys()
    assert all(torch.allclose(w1[k], w2[k], atol=1e-6) for k in w1)
    assert w2["head.conv.weight"].abs().sum() > 0
    assert json.loads((tmp_path / "stage2/summary.json").read_text())["recipe"]["train"]["init"] == first.weights
    with pytest.raises(ConfigError, match="names no weights file"):
        _run(_tiny_recipe(shared_data, **{"train.init": str(tmp_path / "missing.safetensors")}), tmp_path / "m")
    from edgedeblur.train import save_weights

    save_weights(tmp_path / "other.safetensors", {"conv.weight": torch.zeros(1)})
    with pytest.raises(ConfigError, match="do not fit tiny"):
        _run(_tiny_recipe(shared_data, **{"train.init": str(tmp_path / "other.safetensors")}), tmp_path / "o")


class TinyBN(Tiny):
    """Tiny with a BatchNorm after its first conv (as the zoo's inverted-residual blocks)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6())


def test_recalibrate_bn_gives_the_plain_average_statistics():
    from edgedeblur.train import has_batchnorm, recalibrate_bn

    net = TinyBN()
    assert has_batchnorm(net) and not has_batchnorm(Tiny())
    rng = np.random.default_rng(0)
    batches = [rng.random((2, 3, 12, 12), dtype=np.float32) * (i + 1) for i in range(3)]
    net.body[1].running_mean.fill_(5.0)  # stale statistics, as the EMA copy carries
    assert recalibrate_bn(net, iter(batches)) == 3
    conv = net.body[0]
    with torch.no_grad():
        feats = [conv(torch.from_numpy(b)) for b in batches]
    mean = torch.stack([f.mean(dim=(0, 2, 3)) for f in feats]).mean(0)
    var = torch.stack([f.var(dim=(0, 2, 3), unbiased=True) for f in feats]).mean(0)
    bn = net.body[1]
    assert torch.allclose(bn.running_mean, mean, atol=1e-5)
    assert torch.allclose(bn.running_var, var, atol=1e-5)
    assert bn.momentum == 0.1 and not net.training and not bn.training


def test_run_ends_with_bn_recalibration_and_records_it(shared_data, tmp_path):
    from edgedeblur.train import train

    recipe = _tiny_recipe(shared_data, **{"train.bn_recal": 4})
    torch.manual_seed(0)
    res = train(recipe, tmp_path / "bn", model=TinyBN(), show_progress=False)
    summary = json.loads((tmp_path / "bn/summary.json").read_text())
    rec = summary["bn_recal"]
    assert rec["batches"] == 4 and rec["val_psnr_after"] == res.final_val_psnr
    assert math.isfinite(rec["val_psnr_before"])
    # the shipped statistics are the recomputed ones, not the raw model's last batches
    w = _weights(res.weights)
    ck = _weights(tmp_path / "bn/checkpoint/model.safetensors")
    assert not torch.allclose(w["body.1.running_mean"], ck["body.1.running_mean"])
    # off: no record, and nets without BN never get one
    torch.manual_seed(0)
    train(_tiny_recipe(shared_data, **{"train.bn_recal": 0}), tmp_path / "off", model=TinyBN(), show_progress=False)
    assert json.loads((tmp_path / "off/summary.json").read_text())["bn_recal"] is None


@pytest.mark.parametrize("kind", ["ragan_ls", "wgan_gp"])
def test_gan_steps_run_and_save_the_discriminator(shared_data, tmp_path, kind):
    recipe = _tiny_recipe(shared_data, **{"data.crop": 32, "loss.adv": 0.01, "gan.kind": kind,
                                          "gan.width": 8, "train.steps": 2})
    res = _run(recipe, tmp_path / kind)
    assert (tmp_path / kind / "checkpoint/disc.safetensors").is_file()
    with (tmp_path / kind / "log.csv").open(newline="") as fh:
        last = list(csv.DictReader(fh))[-1]
    assert math.isfinite(float(last["d_loss"])) and math.isfinite(float(last["adv"]))
    assert res.steps == 2


def test_pair_stream_is_a_pure_function_of_seed_and_step(shared_data):
    from edgedeblur.train import PairStream

    data = _tiny_recipe(shared_data)["data"]
    a, b = PairStream(data, seed=3), PairStream(data, seed=3)
    da, ca = a.batch(7)
    db, cb = b.batch(7)
    assert np.array_equal(da, db) and np.array_equal(ca, cb)
    assert da.shape == (2, 3, 24, 24) and da.dtype == np.float32
    assert not np.array_equal(a.batch(8)[1], ca)
    noise = (da - ca).std()
    assert 10 / 255 * 0.5 < noise < 30 / 255 * 1.5  # sigma 10-30 on the 0-255 scale


def test_validation_images_are_held_out_of_training(shared_data):
    from edgedeblur.train._data import _split_files

    train_files, val_files = _split_files(shared_data, 8)
    assert len(val_files) == 8 and not set(val_files) & set(train_files)
    assert len(train_files) == 392
    assert all("eval" not in p.parts for p in train_files + val_files)


# --- CLI ----------------------------------------------------------------------------------------
def test_cli_help_and_bad_recipe(capsys):
    from edgedeblur.cli.train import main

    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "--max-minutes" in capsys.readouterr().out
    assert main(["mnv2unet_s_denoise", "--set", "train.lrr=1"]) == 2
    err = capsys.readouterr().err
    assert "train.lrr" in err and "did you mean 'train.lr'" in err
    assert main(["no_such_recipe"]) == 2
    assert "recipe not found" in capsys.readouterr().err


def test_cli_trains_a_zoo_model_for_two_steps(shared_data, tmp_path, capsys):
    from edgedeblur.cli.train import main

    out = tmp_path / "run"
    code = main(["mnv2unet_xs_denoise", "--out", str(out), "--steps", "2", "--no-ship", "-q",
                 "--set", f"data.root={shared_data}", "--set", "data.crop=32", "--set", "data.batch=2",
                 "--set", "data.val_images=1", "--set", "data.val_crop=32",
                 "--set", "data.sources=[train400_gray]", "--set", "data.source_weights=[1]"])
    assert code == 0
    assert "trained mnv2unet_xs_denoise: 2 steps" in capsys.readouterr().err
    from edgedeblur.models import create_model

    net = create_model("mnv2unet_xs_denoise", pretrained=False)
    net.load_state_dict(_weights(out / "weights.safetensors"))  # the saved EMA fits the zoo net


def test_dataloader_worker_gives_the_same_batches(shared_data):
    from edgedeblur.train._data import PairStream, batches

    stream = PairStream(_tiny_recipe(shared_data)["data"], seed=5)
    with_worker = list(batches(stream, 1, 3, workers=1))
    assert len(with_worker) == 2
    for step, (d, c) in zip((1, 2), with_worker, strict=True):
        d0, c0 = stream.batch(step)
        assert np.array_equal(d, d0) and np.array_equal(c, c0)


def test_prior_inputs_are_the_pipelines_data_step():
    from edgedeblur.degrade import camera_shake_kernel, degrade, parse_degradation
    from edgedeblur.errors import ConfigError
    from edgedeblur.runtime.deconv import wiener_deconvolve, wiener_deconvolve_linear
    from edgedeblur.train._prior_data import (
        check_prior_config,
        given_sigma,
        perturb_kernel,
        prior_input,
    )

    rng = np.random.default_rng(0)
    clean = np.clip(rng.random((1, 1, 3)) * 0.6 + 0.2 + 0.2 * np.sin(np.arange(96)[:, None, None] / 5.0)
                    * np.cos(np.arange(96)[None, :, None] / 7.0), 0, 1).astype(np.float32)
    k = camera_shake_kernel(13, np.random.default_rng(3))
    cfg = {"mode": "wiener", "prior_scale": 30.0, "kernel_error": 0.0, "sigma_jitter": 0.0}
    camera = degrade(clean, parse_degradation(noise="gaussian:sigma=2"), 1, kernel=k)  # linear light
    assert given_sigma(camera) is None  # noise added in linear light has no single sRGB sigma
    srgb = degrade(clean, parse_degradation(noise="gaussian:sigma=2", linear=False), 1, kernel=k)
    assert given_sigma(srgb) == pytest.approx(2.0)
    y = camera.degraded
    lin = prior_input(y, k, 2.0, np.random.default_rng(5), check_prior_config({**cfg, "linear_share": 1.0}))
    np.testing.assert_array_equal(lin[..., :3], wiener_deconvolve_linear(y, k, prior_scale=30.0)[0])
    plain = prior_input(y, k, 2.0, np.random.default_rng(5), check_prior_config({**cfg, "linear_share": 0.0}))
    np.testing.assert_array_equal(plain[..., :3], np.clip(wiener_deconvolve(y, k, sigma=2.0, prior_scale=30.0), 0, 1))
    assert np.allclose(lin[..., 3], 2.0 / 50) and not np.allclose(lin[..., :3], plain[..., :3])
    for _ in range(8):
        bad = perturb_kernel(k, rng)
        assert bad.min() >= 0 and bad.sum() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ConfigError, match="linear_share"):
        check_prior_config({**cfg, "linear_share": 1.5})
