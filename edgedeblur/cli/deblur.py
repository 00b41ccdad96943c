"""``edge-deblur``: restore image files or folders with any registered method.

Reads each image once (EXIF rotation applied, palette/RGBA expanded, 16-bit kept), runs the
method on float32 [0, 1] pixels and writes the result with the input's bit depth under the
output folder, atomically and never over an input. One bad file does not stop the batch: it is
reported at the end and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._progress import progress
from ..errors import ConfigError, EdgeDeblurError, KernelError, OutputPathError
from ._common import EXIT_USAGE, BatchReport, cli_entry, parse_method_options
from ._video import restore_videos, split_video_inputs

__all__ = ["main", "DEFAULT_METHODS", "default_method", "streams_pixels"]

# The method used when --method is not given, keyed by whether a kernel was given. Both are the
# PSF-aware deblur pipeline (edgedeblur.runtime.pipeline): with --kernel it deconvolves with that
# PSF, without one it estimates the PSF from the photo; a photo it finds sharp is only denoised by
# the same noise-conditioned prior. This is THE one place to change the default. The blind
# end-to-end zoo nets are not the default: trained on this project's CPU budget they gain
# 0.35 dB at most on Levin x CBSD68 (docs/zoo_results.md).
DEFAULT_METHODS = {"with_kernel": "deblur", "without_kernel": "deblur"}

#: Methods that estimate sigma per image when --sigma is not given (the CLI says so once).
ESTIMATES_SIGMA = {"wiener", "nlm-opencv", "nlm-skimage", "bm3d", "deblur"}

FORMATS = ("png", "tif", "jpg", "bmp", "webp", "same")

EXAMPLES = """\
examples:
  # deblur: the PSF is estimated from each photo, deconvolved, and cleaned by the learned prior
  edge-deblur blurry.png -o restored/ --save-kernel
  # with a known blur kernel (PSF file) and noise level
  edge-deblur blurry.png -o restored/ --kernel psf.npy --sigma 2.55
  # the same pipeline with an exported INT8 prior through the edge runtime (edge-export deblur)
  edge-deblur blurry.png -o restored/ -O prior=exported/mnv2unet_m_prior.tflite-int8.manifest.json
  # the PSF of each region from the phone's gyroscope log (rolling shutter included)
  edge-deblur shot.jpg -o restored/ --gyro shot.gyro.csv --camera shot.camera.json
  # plain Wiener or Richardson-Lucy (20 iterations) with the kernel
  edge-deblur blurry.png -o restored/ --method wiener --kernel psf.npy
  edge-deblur blurry.png -o restored/ --method richardson-lucy -O iterations=20 --kernel psf.npy
  # denoise a whole folder (subfolders are mirrored under the output folder)
  edge-deblur photos/ -o denoised/ --method nlm-opencv --sigma 25
  # the default learned denoiser (blind; 'deblur' also denoises a photo it finds sharp)
  edge-deblur noisy.png -o out/ -m denoise
  # BM3D, with sigma estimated per image when not given
  edge-deblur noisy.tif -o out/ -m bm3d --suffix _bm3d --format tif
  # an exported artifact through the edge runtime (reads its manifest)
  edge-deblur noisy.png -o out/ -m export/mnv2unet_s_denoise.tflite-int8.manifest.json

