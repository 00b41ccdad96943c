"""``edge-degrade``: write degraded copies of clean images, with the kernels and seeds used.

For every input ``<name>`` it writes ``OUT/<name>.png`` (the degraded image),
``OUT/<name>.kernel.npy`` (the PSF, float32, a true-convolution kernel),
``OUT/<name>.kernel.png`` (a picture of it) and ``OUT/<name>.json`` (spec, seed and the values
drawn), so every pair can be reproduced with ``edgedeblur.degrade.reproduce(json)``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .._progress import progress
from ..errors import ConfigError, EdgeDeblurError, InvalidInputError, OutputPathError
from ._common import BatchReport, cli_entry

EPILOG = """\
examples:
  edge-degrade clean/ out/ --blur shake:size=31 --noise gaussian:sigma=2 --seed 1
  edge-degrade clean/ out/ --blur levin --noise poisson-gaussian:gain=0.01,read=0.002 --jpeg 90
  edge-degrade clean/ out/ --blur "motion:length=5-25,angle=0-180|defocus:radius=1-4"
  edge-degrade cbsd68/ noisy25/ --noise gaussian:sigma=25 --protocol paper
  edge-degrade photos/ noisy/ --noise gaussian:sigma=15 --protocol srgb

blur specs:
{blur}
noise specs:
{noise}

