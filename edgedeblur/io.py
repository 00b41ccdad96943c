"""Image reading and writing, done once for every command.

``read_image`` returns the pixels as the camera wrote them (uint8 or uint16, H x W grey or
H x W x 3 RGB), with EXIF orientation applied, palettes expanded and alpha dropped.
``to_float``/``from_float`` convert to and from the float32 [0, 1] images every method works on,
so a 16-bit input gives a 16-bit output. ``write_image`` is atomic and refuses to overwrite an
input. Only numpy and Pillow are needed (OpenCV only for 16-bit colour files), so the edge
runtime can use this module on a Raspberry Pi.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from .errors import ImageReadError, InvalidInputError, OutputPathError, require

__all__ = [
    "IMAGE_EXTENSIONS",
    "atomic_write",
    "read_image",
    "write_image",
    "to_float",
    "from_float",
    "list_images",
    "check_output_path",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".ppm", ".pgm")

_EXIF_ORIENTATION = 0x0112


def _exif_orientation(pil_image) -> int:  # noqa: ANN001
    try:
        return int(pil_image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not make a readable photo unreadable
        return 1


def _apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an H x W (x C) array, as viewers do."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.swapaxes(a, 0, 1)[::-1, :],
    }
    op = ops.get(orientation)
    return np.ascontiguousarray(op(pixels)) if op else pixels


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 or uint16, H x W (grey) or H x W x 3 (RGB).

    Raises :class:`ImageReadError` naming the file for a missing, empty, truncated, corrupt or
    non-image file.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise ImageReadError("file does not exist", path=path, hint="check the path")
    if path.is_dir():
        raise ImageReadError("is a folder, not an image file", path=path)
    if path.stat().st_size == 0:
        raise ImageReadError("file is empty (0 bytes)", path=path)
    try:
        with Image.open(path) as im:
            im.load()  # forces full decode: truncated files fail here, not later
            orientation = _exif_orientation(im)
            mode = im.mode
            bits16 = mode in ("I;16", "I;16B", "I;16L", "I") or (
                im.format in ("PNG", "TIFF") and im.info.get("bitdepth", 8) == 16
            )
            if mode in ("RGB", "L") and not bits16:
                pixels = _pil_to_array(im)
            elif mode in ("P", "PA", "RGBA", "LA", "CMYK", "YCbCr", "1", "La", "RGBa"):
                # palette, alpha and exotic modes: expand to what they look like, drop alpha
                keep_grey = mode in ("LA", "La", "1") or (
                    mode in ("P", "PA") and _palette_is_grey(im)
                )
                pixels = np.asarray(im.convert("L" if keep_grey else "RGB"))
            elif mode.startswith("I"):
                arr = np.asarray(im)
                if arr.min() < 0 or arr.max() > 65535:
                    raise ImageReadError(
                        "32-bit integer image out of the 16-bit range", path=path, given=mode
                    )
                pixels = arr.astype(np.uint16)
            else:
                raise ImageReadError(
                    "unsupported pixel mode",
                    path=path,
                    given=mode,
                    allowed="8/16-bit grey, RGB, RGBA, palette",
                    hint="convert it to an 8-bit or 16-bit PNG first",
                )
    except ImageReadError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageReadError(
            "not an image file (or a format Pillow cannot read)",
            path=path,
            allowed=", ".join(IMAGE_EXTENSIONS),
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"corrupt or truncated image ({exc})", path=path) from exc

    if pixels.ndim == 3 and pixels.shape[2] == 3 and path.suffix.lower() in (".png", ".tif", ".tiff"):
        # Pillow reads 48-bit RGB PNG/TIFF as 8 bit; re-read with OpenCV to keep 16 bits.
        pixels = _maybe_read_16bit_colour(path, pixels)
    pixels = _apply_orientation(pixels, orientation)
    if pixels.ndim == 2 or pixels.shape[2] == 3:
        return np.ascontiguousarray(pixels)
    raise ImageReadError("unexpected channel count", path=path, given=pixels.shape)


_STRIP_ROWS = 256


def _pil_to_array(im) -> np.ndarray:  # noqa: ANN001 - a loaded 8-bit RGB or L PIL image
    """``np.asarray(im)`` without its two full-size temporaries (``tobytes`` and the copy): a
    large image is copied into one array in strips of rows (the same pixels)."""
    w, h = im.size
    if w * h <= 1 << 22:
        return np.asarray(im)
    out = np.empty((h, w, 3) if im.mode == "RGB" else (h, w), dtype=np.uint8)
    for y in range(0, h, _STRIP_ROWS):
        out[y:y + _STRIP_ROWS] = np.asarray(im.crop((0, y, w, min(h, y + _STRIP_ROWS))))
    return out


def _palette_is_grey(im) -> bool:  # noqa: ANN001
    rgb = np.asarray(im.convert("RGB"))
    return bool(np.all(rgb[..., 0] == rgb[..., 1]) and np.all(rgb[..., 1] == rgb[..., 2]))


def _png_bit_depth(path: Path) -> int | None:
    """The bit depth in a PNG's IHDR chunk (byte 24), or None when the file is not a PNG."""
    with open(path, "rb") as fh:
        head = fh.read(25)
    if len(head) < 25 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24]


def _maybe_read_16bit_colour(path: Path, pixels8: np.ndarray) -> np.ndarray:
    if _png_bit_depth(path) == 8:  # an 8-bit PNG: no second decode (a 50 MP photo: 151 MB)
        return pixels8
    try:
        import cv2
    except ImportError:
        return pixels8
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if data is None or data.dtype != np.uint16 or data.ndim != 3:
        return pixels8
    return np.ascontiguousarray(data[..., 2::-1] if data.shape[2] >= 3 else data)


