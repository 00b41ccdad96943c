"""``edge-export``: turn a zoo model into deployable artifacts, each verified through the runtime.

Thin: parse, call :func:`edgedeblur.export.export_model`, print a summary table. Exit 0 when
every target exported and passed parity, 1 when some failed (they are listed), 2 on bad input.
``edge-export deblur`` exports the deblur pipeline's prior (``DEFAULT_DEBLUR_PRIOR``) with the
pipeline section in each manifest; ``edge-export denoise`` the default denoiser.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..export.targets import FP_DROP_DB, INT8_DROP_DB, TARGETS, calib_methods_help
from ._common import EXIT_OK, EXIT_SOME_FAILED, cli_entry

EPILOG = """targets (--target, repeatable, or 'all'):
{targets}

MODEL 'deblur' exports the PSF-aware deblur pipeline: its learned prior {prior} (RGB + a
noise-level map in) with the pipeline settings (edgedeblur.runtime.PipelineConfig defaults) written
into each manifest's "pipeline" section, so edgedeblur.runtime.load_pipeline / edge-deblur
-O prior=MANIFEST run the whole pipeline (Wiener data step + prior) from one artifact. Calibration
and parity use what the pipeline feeds the prior: blurred, noisy photos after the Wiener data
step, plus the noise map. MODEL 'denoise' exports the default denoiser {denoiser}.

examples:
  edge-export deblur --target tflite-int8 --target onnx-int8
  edge-export denoise --target openvino-int8
  edge-export runs/{prior}/weights.safetensors --arch {prior} --target onnx-int8
  edge-export mnv2unet_s_denoise --target tflite-int8
  edge-export mnv2unet_s_denoise --target all -o exported/
  edge-export runs/s/weights.safetensors --arch mnv2unet_s_denoise --target openvino-int8
  edge-export mnv2unet_xs_denoise --target onnx-int8 --random-init --calib-dir ~/photos

