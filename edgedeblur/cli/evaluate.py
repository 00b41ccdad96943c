"""``edge-eval``: score a restoration method on a folder of images (PSNR, SSIM, seconds/MP).

Thin by design: arguments -> ``edgedeblur.evaluate`` -> table, summary, optional JSON report.
"""

from __future__ import annotations

import argparse
import sys

from .._progress import progress
from ..errors import ConfigError, InvalidInputError
from ._common import EXIT_OK, EXIT_SOME_FAILED, cli_entry, parse_method_options

EPILOG = """\
examples:
  # the published denoising protocol (CBM3D on CBSD68 at sigma 25 scores 30.71 dB)
  edge-eval --method bm3d --data ../shared/data/eval/cbsd68 --noise gaussian:sigma=25

  # deblurring benchmark: every image x each of the 8 Levin kernels, plus noise sigma 2.55;
  # non-blind methods (wiener, richardson-lucy) receive the true kernel
  edge-eval --method wiener --data ../shared/data/eval/cbsd68 \\
      --kernels-dir ../shared/data/kernels/levin09 --noise gaussian:sigma=2.55 --json out.json

  # a training run's weights, before shipping them (-O weights= works for edge-deblur too)
  edge-eval -m mnv2unet_s_deblur -O weights=runs/mnv2unet_s_deblur/weights.safetensors \\
      --data ../shared/data/eval/cbsd68 --kernels-dir ../shared/data/kernels/levin09 \\
      --noise gaussian:sigma=2.55 --limit 12

  # the same for blind methods, fairly: move each kernel onto its centroid first (Levin's are up
  # to 4.3 px off-centre, a translation no blind method can know)
  edge-eval --method mnv2unet_m_deblur --data ../shared/data/eval/cbsd68 \\
      --kernels-dir ../shared/data/kernels/levin09 --centre-kernels --noise gaussian:sigma=2.55

  # real degraded photos matched to clean ones by file stem
  edge-eval --method nlm-opencv --data clean/ --paired noisy/ --sigma 15

protocol: noise is added in float to the [0,1] image with a seed derived from (--seed, image
index, kernel index); the input is not clipped; the output is rounded to uint8 and scored over
the whole image (--crop-border, --y-channel for the other conventions; --camera degrades
in camera order instead). SSIM: Gaussian window
sigma 1.5, mean over channels. Exit status: 0 all scored, 1 some images failed, 2 bad usage.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="edge-eval",
        description="Degrade clean images (or take real degraded ones), restore them with a "
        "method, and report PSNR, SSIM and seconds per megapixel per image and on average.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--method", "-m", help="method name (see --list-methods) or exported artifact")
    p.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="option passed to the method, repeatable (e.g. -O iterations=30)")
    p.add_argument("--data", "-d", help="folder of clean reference images")
    p.add_argument("--noise", help="noise spec, e.g. gaussian:sigma=25 (paper AWGN)")
    p.add_argument("--blur", help="blur spec for edgedeblur.degrade, e.g. gaussian:sigma=1.6")
    p.add_argument("--jpeg", help="JPEG spec for edgedeblur.degrade, e.g. 75")
    p.add_argument("--camera", action="store_true",
                   help="degrade in camera order (linear light, clip, 8-bit) instead of the papers' "
                   "protocol (float, no clipping); --jpeg implies 8-bit")
    p.add_argument("--kernels-dir", help="folder of .npy blur kernels (e.g. levin09)")
    p.add_argument("--centre-kernels", action="store_true",
                   help="shift each kernel by whole pixels onto its centroid first: an off-centre PSF "
                   "(Levin's: up to 4.3 px) translates the image, which blind methods cannot undo")
    p.add_argument("--kernel-mode", choices=("each", "cycle"), default="each",
                   help="each: every image x every kernel (default); cycle: image i gets kernel i mod K")
    p.add_argument("--paired", metavar="DEGRADED_DIR",
                   help="real degraded images, matched to --data by file stem (no synthetic degradation)")
    p.add_argument("--sigma", type=float, help="with --paired: noise sigma (0-255) for methods that need it")
    p.add_argument("--kernel", help="with --paired: blur kernel .npy for non-blind methods")
    p.add_argument("--blind", action="store_true",
                   help="give methods the true kernel/sigma only when they require it (default: "
                   "every method that accepts them gets them, as in the papers)")
    p.add_argument("--seed", type=int, default=0, help="base seed of the noise (default 0)")
    p.add_argument("--limit", type=int, help="evaluate only the first N images (sorted by name)")
    p.add_argument("--crop-border", type=int, default=0, metavar="N",
                   help="ignore N pixels at each edge when scoring (default 0: whole image)")
    p.add_argument("--y-channel", action="store_true",
                   help="score the BT.601 luma channel (MATLAB rgb2ycbcr) instead of RGB")
    p.add_argument("--shard", metavar="K/N",
                   help="evaluate only every N-th image from the K-th (0-based), to split a long run "
                   "across processes; merge the JSON reports (per-image seeds do not change)")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no per-image table, no progress bar")
    p.add_argument("--list-methods", action="store_true", help="print the method names and exit")
    return p


def _degradation(args: argparse.Namespace) -> object:
    """Build the degradation spec through ``edgedeblur.degrade`` from --blur/--noise/--jpeg."""
    if not (args.noise or args.blur or args.jpeg or args.kernels_dir):
        raise ConfigError(
            "nothing degrades the clean images",
            hint="give --noise gaussian:sigma=25, --blur ..., --kernels-dir ..., or --paired DIR",
        )
    if args.blur and args.kernels_dir:
        raise ConfigError("--blur and --kernels-dir both choose the blur", hint="keep one of them")
    from .. import degrade

    paper = not args.camera  # the papers: float, not clipped, no gamma, no 8-bit rounding
    return degrade.parse_degradation(blur=args.blur, noise=args.noise, jpeg=args.jpeg,
                                     linear=not paper, clip=not paper, quantize=not paper)


def _print_row(score: object) -> None:
    """One line per image as soon as it is scored (long runs show results before the end)."""
    kernel = f" x {score.kernel}" if score.kernel else ""  # type: ignore[attr-defined]
    line = (f"  {score.name}{kernel}: {score.psnr:.2f} dB, SSIM {score.ssim:.4f}, "  # type: ignore[attr-defined]
            f"{score.seconds_per_mp:.2f} s/MP")  # type: ignore[attr-defined]
    try:
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    except ImportError:
        print(line, file=sys.stderr)


def _parse_shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    k, sep, n = text.partition("/")
    try:
        shard = int(k), int(n)
    except ValueError:
        shard = None
    if not sep or shard is None or not 0 <= shard[0] < shard[1]:
        raise ConfigError("--shard must be K/N with 0 <= K < N", given=text, hint="e.g. --shard 0/2")
    return shard


def _check_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if not args.method:
        parser.error("--method is required (see --list-methods)")
    if not args.data:
        parser.error("--data is required: the folder of clean images")
    if args.limit is not None and args.limit < 1:
        raise InvalidInputError("--limit must be at least 1", given=args.limit)
    if args.centre_kernels and not args.kernels_dir:
        raise ConfigError("--centre-kernels needs --kernels-dir", hint="add --kernels-dir DIR or drop it")
    if args.paired and (args.noise or args.blur or args.jpeg or args.kernels_dir):
        raise ConfigError("--paired uses real degraded images; it cannot be combined with "
                          "--noise/--blur/--jpeg/--kernels-dir", hint="drop one of them")
    if not args.paired and (args.sigma is not None or args.kernel):
        raise ConfigError("--sigma/--kernel are for --paired; synthetic runs pass the true values",
                          hint="drop --sigma/--kernel")
    if args.json:
        from ..io import check_output_path

        check_output_path(args.json)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_methods:
        from ..methods import list_methods

        print("\n".join(list_methods()))
        return EXIT_OK
    _check_args(args, parser)
    from ..evaluate import evaluate, evaluate_paired

    bar = None if args.quiet else (lambda it, n: progress(it, desc="edge-eval", total=n, unit="img"))
    common = dict(on_score=None if args.quiet else _print_row, limit=args.limit, crop_border=args.crop_border, y_channel=args.y_channel,
                  oracle=not args.blind, method_options=parse_method_options(args.option), progress=bar)
    if args.paired:
        result = evaluate_paired(args.method, args.paired, args.data, sigma=args.sigma,
                                 kernel=args.kernel, **common)
    else:
        result = evaluate(args.method, args.data, _degradation(args), seed=args.seed,
                          kernels=args.kernels_dir, kernel_mode=args.kernel_mode,
                          centre_kernels=args.centre_kernels,
                          shard=_parse_shard(args.shard), **common)
    if not args.quiet:
        print(result.format_table())
    print(f"method {result.method} | {result.degradation} | {len(result.scores)} images: "
          f"PSNR {result.psnr:.2f} dB, SSIM {result.ssim:.4f}, {result.seconds_per_mp:.3f} s/MP "
          f"(CPU {result.cpu_seconds_per_mp:.3f} s/MP) "
          f"(input {result.input_psnr:.2f} dB)")
    if args.json:
        result.write_json(args.json)
        print(f"report written to {args.json}")
    if result.failures:
        print(f"{len(result.failures)} image(s) failed:", file=sys.stderr)
        for failure in result.failures:
            print(f"  FAILED {failure.name}: {failure.error}", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
