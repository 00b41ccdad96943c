"""Peak memory of restoring a 50-megapixel photo through the runner (goal: under 1 GiB RSS).

A child process builds an 8192 x 6144 RGB uint8 photo (a CBSD68 image repeated, 50.3 MP, 151 MB)
and restores it with the artifact (tiles streamed, one float32 band of tiles held at a time).
The parent reads the child's peak RSS with ``resource.getrusage(RUSAGE_CHILDREN)``; the baseline
child that only builds the input and allocates the output array is measured the same way, so
the runtime's own share is the difference.

Run: ``nice .venv/bin/python benchmarks/runtime_memory.py [ARTIFACT] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "build" / "bench-artifacts" / "mnv2unet_s_denoise.onnx-fp32.manifest.json"
H, W = 6144, 8192

CHILD = """
import sys, time, numpy as np
from edgedeblur.io import read_image
src = read_image(sys.argv[1])
img = np.tile(src[:320, :480], ({h} // 320 + 1, {w} // 480 + 1, 1))[:{h}, :{w}].copy()
if sys.argv[2] == 'baseline':
    out = np.empty_like(img); out[:] = img
    print('{{"seconds": 0}}')
else:
    from edgedeblur.runtime import load
    r = load(sys.argv[2], threads=int(sys.argv[3]))
    t = time.perf_counter()
    out = r.restore(img)
    print('{{"seconds": %.1f, "tile": %d, "overlap": %d}}' % (time.perf_counter() - t, r.tile, r.overlap))
assert out.shape == img.shape and out.dtype == np.uint8
"""


def _child_peak(args: list[str]) -> tuple[float, dict]:
    """Run one child; return its peak RSS in MiB and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    res = subprocess.run([sys.executable, "-c", CHILD.format(h=H, w=W), *args], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(res.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise SystemExit("the child's peak was not above an earlier child's; run the children in separate runs")
    return peak / 1024.0, json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("artifact", nargs="?", type=Path, default=DEFAULT)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    photo = sorted((args.data / "eval" / "cbsd68").glob("*.png"))[0]
    t0 = time.perf_counter()
    base_mb, _ = _child_peak([str(photo), "baseline"])
    run_mb, info = _child_peak([str(photo), str(args.artifact), str(args.threads)])
    print(f"{W}x{H} RGB uint8 ({W * H / 1e6:.1f} MP), artifact {args.artifact.name}, {args.threads} threads")
    print(f"baseline child (input + output arrays only): peak RSS {base_mb:.0f} MiB")
    print(f"restore child: peak RSS {run_mb:.0f} MiB (runtime share {run_mb - base_mb:.0f} MiB), "
          f"{info['seconds']} s, tile {info['tile']} overlap {info['overlap']}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
