"""edge-nas: the search driver end to end on tiny settings, resume, constraint, outputs, CLI.

The device profile is a real LatencyModel fitted on synthetic rows (ms = 1 + macs / 1e6 on a
32x32 tile) so predicted latencies are known exactly; proxy training is the real trainer on the
shared data for 3 steps.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("optuna")

from edgedeblur.cli.nas import main as nas_main  # noqa: E402
from edgedeblur.errors import ConfigError  # noqa: E402
from edgedeblur.nas._proxy import ProxyConfig  # noqa: E402
from edgedeblur.nas.latency import LatencyModel, op_features  # noqa: E402
from edgedeblur.nas.search import (  # noqa: E402
    TrialRecord,
    best_genome,
    best_record,
    load_search,
    pareto_front,
    run_search,
)
from edgedeblur.nas.space import genome_from_mnv2unet, genome_key  # noqa: E402

TILE = 32
TINY = {"proxy_steps": 3, "proxy": ProxyConfig(crop=32, batch=2), "progress": False}


def _synthetic_ms(genome: dict) -> float:
    return 1.0 + op_features(genome, TILE)["macs_total"] / 1e6


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [{"features": op_features(genome_from_mnv2unet(s), TILE), "ms": _synthetic_ms(genome_from_mnv2unet(s))}
            for s in ("xs", "s", "m")]
    model = LatencyModel.fit(rows, tile=TILE, feature_names=("macs_total",), target="tflite-int8", threads=1,
                             device={"board": "synthetic board"})
    return model.save(tmp_path_factory.mktemp("profile") / "synthetic.json")


@pytest.fixture(scope="module")
def zoo_ms() -> dict[str, float]:
    return {s: _synthetic_ms(genome_from_mnv2unet(s)) for s in ("xs", "s", "m")}


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory, profile: Path, zoo_ms: dict, shared_data: Path) -> dict:
    """Two trials, then the same search resumed to three: xs, s, then m (the enqueued references)."""
    out = tmp_path_factory.mktemp("search")
    budget = (zoo_ms["s"] + zoo_ms["m"]) / 2  # xs and s within, m over
    first = run_search("deblur", profile, budget, 2, out, data_root=str(shared_data), **TINY)
    second = run_search("deblur", profile, budget, 3, out, data_root=str(shared_data), **TINY)
    return {"out": out, "budget": budget, "first": first, "second": second}


def test_search_two_trials_end_to_end(searched: dict, zoo_ms: dict) -> None:
    first, out, budget = searched["first"], searched["out"], searched["budget"]
    assert first.new_trials == 2 and [r.zoo for r in first.records] == ["mnv2unet_xs", "mnv2unet_s"]
    model = LatencyModel.load(first.profile["path"])
    for r, size in zip(first.records, ("xs", "s"), strict=True):
        assert r.status == "complete" and r.feasible and r.latency_ms <= budget
        assert r.latency_ms == pytest.approx(zoo_ms[size], rel=1e-4)
        assert r.latency_ms == pytest.approx(model.predict(r.genome), abs=1e-3)
        assert r.key == genome_key(genome_from_mnv2unet(size))
        assert 5.0 < r.psnr < 60.0 and r.params > 0 and r.macs_720p > 0 and r.cpu_seconds > 0
    assert first.profile["device"] == "synthetic board" and first.profile["tile"] == TILE
    # the csv holds what the records hold
    rows = list(csv.DictReader((out / "trials.csv").open(encoding="utf-8")))
    assert len(rows) == 3  # rewritten by the resumed run
    assert json.loads(rows[0]["genome"]) == genome_from_mnv2unet("xs")
    assert float(rows[1]["psnr"]) == pytest.approx(first.records[1].psnr, abs=1e-3)
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "study.log").stat().st_size > 0
    best = best_record(first)
    assert best is not None and best.psnr == max(r.psnr for r in first.records)
    assert best_genome(first) == best.genome and best_genome(first, budget_ms=zoo_ms["xs"] - 0.01) is None


def test_resume_runs_exactly_the_missing_trials(searched: dict, zoo_ms: dict) -> None:
    second, budget = searched["second"], searched["budget"]
    assert second.new_trials == 1 and len(second.records) == 3
    assert [r.number for r in second.records] == [0, 1, 2]
    # earlier records are read back unchanged, not re-trained
    assert [r.psnr for r in second.records[:2]] == [r.psnr for r in searched["first"].records]
    m = second.records[2]
    assert m.zoo == "mnv2unet_m" and m.latency_ms > budget and not m.feasible
    assert m.status == "complete"  # references are trained even when over budget
    assert all(r.latency_ms <= budget for r in second.front)
    assert m not in second.front
    doc = json.loads((searched["out"] / "pareto.json").read_text(encoding="utf-8"))
    lat = [p["latency_ms"] for p in doc["front"]]
    assert lat == sorted(lat) and {p["zoo"] for p in doc["zoo"]} == {"mnv2unet_xs", "mnv2unet_s", "mnv2unet_m"}
    assert doc["best"]["key"] == best_record(second).key
    assert [r.key for r in load_search(searched["out"])] == [r.key for r in second.records]
    # the same command again: nothing left to do
    third = run_search("deblur", second.profile["path"], budget, 3, searched["out"], **TINY)
    assert third.new_trials == 0 and len(third.records) == 3


def test_warm_start_imports_trained_candidates_free_and_checks_the_protocol(
        searched: dict, zoo_ms: dict, tmp_path: Path, shared_data: Path) -> None:
    donor = searched["second"]
    budget = zoo_ms["xs"] + 0.01  # another budget: only the imported xs fits
    out = tmp_path / "warm"
    result = run_search("deblur", donor.profile["path"], budget, 1, out, include_zoo=False,
                        warm_start=[searched["out"]], data_root=str(shared_data), **TINY)
    imported = [r for r in result.records if r.status == "imported"]
    assert [r.key for r in imported] == [r.key for r in donor.records]
    assert [r.psnr for r in imported] == [r.psnr for r in donor.records]  # results, not retrained
    assert all(r.cpu_seconds == 0.0 for r in imported) and len(list((out / "proxy").iterdir())) == 1
    assert [r.feasible for r in imported] == [True, False, False]  # re-judged at this budget
    assert result.new_trials == 1  # imports do not count towards --trials
    trained = [r for r in result.records if r.status == "complete"]
    assert len(trained) == 1 and trained[0].latency_ms <= budget
    # resuming imports nothing twice
    again = run_search("deblur", donor.profile["path"], budget, 1, out, include_zoo=False,
                       warm_start=[searched["out"]], **TINY)
    assert again.new_trials == 0 and len(again.records) == len(result.records)
    # another proxy protocol: its results mean something else
    with pytest.raises(ConfigError, match="warm-start search ran with another proxy"):
        run_search("deblur", donor.profile["path"], budget, 1, tmp_path / "other", include_zoo=False,
                   warm_start=[searched["out"]], **{**TINY, "proxy_steps": 4})
    with pytest.raises(ConfigError, match="no edge-nas search"):
        run_search("deblur", donor.profile["path"], budget, 1, tmp_path / "other2", include_zoo=False,
                   warm_start=[tmp_path], **TINY)


def test_infeasible_budget_rejects_without_training(tmp_path: Path, profile: Path, zoo_ms: dict) -> None:
    budget = 0.5  # below the profile's 1 ms intercept: nothing can meet it
    result = run_search("denoise", profile, budget, 2, tmp_path, include_zoo=False, attempts_per_trial=3, **TINY)
    # rejections do not count as trials: it tries up to 3 x 2 genomes, all rejected, none trained
    assert len(result.records) == 6 and result.new_trials == 0
    for r in result.records:
        assert r.status == "rejected" and not r.feasible and r.psnr is None and r.cpu_seconds == 0.0
        assert r.latency_ms > 1.5 * budget and r.params > 0
    assert result.front == [] and best_genome(result) is None
    assert not (tmp_path / "proxy").exists()
    assert json.loads((tmp_path / "pareto.json").read_text(encoding="utf-8"))["best"] is None
    with pytest.raises(ConfigError, match="budget_ms"):  # resuming with other settings is refused
        run_search("denoise", profile, 2 * budget, 3, tmp_path, include_zoo=False, **TINY)


def test_trial_left_running_by_a_killed_run_is_failed_and_redone(tmp_path: Path, profile: Path) -> None:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState

    run_search("denoise", profile, 0.5, 1, tmp_path, include_zoo=False, attempts_per_trial=1, **TINY)
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "study.log")))
    study = optuna.load_study(study_name="edge-nas-denoise", storage=storage)
    orphan = study.ask()  # what a process killed mid-trial leaves: RUNNING, no record
    result = run_search("denoise", profile, 0.5, 2, tmp_path, include_zoo=False, attempts_per_trial=1, **TINY)
    # 2 attempts in all: trial 0 from the first run, the orphan (1) failed, trial 2 redone
    assert result.new_trials == 0 and [r.number for r in result.records] == [0, 2]
    study = optuna.load_study(study_name="edge-nas-denoise", storage=storage)
    assert study.trials[orphan.number].state == TrialState.FAIL


def _rec(number: int, key: str, ms: float, psnr: float | None) -> TrialRecord:
    return TrialRecord(number=number, key=key, description="", genome={}, latency_ms=ms, feasible=True,
                       status="complete" if psnr is not None else "rejected", psnr=psnr)


def test_pareto_front_keeps_only_non_dominated_points() -> None:
    records = [_rec(0, "a", 10, 25.0), _rec(1, "b", 20, 24.0), _rec(2, "c", 30, 26.0),
               _rec(3, "a", 10, 25.0), _rec(4, "d", 5, None), _rec(5, "e", 40, 26.0), _rec(6, "f", 8, 23.0)]
    assert [r.key for r in pareto_front(records)] == ["f", "a", "c"]
    assert [r.key for r in pareto_front(records, budget_ms=25)] == ["f", "a"]
    assert best_record(records, budget_ms=25).key == "a"
    with pytest.raises(ConfigError):
        best_record(records)


def test_enqueued_genomes_are_trained_first_once_and_bad_files_are_named(
        tmp_path: Path, profile: Path, zoo_ms: dict, shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    from edgedeblur.nas import enqueue_into_search, read_genome_files

    xs = genome_from_mnv2unet("xs")
    narrow = json.loads(json.dumps(xs))
    narrow["levels"][0]["width"] = 12  # not a zoo reference: only --enqueue puts it first
    as_list = tmp_path / "mine.json"
    as_list.write_text(json.dumps([narrow, {"name": "x", "task": "deblur", "genome": narrow, "search": {}}]))
    genomes = read_genome_files([as_list])
    assert [genome_key(g) for g in genomes] == [genome_key(narrow)] * 2  # both file forms read
    out = tmp_path / "enq"
    budget = zoo_ms["s"]
    result = run_search("deblur", profile, budget, 1, out, include_zoo=False, enqueue=genomes,
                        data_root=str(shared_data), **TINY)
    assert [r.key for r in result.records] == [genome_key(narrow)]  # trained once, before any child
    assert result.records[0].status == "complete" and result.new_trials == 1
    again = run_search("deblur", profile, budget, 2, out, include_zoo=False, enqueue=genomes,
                       data_root=str(shared_data), **TINY)
    assert [r.key for r in again.records].count(genome_key(narrow)) == 1  # not retrained on resume
    assert again.new_trials == 1
    assert enqueue_into_search(out, genomes) == 0  # already trained: nothing to add
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"levels": [{"width": 7}]}))
    with pytest.raises(ConfigError, match="--enqueue entry 0") as exc:
        read_genome_files([bad])
    assert str(bad) in str(exc.value)
    args = ["--task", "deblur", "--device-profile", str(profile), "--latency-budget", "10", "--trials", "1",
            "--out", str(tmp_path / "o")]
    assert nas_main([*args, "--enqueue", str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_cli_help_and_errors(tmp_path: Path, profile: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        nas_main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--latency-budget" in text and "--device-profile" in text and "study.log" in text
    missing = tmp_path / "no_such_profile.json"
    args = ["--task", "deblur", "--latency-budget", "10", "--trials", "1", "--out", str(tmp_path / "o")]
    assert nas_main([*args, "--device-profile", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": 1}', encoding="utf-8")
    assert nas_main([*args, "--device-profile", str(foreign)]) == 2
    assert "not an edgedeblur latency profile" in capsys.readouterr().err
    bad_budget = ["--task", "deblur", "--latency-budget", "0", "--device-profile", str(profile)]
    assert nas_main(bad_budget) == 2
    assert "latency budget must be a positive" in capsys.readouterr().err
    assert nas_main([*args, "--device-profile", str(profile), "--export-genome", str(tmp_path / "Bad-Name.json")]) == 2
    assert "genome file" in capsys.readouterr().err
    not_a_search = tmp_path / "empty"
    not_a_search.mkdir()
    assert nas_main([*args, "--device-profile", str(profile), "--warm-start", str(not_a_search)]) == 2
    assert "no edge-nas search" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        nas_main(["--task", "sharpen", "--device-profile", str(profile), "--latency-budget", "5"])
    assert exc.value.code == 2


def test_cli_resumes_and_exports_genome(searched: dict, shared_data: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    from edgedeblur.models.nasunet import load_genome_file

    second = searched["second"]
    genome_file = tmp_path / "nas_test_deblur.json"
    code = nas_main(["--task", "deblur", "--device-profile", second.profile["path"], "--latency-budget",
                     str(searched["budget"]), "--trials", "3", "--out", str(searched["out"]), "--proxy-steps", "3",
                     "--proxy-crop", "32", "--proxy-batch", "2", "--data-root", str(shared_data), "--quiet",
                     "--export-genome", str(genome_file)])
    err = capsys.readouterr().err
    assert code == 0
    assert "3 trials (0 new" in err and "Pareto front within" in err and "pareto.png" in err
    doc = load_genome_file(genome_file)
    best = best_record(second)
    assert doc["name"] == "nas_test_deblur" and doc["task"] == "deblur" and doc["genome"] == best.genome
    assert doc["search"]["psnr_proxy_db"] == best.psnr and doc["search"]["budget_ms"] == searched["budget"]
    assert doc["search"]["proxy"]["steps"] == 3 and doc["search"]["proxy"]["recipe"] == "mnv2unet_s_deblur"


def test_enqueued_reference_parameters_decode_to_the_reference() -> None:
    """The zoo trials' Optuna parameters are the reference genome, so NSGA-II breeds from them."""
    from optuna.trial import FixedTrial

    from edgedeblur.nas.search import _genome_params
    from edgedeblur.nas.space import suggest_genome

    for size in ("xs", "s", "m", "l"):
        genome = genome_from_mnv2unet(size)
        assert suggest_genome(FixedTrial(_genome_params(genome))) == genome