The camera protocol (default) blurs and adds sensor noise in linear light, then applies the
sRGB gamma, rounds to 8 bit and optionally JPEG-compresses; a Gaussian sigma is then a sensor
(linear) sigma, which the gamma curve amplifies in the shadows. The srgb protocol does the same
in gamma space (noise of exactly sigma in the saved file, clipped and rounded to 8 bit). The
paper protocol adds noise in float to the [0,1] image with no gamma, clipping or rounding (the
published denoising numbers); its exact float result is saved as <name>.npy next to the PNG.
Outputs are 8-bit PNGs whatever the input bit depth.
"""


def _wrap(text: str) -> str:
    import textwrap

    return textwrap.fill(text, width=96, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    from ..degrade import BLUR_FORMS, NOISE_FORMS

    parser = argparse.ArgumentParser(
        prog="edge-degrade",
        description="Degrade clean images (blur, camera noise, JPEG) reproducibly, saving the "
        "kernel and a JSON sidecar (spec + seed) for each image.",
        epilog=EPILOG.format(blur=_wrap(BLUR_FORMS), noise=_wrap(NOISE_FORMS)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("src", type=Path, help="a clean image, or a folder of them (searched recursively)")
    parser.add_argument("out", type=Path, help="output folder (created if missing; must not be the source folder)")
    parser.add_argument("--blur", default=None, metavar="SPEC", help="blur spec, e.g. shake:size=31 (default: no blur)")
    parser.add_argument("--noise", default=None, metavar="SPEC", help="noise spec, e.g. gaussian:sigma=25 (default: none)")
    parser.add_argument("--jpeg", default=None, metavar="Q", help="JPEG quality 1-100 or range 70-95 (default: none)")
    parser.add_argument("--seed", type=int, default=0, help="base seed; each file gets [seed, crc32(name)] (default 0)")
    parser.add_argument("--protocol", choices=("camera", "srgb", "paper"), default="camera",
                        help="camera: linear light, clip, 8 bit (default); srgb: the same in gamma space; "
                        "paper: float noise, no gamma/clip/rounding")
    parser.add_argument("--border", choices=("reflect", "symmetric", "wrap", "constant"), default="reflect",
                        help="how blur treats the image border (default reflect)")
    parser.add_argument("--no-kernel-png", action="store_true", help="do not write the .kernel.png pictures")
    return parser


def _make_spec(args: argparse.Namespace):  # noqa: ANN202
    from ..degrade import parse_degradation

    if args.blur is None and args.noise is None and args.jpeg is None:
        raise ConfigError("nothing to do: no --blur, --noise or --jpeg given",
                          hint="e.g. --blur shake:size=31 --noise gaussian:sigma=2")
    paper = args.protocol == "paper"
    if paper and args.jpeg is not None:
        raise ConfigError("--jpeg cannot be used with --protocol paper (it needs 8-bit rounding)",
                          hint="drop --jpeg or use --protocol srgb")
    return parse_degradation(args.blur, args.noise, args.jpeg, linear=args.protocol == "camera",
                             clip=not paper, quantize=not paper, border=args.border)


def _check_folders(src: Path, out: Path) -> None:
    if not src.exists():
        raise InvalidInputError("source does not exist", path=src, hint="give an image file or a folder of images")
    src_dir = (src if src.is_dir() else src.parent).resolve()
    out_r = out.resolve()
    if out_r == src_dir or (src.is_dir() and src_dir in out_r.parents):
        raise OutputPathError("output folder is (inside) the source folder; edge-degrade never mixes outputs with inputs",
                              path=out, hint="choose another output folder")
    if out.exists() and not out.is_dir():
        raise OutputPathError("output exists and is not a folder", path=out)
    if not out.parent.exists():
        raise OutputPathError("parent of the output folder does not exist", path=out,
                              hint=f"create it first: mkdir -p {out.parent}")


def _relative_name(path: Path, src: Path) -> Path:
    return path.relative_to(src) if src.is_dir() else Path(path.name)


def _process(path: Path, rel: Path, out: Path, spec, seed: int, write_png: bool) -> None:  # noqa: ANN001
    from .. import __version__
    from ..degrade import degrade, file_seed, kernel_preview
    from ..degrade._sidecar import save_json, save_npy
    from ..io import read_image, to_float, write_image

    rng_seed = file_seed(seed, rel.as_posix())
    clean = read_image(path)
    result = degrade(to_float(clean), spec, rng_seed)
    base = out / rel.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    image_path = base.with_name(base.name + ".png")
    write_image(image_path, (np.clip(result.degraded, 0, 1) * 255 + 0.5).astype(np.uint8), inputs=[path])
    files = {"image": image_path.name}
    if not spec.quantize:
        files["float"] = save_npy(base.with_name(base.name + ".npy"), result.degraded).name
    files["kernel"] = save_npy(base.with_name(base.name + ".kernel.npy"), result.kernel).name
    if write_png:
        files["kernel_png"] = write_image(base.with_name(base.name + ".kernel.png"), kernel_preview(result.kernel)).name
    save_json(base.with_name(base.name + ".json"), {
        "sidecar_version": 1,
        "tool": f"edge-degrade (edgedeblur {__version__})",
        "source": str(path.resolve()),
        "files": files,
        "seed": seed,
        "rng_seed": rng_seed,
        "spec": spec.to_dict(),
        "drawn": result.info,
        "shape": list(result.degraded.shape),
        "source_dtype": str(clean.dtype),
        "reproduce": "edgedeblur.degrade.reproduce('<this file>') gives the same degraded pixels",
    })


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    spec = _make_spec(args)
    _check_folders(args.src, args.out)
    from ..io import list_images

    files = list_images([args.src])
    if not files:
        raise InvalidInputError("no images found", path=args.src, allowed=".png, .jpg, .tif, .bmp, ...")
    args.out.mkdir(exist_ok=True)
    report = BatchReport(what="images")
    print(f"degrading {len(files)} image(s): blur {spec.blur_string}, noise {spec.noise_string}, "
          f"jpeg {spec.jpeg or 'none'}, {args.protocol} protocol, seed {args.seed}", file=sys.stderr)
    for path in progress(files, desc="degrading", unit="img"):
        try:
            _process(path, _relative_name(path, args.src), args.out, spec, args.seed, not args.no_kernel_png)
        except (EdgeDeblurError, OSError) as exc:
            report.fail(path, exc)
        else:
            report.ok(path)
    code = report.finish(sys.stderr)  # the current stream (the default was bound at import)
    if report.done:
        print(f"wrote {len(report.done)} degraded image(s), kernels and JSON sidecars to {args.out}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