def to_float(image: np.ndarray) -> np.ndarray:
    """uint8/uint16/float image -> float32 in [0, 1] (floats are passed through as float32)."""
    if not isinstance(image, np.ndarray):
        raise InvalidInputError("expected a numpy array", given=type(image).__name__)
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    if np.issubdtype(image.dtype, np.floating):
        return image.astype(np.float32, copy=False)
    raise InvalidInputError(
        "unsupported image dtype", given=str(image.dtype), allowed="uint8, uint16, float32/64"
    )


def from_float(image: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """float image in [0, 1] -> ``dtype`` (uint8/uint16 rounded and clipped; floats clipped)."""
    dtype = np.dtype(dtype)
    clipped = np.clip(image, 0.0, 1.0)
    if dtype == np.uint8:
        return (clipped * 255.0 + 0.5).astype(np.uint8)
    if dtype == np.uint16:
        return (clipped * 65535.0 + 0.5).astype(np.uint16)
    if np.issubdtype(dtype, np.floating):
        return clipped.astype(dtype)
    raise InvalidInputError("unsupported output dtype", given=str(dtype), allowed="uint8, uint16, float")


def check_output_path(out: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Validate an output file path: its folder exists and it is not one of ``inputs``."""
    out = Path(out)
    if not out.parent.exists():
        raise OutputPathError(
            "output folder does not exist", path=out, hint=f"create it first: mkdir -p {out.parent}"
        )
    resolved = out.resolve()
    for src in inputs:
        if Path(src).resolve() == resolved:
            raise OutputPathError(
                "output path is the same as an input; edgedeblur never overwrites inputs",
                path=out,
                hint="choose another output folder with -o",
            )
    return out


def write_image(path: str | Path, image: np.ndarray, *, inputs: Sequence[str | Path] = ()) -> Path:
    """Write ``image`` (uint8/uint16, or float in [0, 1] saved as uint8) atomically.

    The file appears complete or not at all: pixels go to a temporary file in the same folder,
    which is then renamed over ``path``. ``inputs`` are paths that must never be overwritten.
    """
    from PIL import Image

    path = check_output_path(path, inputs)
    if np.issubdtype(image.dtype, np.floating):
        image = from_float(image, np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise InvalidInputError("image must be H x W or H x W x 3", given=image.shape, path=path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS:
        raise OutputPathError(
            "unsupported output extension", path=path, given=suffix, allowed=", ".join(IMAGE_EXTENSIONS)
        )
    def write(tmp: Path) -> None:
        if image.dtype == np.uint16 and image.ndim == 3:
            cv2 = require("cv2", "opencv", "writing 16-bit colour images")
            if not cv2.imwrite(str(tmp), np.ascontiguousarray(image[..., ::-1])):
                raise OutputPathError("OpenCV could not write this format in 16 bit", path=path)
        elif image.dtype == np.uint16:
            Image.fromarray(image).save(tmp, format=_pil_format(suffix))
        else:
            Image.fromarray(image.astype(np.uint8, copy=False)).save(
                tmp, format=_pil_format(suffix), **({"quality": 95} if suffix in (".jpg", ".jpeg") else {})
            )

    return atomic_write(path, write, suffix=suffix)


def atomic_write(path: str | Path, write: Callable[[Path], object] | bytes | str, *, suffix: str = "",
                 folder: bool = False) -> Path:
    """Write ``path`` so that it appears complete or not at all: the one writer of the project.

    ``write`` is what to write: ``bytes``, a ``str`` (UTF-8), or a callback ``write(tmp)`` that
    writes a temporary file in ``path``'s folder (``suffix`` keeps the extension for writers that
    look at it, e.g. ``savefig``); the temporary file is then renamed to ``path``, with the
    permissions a plain ``open()`` would give (mkstemp makes 0600 files). With ``folder=True``
    the callback fills a temporary folder that then replaces the folder ``path`` (the old one is
    moved aside first and removed last, so a crash leaves one of the two complete). On any error
    the temporary file or folder is removed and nothing at ``path`` changes. Every writer
    (images, manifests, weights, checkpoints, sidecars, reports, C headers) goes through here.
    """
    path = Path(path)
    if isinstance(write, (bytes, str)):
        data = write
        write = (lambda tmp: tmp.write_bytes(data)) if isinstance(data, bytes) else \
            (lambda tmp: tmp.write_text(data, encoding="utf-8"))
    if folder:
        return _atomic_folder(path, write)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _atomic_folder(path: Path, write: Callable[[Path], object]) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    old = path.with_name(f".{path.name}.old")
    try:
        write(tmp)
        if old.exists():
            shutil.rmtree(old)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _pil_format(suffix: str) -> str:
    return {
        ".jpg": "JPEG",
        ".jpeg": "JPEG",
        ".png": "PNG",
        ".tif": "TIFF",
        ".tiff": "TIFF",
        ".bmp": "BMP",
        ".webp": "WEBP",
        ".ppm": "PPM",
        ".pgm": "PPM",
    }[suffix]


def list_images(paths: Iterable[str | Path], *, recursive: bool = True) -> list[Path]:
    """Expand files and folders into a sorted list of image files (folders searched recursively).

    Files given explicitly are kept whatever their extension, so a bad file named on the command
    line is reported rather than silently skipped.
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            found.extend(
                sorted(
                    f
                    for f in p.glob(pattern)
                    if f.is_file()
                    and f.suffix.lower() in IMAGE_EXTENSIONS
                    # kernel pictures written by edge-degrade are not photos to restore
                    and not f.name.lower().endswith(".kernel.png")
                )
            )
        else:
            found.append(p)
    return found
