"""Measure the PSF-aware deblur pipeline; regenerate docs/deblur.md's tables.

    .venv/bin/python benchmarks/deblur_eval.py                    # validation + dev benchmark
    .venv/bin/python benchmarks/deblur_eval.py --split val        # decide settings here only
    .venv/bin/python benchmarks/deblur_eval.py --weights runs/mnv2unet_m_prior/weights.safetensors

Two evaluations, every method in one process on the same degraded images:

* ``val`` — where settings are decided: the 8 held-out validation photos of the training split
  (the last 8 of ``train/bsds500_test``, never trained on) x 3 synthetic camera-shake kernels
  each (13-27 px, ``edgedeblur.degrade`` trajectories, not the Levin or USRNet sets), degraded
  as a camera does: blur in linear light, Poisson-Gaussian sensor noise, sRGB gamma, 8 bit; and
  the same again with a JPEG quality-90 round trip. Sigma is *not* given (the pipeline estimates it), the kernel
  is given to the non-blind rows and estimated by the blind ones.
* ``dev`` — the project's deblurring benchmark, only reported: the first 12 CBSD68 images x the
  8 Levin et al. 2009 kernels, each moved onto its centroid (``--centre-kernels``: a blind
  method cannot know a translation), true convolution in sRGB + Gaussian noise sigma 2.55 in
  float, unclipped; the true sigma is given (the papers' oracle protocol).

Rows: the blurred input, Wiener given the true kernel (timed in the same run), ``deblur``
(one Wiener step + the learned prior), ``deblur`` in HQS mode (3 prior passes), and the blind
rows (kernel estimated from the photo) for the pipeline and for Wiener.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
OUT_JSON = REPO / "benchmarks" / "results" / "deblur_eval.json"


def _val_folder(tmp: Path) -> Path:
    """The validation photos (the trainer's held-out split) linked into one folder."""
    from edgedeblur.io import list_images

    photos = list_images([DATA / "train/bsds500_test"], recursive=False)[-8:]
    for p in photos:
        (tmp / p.name).symlink_to(p.resolve())
    return tmp


def _val_kernels(tmp: Path) -> Path:
    """3 seeded synthetic shake kernels per photo slot (24 files, 13-27 px), written as .npy."""
    import numpy as np

    from edgedeblur.degrade import camera_shake_kernel, centre_kernel

    folder = tmp / "kernels"
    folder.mkdir()
    rng = np.random.default_rng(20261203)
    for i in range(3):
        size = int(rng.integers(13, 28)) | 1
        k = centre_kernel(camera_shake_kernel(size, rng))
        np.save(folder / f"shake{i}_{size}px.npy", k.astype(np.float32))
    return folder


def _camera(jpeg: bool):
    from edgedeblur.degrade import parse_degradation

    return parse_degradation(noise="poisson-gaussian:gain=0.0005-0.004,read=0.002-0.006", linear=True,
                             jpeg="90" if jpeg else None)


def _dev_spec():
    from edgedeblur.degrade import parse_degradation

    return parse_degradation(noise="gaussian:sigma=2.55", linear=False, clip=False, quantize=False)


def _methods(weights: str | None, prior: str | None) -> dict[str, tuple[object, bool]]:
    """name -> (method, oracle). Built once: the blind rows reuse the non-blind objects."""
    from edgedeblur.methods import get_method

    opts = {"weights": weights} if weights else {}
    if prior:
        opts = {"prior": prior}
    deblur = get_method("deblur", **opts)
    hqs = get_method("deblur", mode="hqs", iterations=3, **opts)
    wiener = get_method("wiener")
    blind_wiener = _BlindWiener(deblur)
    return {"wiener (true kernel)": (wiener, True), "deblur": (deblur, True), "deblur hqs x3": (hqs, True),
            "deblur --blind": (deblur, False), "wiener --blind (estimated kernel)": (blind_wiener, False)}


class _BlindWiener:
    """Wiener with the kernel the pipeline's estimator finds: how much the prior adds blind."""

    needs_kernel = False
    needs_sigma = False
    name = "wiener-blind"

    def __init__(self, pipeline) -> None:  # noqa: ANN001
        self.pipeline = pipeline

    def restore(self, image, *, kernel=None, sigma=None):  # noqa: ANN001, ANN201
        from edgedeblur.runtime.deconv import wiener_deconvolve

        psf = self.pipeline._kernel(image, None)
        return wiener_deconvolve(image, psf.kernel, sigma=sigma)


def _run(methods, folder: Path, spec, kernels: Path, *, limit: int | None, centre: bool) -> dict:
    from edgedeblur.evaluate import evaluate

    rows = {}
    for name, (method, oracle) in methods.items():
        res = evaluate(method, folder, spec, seed=0, kernels=kernels, limit=limit, centre_kernels=centre,
                       oracle=oracle)
        if res.failures:
            raise RuntimeError(f"{name}: {len(res.failures)} failures, first {res.failures[0]}")
        rows[name] = {"psnr": round(res.psnr, 3), "ssim": round(res.ssim, 4), "input_psnr": round(res.input_psnr, 3),
                      "pairs": len(res.scores), "s_per_mp": round(res.seconds_per_mp, 3)}
        print(f"  {name:36s} {res.psnr:6.2f} dB  (input {res.input_psnr:.2f})  {res.seconds_per_mp:.2f} s/MP",
              flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    from edgedeblur._eval_result import machine_description

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=("val", "dev", "both"), default="both")
    p.add_argument("--weights", help="prior weights of a training run (default: the shipped prior)")
    p.add_argument("--prior", help="an exported prior's manifest (INT8 etc.) instead of PyTorch")
    p.add_argument("--limit", type=int, default=12, help="dev: first N CBSD68 images (default 12)")
    p.add_argument("--json", type=Path, default=OUT_JSON)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    methods = _methods(args.weights, args.prior)
    out = {"machine": machine_description(), "weights": args.weights or "shipped", "prior": args.prior}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.split in ("val", "both"):
            (tmp / "val").mkdir()
            folder, kernels = _val_folder(tmp / "val"), _val_kernels(tmp)
            out["val"] = {}
            for jpeg in (False, True):
                key = "camera_jpeg90" if jpeg else "camera"
                print(f"val ({key}): 8 held-out photos x 3 shake kernels", flush=True)
                out["val"][key] = _run(methods, folder, _camera(jpeg), kernels, limit=None, centre=False)
        if args.split in ("dev", "both"):
            print(f"dev: CBSD68 first {args.limit} x 8 centred Levin kernels, sigma 2.55", flush=True)
            out["dev"] = _run(methods, DATA / "eval/cbsd68", _dev_spec(), DATA / "kernels/levin09",
                              limit=args.limit, centre=True)
    if not args.no_write:
        from edgedeblur.io import atomic_write

        text = json.dumps(out, indent=2) + "\n"
        atomic_write(args.json, lambda t: t.write_text(text, encoding="utf-8"))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