def test_evolution_children_fit_the_budget_and_are_new() -> None:
    import numpy as np

    from edgedeblur.nas._evolution import propose_child, select_parent
    from edgedeblur.nas.space import genome_from_mnv2unet, genome_key

    def predict(g: dict) -> float:  # a toy latency: total width x depth
        return float(sum(lv["width"] * (1 + lv["depth"]) for lv in g["levels"]))

    rng = np.random.default_rng(0)
    parent = genome_from_mnv2unet("s")
    budget = predict(parent)
    seen = {genome_key(parent)}
    for _ in range(8):
        child = propose_child(parent, predict, budget, seen, rng)
        assert predict(child) <= budget and genome_key(child) not in seen
        seen.add(genome_key(child))

    class Rec:
        def __init__(self, genome: dict, psnr: float | None, ms: float) -> None:
            self.genome, self.psnr, self.latency_ms, self.scored = genome, psnr, ms, psnr is not None

    xs, m = genome_from_mnv2unet("xs"), genome_from_mnv2unet("m")
    # the only feasible scored record is the parent, whatever the tournament draws
    records = [Rec(m, 30.0, 20.0), Rec(xs, 25.0, 5.0), Rec(parent, None, 5.0)]
    assert select_parent(records, 10.0, rng) == xs
    assert select_parent([], 10.0, rng) == parent  # nothing yet: start from the zoo's default
    # nothing fits yet: walk toward the budget from the fastest scored net
    assert select_parent(records, 4.0, rng) == xs
    # a better net a little over the budget is a parent too (its children must fit)
    assert select_parent(records, 10.0, rng, slack=2.0) == m
    # a budget no single mutation reaches: the fastest redraw, never a slower one than needed
    tight = 20.0  # below any net one or two genes from mnv2unet_s (toy latency 444)
    child = propose_child(parent, predict, tight, {genome_key(parent)}, np.random.default_rng(1))
    assert tight < predict(child) < predict(parent)


