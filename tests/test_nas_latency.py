"""The NAS latency model: op features, NNLS fit, device profile files, edge-bench join, measuring."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

from torch import nn  # noqa: E402

from edgedeblur.errors import ArtifactError, ConfigError, InvalidInputError  # noqa: E402
from edgedeblur.nas.latency import FEATURE_DOC, LatencyModel, op_features  # noqa: E402


def tiny_genome(width0: int = 8, skip: str = "add") -> dict:
    level = {"depth": 0, "block": "ir", "kernel": 3, "expand": 1}
    return {"levels": [{**level, "width": width0}, {**level, "width": 12}, {**level, "width": 24}],
            "skip": skip, "up": "conv_bilinear", "decoder_block": "ir"}


class _Toy(nn.Module):
    """dense 3x3 (+ReLU6, fused) -> depthwise 3x3 -> 1x1, plus a residual add, a clamp and a concat."""

    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.ReLU6()
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.act(self.dense(x))
        b = a + self.pw(self.dw(a))
        return torch.cat([torch.clamp(b, 0, 1), x], dim=1)


def test_features_of_a_hand_computable_net():
    f = op_features(_Toy(), 16)
    px = 16 * 16
    assert f["macs_dense"] == px * 8 * 3 * 9
    assert f["macs_dw"] == px * 8 * 9
    assert f["macs_pw"] == px * 8 * 8
    assert f["macs_total"] == f["macs_dense"] + f["macs_dw"] + f["macs_pw"]
    # channel-tile padded MACs: 8 output channels compute as 16, 3 input channels as 4
    assert f["macs_dense_c16"] == px * 16 * 4 * 9
    assert f["macs_dw_c16"] == px * 16 * 9
    assert f["macs_pw_c16"] == px * 16 * 8
    assert f["conv_io"] == (3 + 8) * px + (8 + 8) * px + (8 + 8) * px
    assert f["act_fused"] == 8 * px  # the ReLU6 right after the dense conv is not an op
    assert f["add"] == 8 * px and f["clamp"] == 8 * px and f["elementwise"] == 16 * px
    assert f["concat"] == 11 * px
    assert f["n_conv"] == 3
    assert f["n_ops"] == 3 + 1 + 1 + 1  # convs, add, clamp, concat
    assert set(f) == set(FEATURE_DOC)


def test_genome_features_match_count_macs_and_scale_with_tile():
    from edgedeblur.models import count_macs, create_model

    g = tiny_genome(skip="concat")
    net = create_model("nasunet_deblur", pretrained=False, genome=g).eval()
    f32, f64 = op_features(g, 32), op_features(g, 64)
    assert f32["macs_total"] == count_macs(net.to_deploy(), 32, 32)
    assert f64["macs_total"] == 4 * f32["macs_total"]
    assert f64["n_ops"] == f32["n_ops"] > 0 and f32["concat"] > 0
    assert op_features(net, 32) == f32  # a module (to_deploy applied) gives the same


def _synthetic_rows(coef: dict[str, float], intercept: float, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        f = {k: 0.0 for k in FEATURE_DOC}
        f.update(macs_dense=rng.uniform(1e7, 1e9), macs_dw=rng.uniform(1e6, 1e8), macs_pw=rng.uniform(1e7, 1e9),
                 n_ops=float(rng.integers(20, 200)))
        ms = intercept + sum(c * f[k] for k, c in coef.items())
        rows.append({"key": f"r{i}", "features": f, "ms": ms})
    return rows


TRUE = {"macs_dense": 2e-8, "macs_dw": 1e-7, "macs_pw": 1e-8, "n_ops": 5e-3}


def test_nnls_recovers_known_coefficients():
    rows = _synthetic_rows(TRUE, 0.4, 25)
    m = LatencyModel.fit(rows, tile=256, feature_names=list(TRUE) + ["resize"])
    got = dict(zip(m.feature_names, m.coef, strict=True))
    for k, v in TRUE.items():
        assert got[k] == pytest.approx(v, rel=1e-6)
    assert got["resize"] == pytest.approx(0.0, abs=1e-12)  # unused feature stays at zero
    assert m.intercept == pytest.approx(0.4, rel=1e-6)
    assert min(m.coef) >= 0.0
    cv = m.cross_validated_error(k=5)
    assert cv["mape_pct"] < 1e-4 and cv["n"] == 25


def test_heldout_error_is_measured_on_unfitted_rows():
    rows = _synthetic_rows(TRUE, 0.4, 20)
    for r in rows[15:]:
        r["ms"] *= 1.1  # the held-out nets run 10% slower than the model says
    m = LatencyModel.fit(rows[:15], tile=256, feature_names=list(TRUE), heldout_rows=rows[15:])
    assert m.heldout["n"] == 5
    assert m.heldout["mape_pct"] == pytest.approx(100 * 0.1 / 1.1, rel=1e-4)
    assert [r["split"] for r in m.rows].count("heldout") == 5


def test_fit_rejects_unknown_features_and_too_few_rows():
    rows = _synthetic_rows(TRUE, 0.4, 5)
    with pytest.raises(ConfigError, match="unknown latency features"):
        LatencyModel.fit(rows, tile=256, feature_names=["macs_dense", "flops"])
    with pytest.raises(InvalidInputError, match="at least 2"):
        LatencyModel.fit([{**rows[0], "ms": None}, rows[1]], tile=256)


def test_profile_round_trip_predicts_identically(tmp_path):
    rows = _synthetic_rows(TRUE, 0.4, 12)
    m = LatencyModel.fit(rows[:9], tile=32, feature_names=list(TRUE), heldout_rows=rows[9:],
                         target="tflite-int8", backend="litert", threads=1, device={"device_id": "test box"})
    path = m.save(tmp_path / "p.json")
    back = LatencyModel.load(path)
    data = json.loads(path.read_text())
    assert data["schema"] == "edgedeblur-latency/1" and data["heldout"]["n"] == 3
    assert back.to_dict() == m.to_dict()
    g = tiny_genome()
    assert back.predict(g) == m.predict(g)  # exactly, not approximately
    for r in rows:
        assert back.predict(r["features"]) == m.predict(r["features"])
    assert m.predict(g) > 0.4  # intercept plus positive costs


@pytest.mark.parametrize("content, match", [
    ("{not json", "not JSON"),
    (json.dumps({"schema": "edgedeblur-bench/1"}), "not an edgedeblur latency profile"),
    (json.dumps([1, 2]), "not an edgedeblur latency profile"),
    (json.dumps({"schema": "edgedeblur-latency/1", "feature_names": ["macs_dw"], "coef": [1, 2],
                 "intercept": 0, "tile": 256}), "2 coefficients for 1 features"),
    (json.dumps({"schema": "edgedeblur-latency/1", "feature_names": ["gpu_magic"], "coef": [1],
                 "intercept": 0, "tile": 256}), "known feature names"),
])
def test_bad_profile_file_is_an_artifact_error(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ArtifactError, match=match) as exc:
        LatencyModel.load(path)
    assert str(path) in str(exc.value)
    with pytest.raises(ArtifactError, match="not found"):
        LatencyModel.load(tmp_path / "missing.json")


def _bench_row(artifact: str, sha: str, ms: float, threads: int = 1) -> dict:
    """A row as edge-bench writes it (edgedeblur.cli.bench + bench.measure.bench_one)."""
    return {"schema": "edgedeblur-bench/1", "artifact": artifact, "artifact_sha256": sha, "backend": "litert",
            "threads": threads, "status": "ok", "reason": None, "model": "nasunet_deblur", "task": "deblur",
            "latency_tile": {"median": ms, "p90": ms * 1.1, "mean": ms, "std": 0.01, "min": ms * 0.95, "runs": 20},
            "latency_bare_tile": {"median": ms * 0.9, "p90": ms, "mean": ms, "std": 0.01, "min": ms, "runs": 20},
            "overhead_pct": 10.0, "device_id": "Raspberry Pi 5 (aarch64, 4 cores)",
            "device": {"device_id": "Raspberry Pi 5 (aarch64, 4 cores)", "arch": "aarch64"},
            "time": "2030-01-01T00:00:00Z"}


def test_fit_from_bench_joins_rows_by_artifact_sha(tmp_path):
    from edgedeblur.bench.results import append_row
    from edgedeblur.nas._measure import CANDIDATES_SCHEMA, fit_from_bench

    rows = _synthetic_rows(TRUE, 0.4, 8)
    cands = [{"key": r["key"], "genome": tiny_genome(), "artifact": f"{r['key']}/nasunet_deblur.tflite-int8.manifest.json",
              "sha256": f"{i:064x}", "features": r["features"]} for i, r in enumerate(rows)]
    cpath = tmp_path / "candidates.json"
    cpath.write_text(json.dumps({"schema": CANDIDATES_SCHEMA, "task": "deblur", "target": "tflite-int8",
                                 "tile": 256, "candidates": cands}))
    bench = tmp_path / "bench.jsonl"
    for i, r in enumerate(rows):  # every file has the same name on the device: only the sha tells them apart
        append_row(bench, _bench_row("nasunet_deblur.tflite-int8.tflite", f"{i:064x}", r["ms"]))
        append_row(bench, _bench_row("nasunet_deblur.tflite-int8.tflite", f"{i:064x}", 99.0, threads=4))
    append_row(bench, {**_bench_row("other.tflite", "f" * 64, 1.0), "status": "failed"})
    with pytest.raises(InvalidInputError, match="mix thread counts"):
        fit_from_bench(cpath, bench)
    m = fit_from_bench(cpath, bench, heldout=2, threads=1, feature_names=list(TRUE))
    assert m.device["arch"] == "aarch64" and m.threads == 1 and m.backend == "litert" and m.tile == 256
    assert len(m.rows) == 8 and m.heldout["n"] == 2
    assert m.heldout["mape_pct"] < 1e-3  # rows are exactly linear in the features
    by_key = {r["key"]: r["ms"] for r in m.rows}
    assert all(by_key[r["key"]] == r["ms"] for r in rows)
    with pytest.raises(ArtifactError, match="candidates file"):
        fit_from_bench(tmp_path / "bench.jsonl", bench, threads=1)


def test_split_heldout_only_draws_eligible_rows():
    from edgedeblur.nas._measure import split_heldout

    rows = [{"i": i, "zoo": i >= 8} for i in range(12)]
    fit, held = split_heldout(rows, 3, seed=1, eligible=lambda r: not r["zoo"])
    assert len(fit) == 9 and len(held) == 3 and not any(r["zoo"] for r in held)
    assert split_heldout(rows, 3, seed=1, eligible=lambda r: not r["zoo"])[1] == held  # seeded
    with pytest.raises(InvalidInputError, match="hold out"):
        split_heldout(rows, 9, eligible=lambda r: not r["zoo"])


def test_cli_show_prints_coefficients_and_error(tmp_path, capsys):
    from edgedeblur.cli.nas_profile import main

    rows = _synthetic_rows(TRUE, 0.4, 10)
    LatencyModel.fit(rows[:8], tile=256, feature_names=list(TRUE), heldout_rows=rows[8:],
                     device={"device_id": "box"}).save(tmp_path / "p.json")
    assert main(["show", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out
    assert "0.1 ns" in out and "5 us" in out and "held-out error (2 nets" in out
    (tmp_path / "bad.json").write_text("[]")
    assert main(["show", str(tmp_path / "bad.json")]) == 2
    assert "not an edgedeblur latency profile" in capsys.readouterr().err


def test_measure_two_tiny_genomes_for_real_and_resume(tmp_path):
    """Real export (tflite-int8) + real timing through edge-bench's row code (two rounds), then a
    resumed run (about 12 s)."""
    pytest.importorskip("ai_edge_litert")
    from edgedeblur.nas.latency import measure_candidates

    genomes = [tiny_genome(8), tiny_genome(16)]
    rows = measure_candidates(genomes, tmp_path, tile=32, runs=3, warmup=1, rounds=2, progress=False)
    assert [r["status"] for r in rows] == ["ok", "ok"], [r.get("reason") for r in rows]
    assert all(r["rounds"] == 2 and r["ms"] == min(r["ms_rounds"]) and r["min"] <= r["ms"] for r in rows)
    assert all(r["ms"] > 0 and r["bare_ms"] > 0 and r["features"]["macs_total"] > 0 for r in rows)
    assert (tmp_path / rows[0]["artifact"]).is_file()
    lines = (tmp_path / "measured.jsonl").read_text().splitlines()
    again = measure_candidates(genomes, tmp_path, tile=32, runs=3, warmup=1, rounds=2, progress=False)
    assert [r["ms"] for r in again] == [r["ms"] for r in rows]  # read back, not re-measured
    assert (tmp_path / "measured.jsonl").read_text().splitlines() == lines
    m = LatencyModel.fit(rows, tile=32, feature_names=["macs_total", "n_ops"])
    assert m.predict(genomes[0]) > 0


@pytest.mark.slow
def test_other_device_route_with_the_real_edge_bench(tmp_path):
    """export_candidates -> the edge-bench CLI -> fit_from_bench, as on a Pi."""
    pytest.importorskip("ai_edge_litert")
    from edgedeblur.cli.bench import main as edge_bench
    from edgedeblur.nas.latency import export_candidates, fit_from_bench

    genomes = [tiny_genome(8), tiny_genome(12), tiny_genome(16)]
    cands = export_candidates(genomes, tmp_path / "c", tile=32, progress=False)
    bench = tmp_path / "bench.jsonl"
    assert edge_bench([str(tmp_path / "c"), "--threads", "1", "--frames", "none", "--no-accuracy",
                       "--runs", "3", "-o", str(bench)]) == 0
    m = fit_from_bench(cands, bench, feature_names=["macs_total", "n_ops"])
    assert len(m.rows) == 3 and all(r["ms"] > 0 for r in m.rows) and m.threads == 1


def test_min_stat_fits_the_fastest_run_and_survives_the_round_trip(tmp_path):
    rows = _synthetic_rows(TRUE, 0.4, 12)
    for r in rows:  # a loaded machine: the medians are inflated, the fastest runs are the device
        r["min"], r["ms"] = r["ms"], r["ms"] * 1.5
    m = LatencyModel.fit(rows, tile=256, feature_names=list(TRUE), stat="min")
    assert dict(zip(m.feature_names, m.coef, strict=True))["macs_dw"] == pytest.approx(1e-7, rel=1e-6)
    assert m.evaluate(rows)["mape_pct"] < 1e-4
    back = LatencyModel.load(m.save(tmp_path / "p.json"))
    assert back.stat == "min" and back.cross_validated_error()["mape_pct"] < 1e-4
    with pytest.raises(ConfigError, match="statistic"):
        LatencyModel.fit(rows, tile=256, stat="mean")
