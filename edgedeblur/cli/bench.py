"""edge-bench: measure exported artifacts on this device with the runtime alone.

For every artifact x backend x thread count: latency at the model's tile size and for whole
720p/1080p frames, load time, peak RSS, PSNR/SSIM on the evaluation set shipped with the
package, and the runtime's overhead over a bare backend call. One JSON line per row is
appended to the results file as soon as it is measured; a row that fails is recorded with its
reason and the others go on. Merge results from many devices with edge-report.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .._progress import progress
from ..errors import InvalidInputError
from ._common import EXIT_OK, EXIT_SOME_FAILED, cli_entry

EXAMPLES = """examples:
  edge-bench models/mnv2unet_s_denoise.int8.tflite
  edge-bench exports/ --backend onnxruntime --backend openvino --threads 1 --threads 4
  edge-bench model.int8.tflite --delegate gpu --float-ref model.fp32.tflite -o pi5.jsonl
"""


def _parser() -> argparse.ArgumentParser:
    from ..runtime.backends import BACKENDS

    p = argparse.ArgumentParser(prog="edge-bench", description=__doc__, epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("artifacts", nargs="+", type=Path,
                   help="artifact files, their .manifest.json, or folders searched for *.manifest.json")
    p.add_argument("-o", "--output", type=Path, default=Path("bench-results.jsonl"),
                   help="JSON Lines file rows are appended to (default: %(default)s)")
    p.add_argument("--backend", action="append", default=None,
                   help=f"{', '.join(BACKENDS)}; repeat for several (default: the one in each manifest)")
    p.add_argument("--threads", action="append", type=int, default=None,
                   help=f"CPU threads; repeat for several (default: all usable cores, here {_cores()})")
    p.add_argument("--device", default=None, help="cpu (default), cuda, gpu, npu, auto, qnn, nnapi, coreml ...")
    p.add_argument("--delegate", default=None,
                   help="LiteRT delegate: gpu, nnapi, qnn, hexagon, armnn or a path to a delegate .so")
    p.add_argument("--strict", action="store_true", help="fail the row instead of falling back to the CPU")
    p.add_argument("--runs", type=int, default=20, help="timed runs at tile size (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs (default: %(default)s)")
    p.add_argument("--frames", default="720p,1080p",
                   help="whole-frame sizes to time, comma-separated from 720p,1080p,4k, or 'none'")
    p.add_argument("--frame-runs", type=int, default=3, help="timed runs per frame size (default: %(default)s)")
    p.add_argument("--no-accuracy", action="store_true", help="skip PSNR/SSIM on the shipped evaluation set")
    p.add_argument("--float-ref", type=Path, default=None,
                   help="float artifact of the same model: rows get its PSNR and the drop in dB")
    p.add_argument("--no-isolate", action="store_true",
                   help="measure in this process (faster start; peak RSS then covers all rows)")
    p.add_argument("--label", default=None,
                   help="device name for the report instead of the detected one (e.g. 'Pi 5, fan off')")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per row before it is a failure")
    return p


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def find_manifests(paths: list[Path]) -> list[Path]:
    """Artifacts and folders -> manifest paths (a missing path is kept so its row reports it)."""
    from ..runtime import manifest_path_for

    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(p.rglob("*.manifest.json")))
        else:
            found.append(manifest_path_for(p))
    return found


def _check_args(args: argparse.Namespace) -> list[str]:
    from ..bench.measure import FRAME_SIZES

    frames = [] if args.frames.strip().lower() == "none" else [f.strip() for f in args.frames.split(",") if f.strip()]
    bad = [f for f in frames if f not in FRAME_SIZES]
    if bad:
        raise InvalidInputError("unknown frame size", given=",".join(bad), allowed=", ".join(FRAME_SIZES),
                                hint="e.g. --frames 720p,1080p or --frames none")
    for name in ("runs", "frame_runs", "threads"):
        values = getattr(args, name)
        for v in values if isinstance(values, list) else [values]:
            if v is not None and v < 1:
                raise InvalidInputError(f"--{name.replace('_', '-')} must be at least 1", given=v)
    if args.warmup < 0:
        raise InvalidInputError("--warmup must be 0 or more", given=args.warmup)
    if args.float_ref is not None:
        from ..runtime import Manifest

        Manifest.read(args.float_ref)  # a bad reference is a usage error, not N failed rows
    return frames


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    frames = _check_args(args)
    from ..bench.fingerprint import device_fingerprint
    from ..bench.measure import ROW_SCHEMA, BenchConfig, bench_isolated, bench_one, failed_row
    from ..bench.results import append_row
    from ..runtime.backends import BACKENDS, check_name

    backends = [check_name("backend", b, BACKENDS) for b in args.backend] if args.backend else [None]
    threads = args.threads or [_cores()]
    manifests = find_manifests(args.artifacts)
    if not manifests:
        raise InvalidInputError("no *.manifest.json found", given=[str(p) for p in args.artifacts],
                                hint="give exported artifacts or the folder edge-export wrote")
    fingerprint = device_fingerprint()
    if args.label:
        fingerprint["device_id"] = args.label
    print(f"device: {fingerprint['device_id']} | {fingerprint['os']} | load {fingerprint['load_avg_1m']}",
          file=sys.stderr)
    jobs = [BenchConfig(str(m), b, t, args.device, args.delegate, args.strict, args.runs, args.warmup,
                        frames, args.frame_runs, not args.no_accuracy,
                        str(args.float_ref) if args.float_ref else None)
            for m in manifests for b in backends for t in threads]
    rows = []
    for cfg in progress(jobs, desc="benchmarks", unit="row"):
        if args.no_isolate:
            try:
                row = bench_one(cfg)
            except Exception as exc:  # recorded, never fatal for the batch
                row = failed_row(cfg, f"{type(exc).__name__}: {exc}")
        else:
            row = bench_isolated(cfg, timeout=args.timeout)
        row.update(schema=ROW_SCHEMA, device_id=fingerprint["device_id"], device=fingerprint,
                   time=_now())
        append_row(args.output, row)
        rows.append(row)
    _summary(rows, args.output)
    return EXIT_SOME_FAILED if any(r["status"] != "ok" for r in rows) else EXIT_OK


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary(rows: list[dict], output: Path) -> None:
    print(f"\n{'artifact':36} {'backend':11} {'thr':>3} {'tile ms':>8} {'720p ms':>8} {'1080p ms':>9} "
          f"{'PSNR':>6} {'ovh %':>6} {'RSS MB':>7}  status", file=sys.stderr)
    for r in rows:
        def ms(key: str, r: dict = r) -> str:
            v = (r.get(key) or {}).get("median")
            return "-" if v is None else f"{v:.1f}"
        psnr = "-" if r.get("psnr_db") is None else f"{r['psnr_db']:.2f}"
        ovh = "-" if r.get("overhead_pct") is None else f"{r['overhead_pct']:.1f}"
        rss = "-" if r.get("peak_rss_mb") is None else f"{r['peak_rss_mb']:.0f}"
        status = r["status"] + (f" ({r['reason']})" if r.get("reason") else "")
        status += f" [fallback: {r['fallback']}]" if r.get("fallback") else ""
        print(f"{r['artifact'][:36]:36} {str(r.get('backend'))[:11]:11} {str(r.get('threads')):>3} "
              f"{ms('latency_tile'):>8} {ms('latency_720p'):>8} {ms('latency_1080p'):>9} {psnr:>6} {ovh:>6} {rss:>7}  "
              f"{status}", file=sys.stderr)
    failed = sum(r["status"] != "ok" for r in rows)
    print(f"{len(rows) - failed}/{len(rows)} rows ok; appended to {output}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