Calibration photos come from --calib-dir, else $EDGEDEBLUR_CALIB_DIR, else $EDGEDEBLUR_DATA/train,
else ../shared/data/train beside the working directory. Each artifact gets <name>.manifest.json
beside it with its I/O contract and the parity measured through edgedeblur.runtime. An artifact
whose parity drop exceeds --max-drop is kept as <model>.failed.<target> for inspection and the
command exits 1.
"""


def _parser() -> argparse.ArgumentParser:
    from ..methods import DEFAULT_DEBLUR_PRIOR, DEFAULT_DENOISER

    rows = "\n".join(f"  {t.name:<14} {t.summary}" for t in TARGETS.values())
    p = argparse.ArgumentParser(
        prog="edge-export", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export a zoo model, or the 'deblur' pipeline / 'denoise' default, to ONNX / OpenVINO / "
                    "TFLite / MNN / ncnn (fp32, fp16, INT8) with a manifest, and check each artifact against PyTorch "
                    "through the edge runtime.",
        epilog=EPILOG.format(targets=rows, prior=DEFAULT_DEBLUR_PRIOR, denoiser=DEFAULT_DENOISER))
    p.add_argument("model", help=f"'deblur' (the deblur pipeline: its prior {DEFAULT_DEBLUR_PRIOR} + the "
                                 f"pipeline section in each manifest), 'denoise' ({DEFAULT_DENOISER}), a zoo "
                                 "model name (see edge-deblur --list) or a .safetensors checkpoint with --arch")
    p.add_argument("--target", "-t", action="append", required=True, metavar="T",
                   help="export target (repeatable) or 'all'")
    p.add_argument("-o", "--out", default="exported", help="output folder (default: %(default)s)")
    p.add_argument("--arch", help="zoo architecture of a .safetensors checkpoint ('deblur'/'denoise' name the defaults)")
    p.add_argument("--random-init", action="store_true",
                   help="export an untrained, randomly initialised net (labelled so in the manifest; for testing)")
    p.add_argument("--tile", type=int, default=256,
                   help="static input size for INT8/TFLite targets and calibration patch size (default: %(default)s)")
    p.add_argument("--calib-dir", help="folder of photos for calibration and held-out parity patches")
    p.add_argument("--calib-images", type=int, default=64, help="calibration patches (default: %(default)s)")
    p.add_argument("--heldout", type=int, default=8, help="held-out parity patches (default: %(default)s)")
    methods = list(dict.fromkeys(m for t in TARGETS.values() for m in t.calib_methods))
    p.add_argument("--calib-method", default="minmax", choices=methods,
                   help=f"activation range estimator ({calib_methods_help()}) (default: %(default)s)")
    p.add_argument("--prune", type=float, metavar="R",
                   help="structured channel pruning ratio (0-0.9) with torch-pruning, then a short fine-tune")
    p.add_argument("--finetune-steps", type=int, default=200, help="fine-tune steps after --prune (default: %(default)s)")
    p.add_argument("--max-drop", type=float, metavar="DB",
                   help=f"allowed PSNR drop vs float on held-out patches (default: {INT8_DROP_DB} INT8, "
                        f"{FP_DROP_DB} fp32/fp16)")
    p.add_argument("--allow-float-ops", action="store_true", help="accept float ops left in a tflite-int8 file")
    p.add_argument("--force", action="store_true", help="replace existing artifacts of the same name")
    p.add_argument("--seed", type=int, default=0, help="seed for patches and random init (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    return p


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


def _print_row(result, name: str) -> None:  # noqa: ANN001
    from ..errors import EdgeDeblurError

    if isinstance(result, EdgeDeblurError):
        print(f"  {name:<14} ERROR  {result}", file=sys.stderr, flush=True)
        return
    p = result.parity
    verdict = "ok" if p.passed else f"FAILED (drop {p.drop_db:.3f} dB > {p.max_drop_db} dB)"
    print(f"  {name:<14} {verdict:<6} {result.artifact}  {_size(result.bytes)}  "
          f"vs float {p.psnr_vs_float_db:.2f} dB, drop {p.drop_db:+.3f} dB  ({result.seconds:.0f} s)",
          file=sys.stderr, flush=True)
    _print_sensitivity(result.accuracy_control)


def _print_sensitivity(control: dict | None) -> None:
    """The accuracy-control report: calibration drop before/after, the costliest layers (dB each
    regains when kept float), which stayed float (docs/export.md, "Per-layer sensitivity")."""
    from ..export._sensitivity import report_lines

    for line in report_lines(control):
        print(f"  {'':<14} {line}", file=sys.stderr, flush=True)


def _pipeline_line(pipeline: dict, model: str) -> str:
    keys = ("mode", "prior_scale", "iterations", "sigma_max", "kernel_max")
    settings = ", ".join(f"{k} {pipeline[k]:g}" if isinstance(pipeline[k], float) else f"{k} {pipeline[k]}"
                         for k in keys if k in pipeline)
    return (f"pipeline: deblur = {pipeline.get('kind', 'psf-deconvolution')} (Wiener data step + learned prior "
            f"{model}; {settings}); written into each manifest's 'pipeline' section")


def _summary(results: list, names: list[str], model: str = "") -> int:
    from ..errors import EdgeDeblurError

    print("\ntarget          status  size       vs-float dB  vs-GT dB  float-GT dB  drop dB  float ops  artifact")
    good = []
    for name, r in zip(names, results, strict=True):
        if isinstance(r, EdgeDeblurError):
            print(f"{name:<15} error   {'-':<10} {'-':>11}  {'-':>8}  {'-':>11}  {'-':>7}  {'-':>9}  {str(r)[:80]}")
            continue
        p = r.parity
        print(f"{name:<15} {'pass' if p.passed else 'FAIL':<6}  {_size(r.bytes):<10} {p.psnr_vs_float_db:11.2f}  "
              f"{p.psnr_vs_gt_db:8.2f}  {p.psnr_float_vs_gt_db:11.2f}  {p.drop_db:+7.3f}  "
              f"{len(r.float_ops):>9}  {r.artifact}")
        if p.passed:
            good.append(r)
    pipeline = next((r.pipeline for r in results if not isinstance(r, EdgeDeblurError) and r.pipeline), None)
    if pipeline:
        print("\n" + _pipeline_line(pipeline, model))
    if good:
        print("\nnext:")
        for r in good[:3]:
            if r.pipeline:  # the manifest's pipeline section makes the artifact the whole pipeline
                print(f"  edge-deblur --method {r.artifact} INPUT -o OUTPUT [--kernel PSF]   # deblur with it")
                print("  edgedeblur.runtime.load_pipeline(MANIFEST).restore(image, kernel=psf)   # from Python")
            else:
                print(f"  edge-deblur --method {r.artifact} INPUT -o OUTPUT   # restore images with it")
            print(f"  edge-bench {r.artifact}                             # measure latency on this device")
    ok = all(not isinstance(r, EdgeDeblurError) and r.passed for r in results)
    return EXIT_OK if ok else EXIT_SOME_FAILED


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ..export import export_model, resolve_targets
    from ..export._model import pipeline_methods

    rows = resolve_targets(args.target)  # the one place the CLI resolves target names
    names = [t.name for t in rows]
    methods = pipeline_methods()
    model = methods.get(args.model) or methods.get(args.arch or "") or args.arch or args.model
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    what = args.model
    if args.model == "deblur":
        what = f"deblur (the deblur pipeline: prior {model} + pipeline settings)"
    elif args.model == "denoise":
        what = f"denoise ({model})"
    print(f"exporting {what} to {len(names)} target(s) into {args.out}/", file=sys.stderr, flush=True)
    results = export_model(
        args.model, rows, args.out, arch=args.arch, random_init=args.random_init, tile=args.tile,
        calib_dir=args.calib_dir, calib_images=args.calib_images, heldout=args.heldout,
        calib_method=args.calib_method, prune=args.prune, finetune_steps=args.finetune_steps,
        max_drop_db=args.max_drop, allow_float_ops=args.allow_float_ops, force=args.force, seed=args.seed,
        on_done=_print_row)
    return _summary(results, names, model)


if __name__ == "__main__":
    sys.exit(main())
