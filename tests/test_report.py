"""edge-report: merging, Pareto front, Markdown/PNG/HTML outputs, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgedeblur.bench.report import merge_repeats, pareto_front
from edgedeblur.cli.report import main as report_main


def _row(device: str, artifact: str, ms: float, psnr: float, **kw: object) -> dict:
    return {"status": "ok", "device_id": device, "artifact": artifact, "backend": "onnxruntime",
            "threads": 2, "model": artifact.split(".")[0], "precision": "fp32",
            "latency_720p": {"median": ms}, "latency_tile": {"median": ms / 10}, "psnr_db": psnr,
            "tile": {"size": 256, "overlap": 32}, "time": "2026-11-22T04:00:00Z",
            "device": {"cpu_model": device, "arch": "x86_64", "cpu_cores": 2}, **kw}


def test_pareto_front_golden() -> None:
    rows = [_row("d", "a", 100, 30.0), _row("d", "b", 50, 29.0), _row("d", "c", 200, 29.5),
            _row("d", "e", 300, 31.0), _row("d", "f", 50, 28.0), _row("d", "g", 10, 20.0, psnr_db=None)]
    assert [r["artifact"] for r in pareto_front(rows)] == ["b", "a", "e"]


def test_rounds_of_one_file_merge_to_the_median_and_stale_files_drop_out() -> None:
    def at(day: int, ms: float, sha: str | None, **kw: object) -> dict:
        return _row("d", "a", ms, 30.0, time=f"2026-02-{day:02d}T00:00:00Z", artifact_sha256=sha,
                    backend_version="1.0", peak_rss_mb=100 + day, **kw)

    stale = at(1, 50, "old")                      # an earlier export under the same name
    rounds = [at(2, 100, "new"), at(4, 130, "new"), at(3, 90, "new")]
    other_threads = at(5, 120, "new", threads=1)
    merged = merge_repeats([stale, *rounds, other_threads])
    assert len(merged) == 2
    a = merged[0]
    assert a["latency_720p"]["median"] == 100 and a["latency_720p"]["rounds"] == 3
    assert a["latency_720p"]["round_medians"] == [100, 90, 130]  # in time order
    assert a["latency_tile"]["median"] == 10 and a["rounds"] == 3
    assert a["peak_rss_mb"] == 104 and a["time"] == rounds[1]["time"]  # the worst RSS, the newest row
    assert merged[1] is other_threads and "rounds" not in merged[1]
    # no checksum: rounds cannot be told from re-exports, so the newest row wins alone
    assert merge_repeats([at(1, 50, None), at(2, 90, None)]) == [at(2, 90, None)]
    # the newest attempt failed: it stands alone
    failed = {**at(6, 0, "new"), "status": "failed", "latency_720p": None}
    assert merge_repeats([*rounds, failed]) == [failed]


def _write(path: Path, rows: list[dict], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + extra)
    return path


def test_two_devices_report(tmp_path: Path) -> None:
    a = _write(tmp_path / "pi.jsonl", [_row("Raspberry Pi 5", "m.int8", 400, 29.0),
                                        _row("Raspberry Pi 5", "m.fp32", 900, 29.4)])
    b = _write(tmp_path / "x86.jsonl", [_row("AMD EPYC", "m.fp32", 150, 29.4),
                                         {"status": "failed", "artifact": "m.npu", "device_id": "AMD EPYC",
                                          "reason": "NPU | not there", "backend": "openvino", "threads": 2}])
    out = tmp_path / "rep"
    assert report_main([str(a), str(b), "-o", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert md.count("\n## ") == 3  # two devices + failures
    assert "| m | m.int8 | fp32 | onnxruntime | 2 | 256 | 40.00 | 400.0 |" in md
    assert "NPU / not there" in md  # the table is not broken by a | in a reason
    pngs = sorted(out.glob("pareto_*.png"))
    assert len(pngs) == 2 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and 'src="pareto_' not in page
    assert "<table>" in page and "Raspberry Pi 5" in page


def test_bad_lines_are_reported_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    f = _write(tmp_path / "r.jsonl", [_row("d", "a", 10, 20.0)], extra="{broken\n[1, 2]\n")
    assert report_main([str(f), "-o", str(tmp_path / "o"), "--no-plots"]) == 1
    err = capsys.readouterr().err
    assert "r.jsonl:2: not JSON" in err and "r.jsonl:3: not an edge-bench row" in err
    assert not list((tmp_path / "o").glob("*.png"))


def test_missing_and_empty_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert report_main([str(tmp_path / "nope.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n")
    assert report_main([str(empty), "-o", str(tmp_path / "o")]) == 2
    assert "no rows" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    f = _write(tmp_path / "r.jsonl", [_row("d", "a", 10, 20.0)])
    assert report_main([str(f), "-o", str(tmp_path / "file")]) == 2


def test_pareto_is_per_task_and_nas_rows_are_marked(tmp_path) -> None:
    """A denoise row must not knock a deblur row off the front: PSNRs of two eval sets differ."""
    from edgedeblur.bench.report import _table_rows, is_nas_model

    def row(model: str, task: str, ms: float, psnr: float) -> dict:
        return {"model": model, "artifact": model, "evalset_task": task, "status": "ok", "device_id": "d",
                "latency_720p": {"median": ms}, "psnr_db": psnr, "backend": "litert", "threads": 1}

    rows = [row("mnv2unet_s_deblur", "deblur", 100.0, 25.0),   # slower than the denoiser and worse
            row("mnv2unet_s_denoise", "denoise", 50.0, 30.0),
            row("nasunet_x_deblur", "deblur", 200.0, 26.0)]
    on_front = {cells[0] for cells in _table_rows(rows) if cells[-1] == "yes"}
    assert on_front == {"mnv2unet_s_deblur", "mnv2unet_s_denoise", "nasunet_x_deblur"}
    assert [is_nas_model(r) for r in rows] == [False, False, True]
    from edgedeblur.bench.report import write_report

    written = write_report(rows, tmp_path / "rep")
    assert any(k.startswith("plot:") for k in written)