sigma is the noise standard deviation on the 0-255 scale, whatever the bit depth.
Outputs keep the input's name and bit depth (8-bit stays 8-bit, 16-bit stays 16-bit).
The output folder is created if its parent exists. Inputs are never overwritten.
Video files and camera indices are restored frame by frame (decode, inference and encode on
separate threads) into OUT/<name>.mp4, with the frame rate shown: edge-deblur clip.mp4 0 -o out/
Memory: an exported artifact (-m MODEL.manifest.json) streams each photo through the runtime's
runner, uint8/uint16 tiles in and out with no float copy of the whole image (a 50-megapixel
photo stays under 1 GiB, docs/bench/cli_memory.md). The deblur pipeline (the default), zoo
models in PyTorch, classical methods and -O self_ensemble=N need the whole image as float32
(input and output: about 24 bytes per RGB pixel, 1.2 GB for 50 megapixels).
Exit codes: 0 all done, 1 some files failed (listed at the end), 2 bad arguments.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="edge-deblur",
        description="Restore (deblur and/or denoise) image files or folders with a classical "
        "method, a zoo model or an exported artifact.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="image files and/or folders; video files (.mp4, .avi, .mkv, .mov, ...) and "
                   "camera indices (0, 1, ...) are restored frame by frame into OUT/<name>.mp4")
    p.add_argument("-o", "--output", metavar="OUT", help="output folder (required)")
    p.add_argument(
        "-m", "--method",
        help=f"method name (see --list-methods) or path of an exported artifact; default: "
        f"{DEFAULT_METHODS['with_kernel']} with --kernel, {DEFAULT_METHODS['without_kernel']} without",
    )
    p.add_argument("-k", "--kernel", metavar="FILE",
                   help="blur kernel (PSF) file: .npy, .mat or an image; needed by wiener, "
                   "richardson-lucy")
    p.add_argument("-s", "--sigma", type=float,
                   help="noise sigma on the 0-255 scale (e.g. 25); estimated per image if omitted")
    p.add_argument("--gyro", metavar="CSV",
                   help="gyroscope log of the exposure (t_ns|t,wx,wy,wz; Android TYPE_GYROSCOPE "
                   "axes, rad/s; see docs/gyro.md): a PSF per region instead of one kernel")
    p.add_argument("--camera", metavar="JSON",
                   help="with --gyro: intrinsics, exposure start/time, rolling-shutter readout, "
                   "gyro-to-camera offset and rotation (docs/gyro.md)")
    p.add_argument("--sync", action="store_true",
                   help="with --gyro: estimate the gyro-to-camera time offset from the photo")
    p.add_argument("--save-kernel", action="store_true",
                   help="deblur: write the PSF used for each image next to its output "
                   "(<name>.kernel.npy and a viewable <name>.kernel.png)")
    p.add_argument("-O", "--option", action="append", default=[], metavar="KEY=VALUE",
                   help="option passed to the method, repeatable (e.g. -O iterations=30)")
    p.add_argument("--suffix", default="", help="added to each output file name (default: none)")
    p.add_argument("--format", choices=FORMATS, default="png",
                   help="output format (default png; 'same' keeps each input's extension)")
    p.add_argument("--max-frames", type=int, metavar="N",
                   help="stop a video or camera after N frames (a camera otherwise runs until Ctrl-C)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--list-methods", action="store_true", help="print the method names and exit")
    return p


def default_method(has_kernel: bool) -> str:
    """The method name used when ``--method`` is not given."""
    return DEFAULT_METHODS["with_kernel" if has_kernel else "without_kernel"]


def load_kernel_file(path: str) -> np.ndarray:
    """Load and validate a PSF file (``.npy``, ``.mat``, image) with the project's one loader."""
    from ..degrade import load_kernel

    return load_kernel(path)


def prepare_output_folder(out: str | None) -> Path:
    """Create OUT when its parent exists; refuse a missing parent or a file named OUT."""
    if not out:
        raise ConfigError("the output folder is required", hint="add -o OUT, e.g. -o restored/")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise OutputPathError("output path exists and is not a folder", path=folder,
                              hint="give a folder with -o")
    if not folder.exists():
        parent = folder.resolve().parent
        if not parent.is_dir():
            raise OutputPathError(
                "output folder's parent does not exist", path=folder,
                hint=f"create it first: mkdir -p {folder}",
            )
        folder.mkdir()
    return folder


@dataclass
class Job:
    """One input file and where its result goes."""

    source: Path
    target: Path


def plan_jobs(
    inputs: list[str], out: Path, *, suffix: str, fmt: str
) -> tuple[list[Job], list[tuple[Path, EdgeDeblurError]]]:
    """Map inputs to output paths, mirroring subfolders of folder inputs.

    Returns the jobs and the inputs refused up front (missing paths, output collisions).
    """
    from ..errors import ImageReadError
    from ..io import IMAGE_EXTENSIONS, list_images

    jobs: list[Job] = []
    refused: list[tuple[Path, EdgeDeblurError]] = []
    taken: dict[Path, Path] = {}
    out_resolved = out.resolve()
    for given in map(Path, inputs):
        if not given.exists():
            refused.append((given, ImageReadError("file or folder does not exist", path=given,
                                                  hint="check the path")))
            continue
        root = given if given.is_dir() else None
        files = list_images([given])
        if root is not None:  # OUT inside an input folder: never re-process earlier results
            files = [f for f in files if out_resolved not in f.resolve().parents]
        if root is not None and not files:
            refused.append((given, ImageReadError("folder holds no images", path=given,
                                                  allowed=", ".join(IMAGE_EXTENSIONS))))
        for src in files:
            relative = src.relative_to(root).parent if root is not None else Path()
            ext = src.suffix.lower() if fmt == "same" else "." + fmt
            if ext not in IMAGE_EXTENSIONS:
                ext = ".png"
            target = out / relative / f"{src.stem}{suffix}{ext}"
            key = target.resolve()
            if key in taken:
                refused.append((src, OutputPathError(
                    f"its output would overwrite the output of {taken[key]}", path=src,
                    hint="use --suffix or --format same, or rename one of them")))
                continue
            taken[key] = src
            jobs.append(Job(src, target))
    sources = {job.source.resolve() for job in jobs}
    kept = []
    for job in jobs:
        if job.target.resolve() in sources:
            refused.append((job.source, OutputPathError(
                "its output path is an input file; edgedeblur never overwrites inputs",
                path=job.target, hint="choose another output folder with -o or add --suffix")))
        else:
            kept.append(job)
    return kept, refused