def test_unknown_strategy_is_refused_before_any_work(tmp_path: Path, profile: Path) -> None:
    with pytest.raises(ConfigError, match="strategy") as err:
        run_search("deblur", profile, 10.0, 2, tmp_path / "s", strategy="random", **TINY)
    assert "evolution" in str(err.value) and not (tmp_path / "s").exists()


def test_heldout_score_scores_whole_photos_at_the_benchmark_setting(shared_data: Path) -> None:
    import math

    import torch

    from edgedeblur.nas._proxy import heldout_score, proxy_recipe
    from edgedeblur.train import psnr, validation_pairs

    class Identity(torch.nn.Module):
        pad_multiple = 1

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    data = proxy_recipe("denoise", ProxyConfig(steps=2, val_images=2), data_root=str(shared_data))["data"]
    crops = validation_pairs(data)
    assert all(c.shape[-2:] == (data["val_crop"], data["val_crop"]) for _, c in crops)
    score = heldout_score(Identity(), "denoise", data)
    # the identity's score is the noisy input's PSNR: AWGN sigma 25 (20.17 dB before clipping)
    assert 19.5 < score < 21.5, score
    from edgedeblur.degrade import paper_awgn

    whole = validation_pairs(data, crop=0, degradation=paper_awgn(25), seed=2024)
    assert all(c.shape[-2] > data["val_crop"] and c.shape[-1] > data["val_crop"] for _, c in whole)
    expected = sum(float(psnr(torch.from_numpy(d), torch.from_numpy(c))) for d, c in whole) / len(whole)
    assert math.isclose(score, expected, abs_tol=1e-6)
    with pytest.raises(ConfigError, match="unknown proxy score"):
        ProxyConfig(score="loss")
