"""Make the small evaluation set shipped with edge-bench (``edgedeblur/bench/evalset/``).

Why: accuracy on the device must be measured without the shared data folder, with pairs anyone
may redistribute for research. Sources: centre crops of CBSD68 (BSDS500 validation images,
research use; disjoint from the BSD400 training split) and procedural dead-leaves images
(no licence). Degraded with ``edgedeblur.degrade`` (seeded), stored as 8-bit PNG:

* ``denoise/``: white Gaussian noise sigma 25 (0-255 scale), clipped and quantised to 8 bit.
* ``deblur/``: a real Levin et al. camera-shake kernel (reflect border) + Gaussian noise sigma 2.55.

Run: ``.venv/bin/python benchmarks/runtime_make_evalset.py [--data ../shared/data]``.
Re-running gives identical bytes (fixed seeds), so the files in git can be checked.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from edgedeblur.degrade import dead_leaves, degrade, parse_degradation
from edgedeblur.io import from_float, read_image, to_float, write_image

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "edgedeblur" / "bench" / "evalset"
CBSD68 = ["101085.png", "102061.png", "108005.png", "119082.png"]
SIZE = 112
SEED = 2026


def _centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return image[y:y + size, x:x + size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    specs = {
        "denoise": ("noise gaussian sigma=25, clip, 8-bit", parse_degradation(noise="gaussian:sigma=25", linear=False)),
        "deblur": None,  # per image: a Levin kernel
    }
    entries = []
    cleans: list[tuple[str, np.ndarray, str]] = []
    for name in CBSD68:
        src = args.data / "eval" / "cbsd68" / name
        cleans.append((f"cbsd68_{Path(name).stem}", _centre_crop(read_image(src), SIZE), f"CBSD68/{name} centre crop {SIZE}"))
    for i in range(2):
        leaves = dead_leaves(SIZE, np.random.default_rng([SEED, i]))
        cleans.append((f"deadleaves_{i}", from_float(leaves, np.uint8), f"dead_leaves(size={SIZE}, rng=[{SEED}, {i}])"))
    for sub in ("clean", "denoise", "deblur"):
        (OUT / sub).mkdir(parents=True, exist_ok=True)
    for idx, (stem, clean, source) in enumerate(cleans):
        write_image(OUT / "clean" / f"{stem}.png", clean)
        kernel_index = idx % 8 + 1
        blur_spec = parse_degradation(blur=f"levin:index={kernel_index}", noise="gaussian:sigma=2.55", linear=False)
        for task, spec, text in (("denoise", specs["denoise"][1], specs["denoise"][0]),
                                 ("deblur", blur_spec, f"levin09 k{kernel_index}, noise sigma 2.55, clip, 8-bit")):
            result = degrade(to_float(clean), spec, [SEED, idx])
            write_image(OUT / task / f"{stem}.png", from_float(result.degraded, np.uint8))
            entries.append({"task": task, "name": stem, "clean": f"clean/{stem}.png",
                            "degraded": f"{task}/{stem}.png", "source": source, "degradation": text,
                            "seed": [SEED, idx]})
    (OUT / "evalset.json").write_text(json.dumps({"size": SIZE, "pairs": entries}, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(entries)} pairs to {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