@dataclass
class GyroSource:
    """``--gyro``/``--camera``: the PSF grid of one exposure, computed per image size."""

    log: object
    camera: object
    sync: bool

    @classmethod
    def read(cls, gyro: str | None, camera: str | None, sync: bool) -> GyroSource | None:
        if not gyro and not camera:
            if sync:
                raise ConfigError("--sync needs --gyro and --camera", hint="add both files or drop --sync")
            return None
        if not (gyro and camera):
            raise ConfigError("--gyro and --camera go together",
                              given="--gyro" if gyro else "--camera",
                              hint="add --camera shot.camera.json (intrinsics, exposure, readout; docs/gyro.md)"
                              if gyro else "add --gyro shot.gyro.csv")
        from ..runtime.gyro import read_camera_json, read_gyro_csv

        return cls(read_gyro_csv(gyro), read_camera_json(camera), sync)

    def grid(self, image: np.ndarray):  # noqa: ANN201 - a runtime.gyro.PSFGrid
        from dataclasses import replace

        from ..runtime.gyro import estimate_time_offset, gyro_psf_grid

        cam = self.camera.for_image(*image.shape[:2])  # type: ignore[attr-defined]
        if self.sync:
            cam = replace(cam, time_offset=estimate_time_offset(image, cam, self.log).offset)
        return gyro_psf_grid(cam, self.log)


def restore_file(method, job: Job, *, kernel, sigma, inputs: list[Path],  # noqa: ANN001
                 save_kernel: bool = False, gyro: GyroSource | None = None,
                 kernel_file: str | None = None) -> float:
    """Read, restore and write one image (and the PSF used, with ``save_kernel``); returns
    its size in megapixels. A kernel the method refuses for this image (e.g. larger than it)
    is reported naming ``kernel_file``."""
    from ..io import from_float, read_image, to_float, write_image

    pixels = read_image(job.source)
    if pixels.dtype == np.uint16 and job.target.suffix.lower() in (".jpg", ".jpeg", ".bmp", ".webp"):
        raise OutputPathError(f"{job.target.suffix} cannot hold a 16-bit image", path=job.source,
                     hint="use --format png or --format tif")
    shape, dtype = pixels.shape, pixels.dtype
    streams = streams_pixels(method) and gyro is None
    # a streaming method (an exported artifact through the runner) gets the file's pixels and
    # converts one tile at a time; the others get one float32 copy of the whole image
    image = pixels if streams else to_float(pixels)
    del pixels  # only ``image`` stays referenced: the uint8 input is freed once converted
    if gyro is not None:
        restored = method.restore(image, sigma=sigma, psf_grid=gyro.grid(image))
    else:
        try:
            restored = method.restore(image, kernel=kernel, sigma=sigma)
        except KernelError as exc:
            if kernel is None or kernel_file is None or exc.path:
                raise
            raise KernelError(exc.what, given=exc.given, allowed=exc.allowed, hint=exc.hint,
                              path=kernel_file) from exc
    del image  # the output is written from ``restored`` alone
    job.target.parent.mkdir(parents=True, exist_ok=True)
    if restored.dtype != dtype:
        restored = from_float(restored, dtype)
    write_image(job.target, restored, inputs=inputs)
    psf = getattr(method, "last_psf", None)
    if save_kernel and psf is not None:
        _write_kernel(job.target, psf.kernel, inputs)
    return shape[0] * shape[1] / 1e6


def streams_pixels(method) -> bool:  # noqa: ANN001
    """Whether ``method`` restores uint8/uint16 pixels itself, tile by tile (the runtime's runner:
    ``restores_pixels``); the others need the whole image as float32."""
    return bool(getattr(method, "restores_pixels", False))


def _write_kernel(target: Path, kernel: np.ndarray, inputs: list[Path]) -> None:
    """``<out>.kernel.npy`` (float32, sums to 1) and ``<out>.kernel.png`` (peak-normalised)."""
    from ..degrade import kernel_preview
    from ..io import atomic_write, write_image

    stem = target.with_suffix("")
    atomic_write(stem.with_name(stem.name + ".kernel.npy"),
                 lambda tmp: np.save(tmp, kernel.astype(np.float32)), suffix=".npy")
    write_image(stem.with_name(stem.name + ".kernel.png"), kernel_preview(kernel), inputs=inputs)


