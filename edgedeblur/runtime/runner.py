"""The Runner: one pre/post-processing path for every backend, and ``load()``.

``Runner.restore(image)`` accepts uint8/uint16/float, grey or RGB, any size, and returns the
same dtype and shape. In between: map pixels to the model's real range, quantize with the
manifest's scale/zero point, lay out as NCHW/NHWC, reflect-pad to the model's multiple, tile
with a raised-cosine blend (fixed-shape models always, dynamic ones above ``max_pixels``), and
undo all of it on the way out. The runner is also a *method* (``name``, ``needs_kernel``,
``needs_sigma``, ``restore``) so ``edge-deblur``/``edge-eval`` can use an artifact directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._arrays import check_image
from ..errors import ArtifactError, ConfigError
from ..io import from_float, to_float
from .backends import BACKEND_FORMATS, DEFAULT_BACKEND, BackendInfo, check_name, create_backend
from .ensemble import check_passes, self_ensemble
from .manifest import Manifest, TensorSpec
from .tiling import run_tiled

__all__ = ["Runner", "load", "DEFAULT_MAX_PIXELS", "DEFAULT_MEMORY_BUDGET_MB", "WHOLE_FRAME_BYTES_PER_PIXEL"]

#: the working memory a dynamic-shape model may use for one backend call (``memory_budget_mb``)
DEFAULT_MEMORY_BUDGET_MB = 1024
#: backend working memory per input pixel assumed for a whole-frame call: the zoo's default
#: denoiser measured 285-443 B/px (ONNX Runtime fp32, OpenVINO INT8; 720p to 3 MP), rounded up
WHOLE_FRAME_BYTES_PER_PIXEL = 512
#: dynamic models restore images above this many pixels in tiles: the default budget / the
#: per-pixel cost (2,097,152: a 1080p frame still runs whole)
DEFAULT_MAX_PIXELS = DEFAULT_MEMORY_BUDGET_MB * 2**20 // WHOLE_FRAME_BYTES_PER_PIXEL
_DEFAULT_DYNAMIC_TILE = (512, 32)
_QRANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def load(
    artifact_or_manifest: str | Path,
    backend: str | None = None,
    device: str | None = None,
    threads: int | None = None,
    delegate: str | None = None,
    strict: bool = False,
    **options: object,
) -> Runner:
    """Load an exported artifact (or its manifest) on a backend and return a :class:`Runner`.

    The sha256 in the manifest is checked first (a tampered or truncated file is refused), then
    the backend loads the file and its input shape/dtype are compared with the manifest.
    ``options`` go to :class:`Runner` (``tile``, ``overlap``, ``max_pixels``,
    ``memory_budget_mb``, ``batch``, ``self_ensemble``).
    """
    manifest = Manifest.read(artifact_or_manifest)
    name = check_name("backend", backend, BACKEND_FORMATS) or manifest.preferred_backend \
        or DEFAULT_BACKEND[manifest.format]
    if manifest.format not in BACKEND_FORMATS[name]:
        raise ConfigError(
            f"backend {name!r} cannot run a {manifest.format!r} artifact", path=manifest.artifact_path,
            allowed=", ".join(b for b, f in BACKEND_FORMATS.items() if manifest.format in f),
            hint=f"use --backend {DEFAULT_BACKEND[manifest.format]}",
        )
    manifest.verify_files()
    impl = create_backend(name)
    started = time.perf_counter()
    impl.load(manifest.artifact_path, device=device, threads=threads, delegate=delegate, strict=strict)
    load_s = time.perf_counter() - started
    _check_against_model(manifest, impl.input_details)
    return Runner(manifest, impl, load_seconds=load_s, **options)  # type: ignore[arg-type]


def _check_against_model(manifest: Manifest, details: dict) -> None:
    """Refuse a manifest whose input tensor does not describe the model file."""
    spec = manifest.input
    problems = []
    if details.get("dtype") and details["dtype"] != spec.dtype:
        problems.append(f"dtype: model {details['dtype']}, manifest {spec.dtype}")
    shape = details.get("shape")
    if shape is not None:
        if len(shape) != len(spec.shape):
            problems.append(f"rank: model {shape}, manifest {list(spec.shape)}")
        else:
            for axis, (m, s) in enumerate(zip(shape, spec.shape, strict=True)):
                both_fixed_differ = m >= 0 and s >= 0 and m != s
                # fixed vs dynamic disagreement matters for H, W, C (a batch of 1 vs -1 does not)
                dynamic_differs = (m >= 0) != (s >= 0) and spec.layout[axis] != "N"
                if both_fixed_differ or dynamic_differs:
                    problems.append(f"shape: model {shape}, manifest {list(spec.shape)} ({spec.layout})")
                    break
    if details.get("scale") is not None and spec.scale is not None:
        if not np.isclose(details["scale"], spec.scale, rtol=1e-4) or details["zero_point"] != spec.zero_point:
            problems.append(f"quantization: model scale/zp {details['scale']}/{details['zero_point']}, "
                            f"manifest {spec.scale}/{spec.zero_point}")
    if problems:
        raise ArtifactError("manifest does not match the model file: " + "; ".join(problems),
                            path=manifest.path, hint="re-export so the manifest is written from the model")


class Runner:
    """Restore images with an exported model; see the module docstring for the steps.

    ``self_ensemble`` (1, 2, 4 or 8): restore that many flipped/rotated copies and average them
    (:mod:`edgedeblur.runtime.ensemble`), for that many times the compute.

    ``memory_budget_mb``: what one backend call of a dynamic-shape model may use; a frame whose
    estimated cost (``WHOLE_FRAME_BYTES_PER_PIXEL`` per pixel) fits runs whole, a larger one in
    tiles, batched only as far as the budget allows. ``max_pixels`` overrides the whole-frame
    limit. The tile overlap is the manifest's (chosen from the receptive field at export), else
    32 for dynamic models.
    """

    needs_kernel = False
    needs_sigma = False
    #: ``restore`` takes uint8/uint16 pixels and returns the same dtype, converting to float one
    #: tile at a time: callers (``edge-deblur``) pass the file's pixels, not a float32 copy
    restores_pixels = True

    def __init__(
        self,
        manifest: Manifest,
        backend,  # noqa: ANN001 - a loaded Backend
        *,
        tile: int | None = None,
        overlap: int | None = None,
        max_pixels: int | None = None,
        memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
        batch: int | None = None,
        self_ensemble: int = 1,
        load_seconds: float = 0.0,
    ) -> None:
        self.manifest = manifest
        self.self_ensemble = check_passes(self_ensemble)
        self.backend = backend
        self.load_seconds = load_seconds
        self.input: TensorSpec = manifest.input
        self.output: TensorSpec = manifest.output
        if memory_budget_mb <= 0:
            raise ConfigError("memory_budget_mb must be positive", given=memory_budget_mb, path=manifest.path)
        budget = float(memory_budget_mb) * 2**20
        self.memory_budget_mb = float(memory_budget_mb)
        self.max_pixels = int(budget // WHOLE_FRAME_BYTES_PER_PIXEL if max_pixels is None else max_pixels)
        default = manifest.tile or _dynamic_tile(manifest, tile)
        self.tile = int(tile or default[0])
        self.overlap = int(default[1] if overlap is None else overlap)
        if not manifest.dynamic_hw and self.tile != self.input.height:
            raise ConfigError("a fixed-shape model must be tiled at its input size",
                              given=self.tile, allowed=self.input.height, path=manifest.path)
        if self.tile % manifest.pad_multiple or 2 * self.overlap >= self.tile:
            raise ConfigError("tile must be a multiple of pad_multiple and overlap < tile/2",
                              given=f"tile={self.tile}, overlap={self.overlap}",
                              allowed=f"multiple of {manifest.pad_multiple}", path=manifest.path)
        per_tile = self.tile * self.tile * WHOLE_FRAME_BYTES_PER_PIXEL
        default_batch = max(1, min(4, int(budget // per_tile)))
        self.batch = int(batch or (default_batch if self.input.batch is None else self.input.batch))
        self.name = f"{manifest.name}@{backend.info.name}"
        # a deblur prior: RGB plus a constant noise-level map in, RGB out (runtime.pipeline)
        self.conditioned = self.input.channels == 4
        self._luts: dict[str, np.ndarray] = {}  # input/output lookup tables, made on first use

    # --- reported facts -------------------------------------------------------------------
    @property
    def info(self) -> BackendInfo:
        return self.backend.info

    @property
    def fallback(self) -> str | None:
        """Why the requested device/delegate is not in use (None when it is)."""
        return self.backend.info.fallback

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        i = self.backend.info
        return f"Runner({self.manifest.artifact_path.name}, backend={i.name}, device={i.device})"

    # --- tensor conversion ----------------------------------------------------------------
    def to_model(self, batch: np.ndarray) -> np.ndarray:
        """float32 B x H x W x C in [0, 1] -> the model's input tensor (range, dtype, layout)."""
        spec = self.input
        lo, hi = spec.range
        x = batch * (hi - lo) + lo if (lo, hi) != (0.0, 1.0) else batch
        if spec.quantized:
            qmin, qmax = _QRANGE[spec.dtype]
            t = x / spec.scale  # one new float32 buffer, then in place (same arithmetic, fewer passes)
            np.rint(t, out=t)
            t += spec.zero_point
            np.clip(t, qmin, qmax, out=t)
            x = t.astype(spec.dtype)
        else:
            x = x.astype(spec.dtype, copy=False)
        if spec.layout == "NCHW":
            x = x.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(x)

    def from_model(self, y: np.ndarray) -> np.ndarray:
        """The model's output tensor -> float32 B x H x W x C in [0, 1] (not clipped)."""
        spec = self.output
        if spec.layout == "NCHW":
            y = y.transpose(0, 2, 3, 1)
        if spec.quantized:
            y = y.astype(np.float32)
            y -= spec.zero_point
            y *= np.float32(spec.scale)
        else:
            y = y.astype(np.float32, copy=False)
        lo, hi = spec.range
        return (y - lo) / (hi - lo) if (lo, hi) != (0.0, 1.0) else y

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 B x H x W x C in [0, 1] -> restored, same shape (one backend call per batch)."""
        return self._from_model_lut(self.backend.run(self.to_model(batch)))

    def input_lut(self, dtype: np.dtype) -> np.ndarray | None:
        """uint8/uint16 pixel value -> model input value, made by :meth:`to_model` itself on
        every level, so the lookup is bit-identical to converting to float and quantizing, in one
        pass instead of six; None for other dtypes."""
        dtype = np.dtype(dtype)
        if dtype not in (np.uint8, np.uint16):
            return None
        lut = self._luts.get(dtype.str)
        if lut is None:
            levels = to_float(np.arange(np.iinfo(dtype).max + 1, dtype=dtype))
            lut = self._luts[dtype.str] = self.to_model(levels.reshape(1, 1, -1, 1)).reshape(-1)
        return lut

    def infer_pixels(self, batch: np.ndarray, lut: np.ndarray) -> np.ndarray:
        """uint8/uint16 B x H x W x C -> restored float32 (as :meth:`infer` of the float batch):
        the lookup writes the model tensor in its layout directly (one gather)."""
        x = batch.transpose(0, 3, 1, 2) if self.input.layout == "NCHW" else batch
        return self._from_model_lut(self.backend.run(lut[x]))

    def _from_model_lut(self, y: np.ndarray) -> np.ndarray:
        """:meth:`from_model`; an int8/uint8 output is dequantized by a 256-entry table made by
        ``from_model`` itself (bit-identical, one pass instead of three)."""
        spec = self.output
        if not spec.quantized or spec.dtype not in ("int8", "uint8") or y.dtype != np.dtype(spec.dtype):
            return self.from_model(y)  # float, or int16 (tflite-int16x8): no 256-entry table
        lut = self._luts.get("out")
        if lut is None:
            q = np.arange(256, dtype=np.uint8).view(spec.dtype)
            q = q.reshape(1, 1, 1, 256) if spec.layout == "NCHW" else q.reshape(1, 1, 256, 1)
            lut = self._luts["out"] = np.ascontiguousarray(self.from_model(q).reshape(-1))
        f = lut[y.view(np.uint8)]
        return f.transpose(0, 2, 3, 1) if spec.layout == "NCHW" else f

    def _batched(self, infer: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
        """``infer`` one tile at a time when the model's batch dimension is fixed at 1."""
        def run(tiles: np.ndarray) -> np.ndarray:
            if self.input.batch == 1 and len(tiles) > 1:
                return np.concatenate([infer(t[None]) for t in tiles])
            return infer(tiles)
        return run

    # --- the method -----------------------------------------------------------------------
    def restore(self, image: np.ndarray, *, kernel: np.ndarray | None = None,
                sigma: float | None = None) -> np.ndarray:
        """Restore an H x W or H x W x 3 image; returns the same dtype and shape.

        ``kernel`` is accepted for the method protocol and ignored: exported models are blind.
        ``sigma`` (0-255 scale) is the strength of a noise-conditioned prior (a 4-channel
        model; estimated when ``None``), ignored by the others.
        """
        image = check_image(image, dtypes="pixels", min_side=1)
        if self.conditioned:
            return self._restore_conditioned(image, sigma)
        if self.self_ensemble > 1:
            # average in float: the mean of rounded uint8 outputs would lose the gain
            mean = self_ensemble(self._restore_once, to_float(image), self.self_ensemble)
            return _float_to(mean, image.dtype)
        return self._restore_once(image)

    def _restore_conditioned(self, image: np.ndarray, sigma: float | None) -> np.ndarray:
        from .deconv import MIN_SIGMA, estimate_noise_sigma
        from .pipeline import noise_map_input

        f = to_float(image)
        if sigma is None:
            sigma = max(estimate_noise_sigma(f), MIN_SIGMA)
        if self.self_ensemble > 1:
            out = self_ensemble(lambda x: self._restore_hwc(noise_map_input(x, sigma)), _as_rgb(f),
                                self.self_ensemble)
        else:
            out = self._restore_hwc(noise_map_input(f, float(sigma)))
        out = out.mean(axis=2) if image.ndim == 2 else out
        return out if image.dtype == np.float32 else _float_to(out, image.dtype)

    def _restore_once(self, image: np.ndarray) -> np.ndarray:
        model_c = self.input.channels
        if image.ndim == 2:
            planes = [image[..., None]]
        elif model_c == 1:  # a grey model on a colour image: each channel on its own
            planes = [image[..., i:i + 1] for i in range(3)]
        else:
            planes = [image]
        outs = [self._restore_hwc(p) for p in planes]
        if image.ndim == 2:
            return outs[0][..., 0]
        return outs[0] if len(outs) == 1 else np.concatenate(outs, axis=2)

    def _restore_hwc(self, image: np.ndarray) -> np.ndarray:
        """H x W x (1 or 3) in its own dtype -> same; replicates grey for RGB models."""
        h, w, c = image.shape
        replicate = c == 1 and self.input.channels == 3
        out_c = 1 if replicate else min(c, self.output.channels or c)
        fixed = not self.manifest.dynamic_hw
        use_tiles = fixed or h * w > self.max_pixels
        m = self.tile if use_tiles else self.manifest.pad_multiple
        ph = max(self.tile, h) if use_tiles else -(-h // m) * m
        pw = max(self.tile, w) if use_tiles else -(-w // m) * m
        src = _reflect_pad(image, ph, pw)
        lut = None if replicate else self.input_lut(image.dtype)
        infer = self.infer if lut is None else (lambda batch: self.infer_pixels(batch, lut))

        def prepare(crop: np.ndarray) -> np.ndarray:
            if lut is not None:  # integer pixels go to the model through the lookup table
                return crop
            f = to_float(crop)
            return np.repeat(f, 3, axis=2) if replicate else f

        def finish(rows: np.ndarray) -> np.ndarray:
            if replicate:
                rows = rows.mean(axis=2, keepdims=True)
            return _float_to(rows, image.dtype)

        if not use_tiles or (ph, pw) == (self.tile, self.tile):
            # one tile: its normalised blend weight is 1 everywhere, so skip the blending
            result = infer(prepare(src)[None])[0]
            return finish(result)[:h, :w]
        out = np.empty((ph, pw, out_c), dtype=image.dtype)
        run_tiled(src, self._batched(infer), out, self.tile, self.overlap, batch=self.batch,
                  prepare=prepare, finish=finish)
        return out[:h, :w] if (ph, pw) != (h, w) else out


def _dynamic_tile(manifest: Manifest, tile: int | None) -> tuple[int, int]:
    """Tile and overlap of a dynamic model without ``io.tile``: 512 (or ``tile``) and the
    receptive-field overlap recorded at export (kept below half the tile), else 32."""
    size = int(tile or _DEFAULT_DYNAMIC_TILE[0])
    overlap = manifest.field_overlap
    return size, (_DEFAULT_DYNAMIC_TILE[1] if overlap is None else min(overlap, (size - 1) // 2))


def _float_to(rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``io.from_float`` with the same float32 arithmetic, done in place on a buffer the runner
    owns (a backend output or a blended band), saving three allocations and passes per tile."""
    dtype = np.dtype(dtype)
    if rows.dtype != np.float32 or not rows.flags.writeable:
        rows = rows.astype(np.float32)
    np.clip(rows, 0.0, 1.0, out=rows)
    if dtype in (np.uint8, np.uint16):
        rows *= 255.0 if dtype == np.uint8 else 65535.0
        rows += 0.5
        return rows.astype(dtype)
    return from_float(rows, dtype)


def _as_rgb(x: np.ndarray) -> np.ndarray:
    return np.repeat(x[..., None], 3, axis=2) if x.ndim == 2 else x


def _reflect_pad(image: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Pad bottom/right to ph x pw by reflection (edge replication for 1-pixel dimensions)."""
    h, w = image.shape[:2]
    if (ph, pw) == (h, w):
        return image
    mode = "reflect" if min(h, w) > 1 else "edge"
    return np.pad(image, ((0, ph - h), (0, pw - w), (0, 0)), mode=mode)
