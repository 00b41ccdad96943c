"""edge-bench on real artifacts: rows, isolation, failures kept, bad arguments; fingerprint; eval set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_runtime_artifacts import build_onnx, write_artifact_manifest

from edgedeblur.bench.evalset import EVALSET_DIR, load_evalset
from edgedeblur.bench.fingerprint import device_fingerprint
from edgedeblur.bench.measure import latency_stats
from edgedeblur.cli.bench import main as bench_main
from edgedeblur.cli.report import main as report_main


def test_fingerprint_describes_this_machine() -> None:
    fp = device_fingerprint()
    assert fp["cpu_cores"] >= 1 and fp["arch"] and fp["python"] and fp["os"]
    assert fp["backends"]["onnxruntime"].startswith("onnxruntime ")
    assert fp["device_id"].endswith("cores)")
    json.dumps(fp)


def test_shipped_evalset_is_small_and_degraded_as_documented() -> None:
    from edgedeblur.metrics import psnr

    size = sum(p.stat().st_size for p in EVALSET_DIR.rglob("*") if p.is_file())
    assert size < 600_000
    for task, (lo, hi) in {"denoise": (19.5, 21.5), "deblur": (11.0, 24.0)}.items():
        pairs = load_evalset(task)
        assert len(pairs) == 6
        for _, degraded, clean in pairs:
            assert degraded.shape == clean.shape == (112, 112, 3) and degraded.dtype == np.uint8
            assert lo < psnr(clean, degraded) < hi  # sigma 25 noise is about 20.5 dB


def test_latency_stats_golden() -> None:
    s = latency_stats([0.001, 0.002, 0.003, 0.004, 0.010])
    assert s == {"median": 3.0, "p90": 7.6, "mean": 4.0, "std": 3.162, "min": 1.0, "runs": 5}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bench")
    good = build_onnx(d, "good", tile=(64, 8))
    cut = build_onnx(d, "cut")
    cut.write_bytes(cut.read_bytes()[:200])
    write_artifact_manifest(cut, "onnx", layout="NCHW", shape=[1, 3, -1, -1], dtype="float32")
    return {"good": good, "cut": cut, "dir": d}


def test_edge_bench_rows_and_failures(artifacts: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "r.jsonl"
    code = bench_main([str(artifacts["good"]), str(artifacts["cut"]), str(tmp_path / "missing.onnx"),
                       "--threads", "1", "--runs", "3", "--warmup", "1", "--frames", "720p",
                       "--frame-runs", "1", "-o", str(out)])
    assert code == 1  # some rows failed, and the batch still finished
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["ok", "failed", "failed"]
    ok = rows[0]
    assert ok["backend"] == "onnxruntime" and ok["threads"] == 1 and ok["tile"] == {"size": 64, "overlap": 8}
    assert ok["latency_tile"]["runs"] == 3 and ok["latency_720p"]["median"] > 0
    assert ok["mode_720p"] == "whole" and ok["evalset_images"] == 6
    assert 10 < ok["psnr_db"] < 30 and 0 < ok["ssim"] <= 1
    assert 10 < ok["peak_rss_mb"] < 2000 and ok["load_s"] > 0
    assert isinstance(ok["overhead_pct"], float)
    assert "could not load" in rows[1]["reason"]
    assert "manifest not found" in rows[2]["reason"]
    assert all(r["device_id"] == ok["device_id"] and r["schema"] == "edgedeblur-bench/1" for r in rows)
    err = capsys.readouterr().err
    assert "1/3 rows ok" in err
    # the same file feeds edge-report
    assert report_main([str(out), "-o", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| good | good | fp32 | onnxruntime | 1 | 64 |" in md
    assert "## Failed measurements" in md


def test_float_ref_gives_drop(artifacts: dict, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    assert bench_main([str(artifacts["good"]), "--threads", "1", "--runs", "2", "--frames", "none",
                       "--float-ref", str(artifacts["good"]), "--no-isolate", "-o", str(out)]) == 0
    row = json.loads(out.read_text())
    assert row["drop_db"] == 0.0 and row["psnr_float_db"] == row["psnr_db"]
    assert "latency_720p" not in row


@pytest.mark.parametrize("argv,message", [
    (["--frames", "8k"], "unknown frame size"),
    (["--backend", "onnxruntim"], "did you mean 'onnxruntime'"),
    (["--runs", "0"], "at least 1"),
])
def test_bad_arguments_exit_2(artifacts: dict, tmp_path: Path, capsys: pytest.CaptureFixture,
                              argv: list, message: str) -> None:
    assert bench_main([str(artifacts["good"]), "-o", str(tmp_path / "x.jsonl"), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()