def _psf_line(job: Job, method) -> str | None:  # noqa: ANN001
    """One line on where the PSF of this image came from (blind estimation, a fallback)."""
    psf = getattr(method, "last_psf", None)
    if psf is None:
        return None
    linear = getattr(method, "last_linear", None)  # where the data step ran (pipeline linear=auto)
    domain = "" if linear is None or psf.kernel.size == 1 else \
        f"; data step in {'linear light' if linear else 'sRGB'}"
    if psf.source == "given":
        return f"{job.source.name}: PSF given{domain}" if domain else None
    if psf.source == "gyro":
        return f"{job.source.name}: PSF from the gyroscope ({psf.note}; centre kernel {psf.kernel.shape[0]} px){domain}"
    conf = f", confidence {psf.confidence:.2f}" if psf.confidence is not None else ""
    size = "x".join(map(str, psf.kernel.shape))
    note = f": {psf.note}" if psf.note else ""
    return f"{job.source.name}: PSF {psf.source} ({size} px{conf}, {psf.seconds:.1f} s){note}{domain}"


def _resolve_method(args: argparse.Namespace, kernel: np.ndarray | None):  # noqa: ANN202
    from ..classical import check_sigma
    from ..methods import get_method

    name = args.method or default_method(kernel is not None)
    method = get_method(name, **parse_method_options(args.option))
    if method.needs_kernel and kernel is None:
        raise ConfigError(f"method {name!r} needs the blur kernel",
                          hint="add --kernel psf.npy (a .npy, .mat or image PSF)")
    check_sigma(args.sigma, required=method.needs_sigma, method=name)
    return name, method


def _note(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``edge-deblur``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list_methods:
        from ..methods import list_methods

        print("\n".join(list_methods()))
        return 0
    if not args.inputs:
        parser.print_usage(sys.stderr)
        print("edge-deblur: error: give at least one INPUT file or folder", file=sys.stderr)
        return EXIT_USAGE
    kernel = load_kernel_file(args.kernel) if args.kernel else None
    gyro = GyroSource.read(args.gyro, args.camera, args.sync)
    if gyro is not None and kernel is not None:
        raise ConfigError("--kernel and --gyro both give the PSF", hint="use one of them")
    name, method = _resolve_method(args, kernel)
    if gyro is not None and not hasattr(method, "last_psf"):
        raise ConfigError(f"--gyro needs the deblur pipeline; {name} takes no PSF grid",
                          hint="use -m deblur (the default)")
    if gyro is not None and (len(args.inputs) != 1 or not Path(args.inputs[0]).is_file()):
        raise ConfigError("--gyro describes one exposure: give exactly one image file",
                          given=f"{len(args.inputs)} inputs")
    out = prepare_output_folder(args.output)
    videos, images = split_video_inputs(args.inputs)
    jobs, refused = plan_jobs(images, out, suffix=args.suffix, fmt=args.format)
    if args.sigma is None and name in ESTIMATES_SIGMA:
        _note(f"note: --sigma not given; {name} estimates the noise level of each image", args.quiet)
    if args.save_kernel and not hasattr(method, "last_psf"):
        raise ConfigError(f"--save-kernel needs a PSF-aware method; {name} has no PSF",
                          hint="use -m deblur (the default) or drop --save-kernel")
    if kernel is not None and not method.needs_kernel and not hasattr(method, "last_psf"):
        _note(f"note: {name} does not use a kernel; --kernel is ignored", args.quiet)

    report = BatchReport(what="images")
    for path, error in refused:
        report.fail(path, error)
    inputs = [job.source for job in jobs]
    megapixels, busy, count = 0.0, 0.0, 0
    bar = jobs if args.quiet else progress(jobs, desc=f"edge-deblur {name}", unit="img")
    for job in bar:
        started = time.perf_counter()
        try:
            mp = restore_file(method, job, kernel=kernel, sigma=args.sigma, inputs=inputs,
                              save_kernel=args.save_kernel, gyro=gyro, kernel_file=args.kernel)
        except EdgeDeblurError as exc:
            report.fail(job.source, exc)
            continue
        except Exception as exc:  # noqa: BLE001 - one crashing file must not stop the batch
            report.fail(job.source, RuntimeError(
                f"internal error in {name} ({type(exc).__name__}: {exc}); please report it"))
            continue
        busy += time.perf_counter() - started
        line = _psf_line(job, method)
        if line:
            _note(line, args.quiet and "failed" not in line)
        megapixels += mp
        count += 1
        report.ok(job.target)
    if videos:
        restore_videos(method, videos, out, kernel=kernel, sigma=args.sigma, suffix=args.suffix,
                       max_frames=args.max_frames, report=report, quiet=args.quiet)
    if count:
        per_mp = busy / megapixels if megapixels else 0.0
        print(f"{name}: {count} image{'s' if count != 1 else ''}, {megapixels:.2f} MP in {busy:.1f} s "
              f"({per_mp:.2f} s/MP) -> {out}", file=sys.stderr)
    return report.finish(sys.stderr)  # the current stderr (finish's default is bound at import)
