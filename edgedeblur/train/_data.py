"""Training pairs made on the fly: clean patches from the training photos, degraded by
:func:`edgedeblur.degrade.degrade`.

Sources (names used in recipes): ``bsds500`` (BSD400 colour: train/bsds500_train + bsds500_test,
minus the validation images), ``train400_gray`` (DnCNN's Train400, grey replicated to RGB) and
``dead_leaves`` (synthetic, scale-invariant patches, from :mod:`edgedeblur.degrade`). The eval
sets are never read here.

Grey photos are degraded as grey: the degraded channel 0 is replicated, so their noise is the
same in R, G and B. That is what a model sees at test time on a grey image (BSD68, a mono
sensor), and a colour-only noise diet cost the first shipped denoiser 5 dB there.

Every sample is a pure function of ``(seed, step, index)``: the stream needs no saved random
state, so ``--resume`` sees exactly the batches an uninterrupted run would have seen. The clean
patch is cut with a margin, degraded, then both are cropped to the centre, so blur kernels see
real image content past the patch border instead of reflected padding.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..io import list_images, read_image, to_float
from ._prior_data import check_prior_config, given_sigma, prior_input

__all__ = ["data_root", "PairStream", "PairDataset", "SOURCES", "validation_pairs", "build_degradations"]

SOURCES = ("bsds500", "train400_gray", "dead_leaves")
_VAL_FOLDER = "train/bsds500_test"


def data_root(root: str | Path | None = None) -> Path:
    """The shared data folder: ``root``, else ``$EDGEDEBLUR_DATA``, else ``../shared/data``."""
    candidates = [Path(root)] if root else []
    if not root and os.environ.get("EDGEDEBLUR_DATA"):
        candidates.append(Path(os.environ["EDGEDEBLUR_DATA"]))
    if not root:
        candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
        candidates.append(Path.cwd().parent / "shared" / "data")
    for cand in candidates:
        if (cand / "train").is_dir():
            return cand
    raise ConfigError("training data folder not found", given=", ".join(str(c) for c in candidates),
                      allowed="a folder with train/bsds500_train, train/bsds500_test, train/train400_gray",
                      hint="set data.root=/path/to/shared/data or the EDGEDEBLUR_DATA variable")


def build_degradations(items: Sequence[Mapping[str, Any]]) -> tuple[list[Any], np.ndarray]:
    """Recipe ``data.degradations`` (mappings of Degradation fields + ``weight``) -> specs, probs."""
    from ..degrade import Degradation

    specs, weights = [], []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ConfigError(f"recipe key 'data.degradations[{i}]' must be a mapping", given=repr(item),
                              allowed="{blur: SPEC, noise: SPEC, jpeg, linear, clip, quantize, weight}")
        fields = dict(item)
        weight = fields.pop("weight", 1.0)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not weight > 0:
            raise ConfigError(f"recipe key 'data.degradations[{i}].weight' must be > 0", given=repr(weight))
        try:
            specs.append(Degradation.from_dict(fields))
        except ConfigError as exc:
            raise ConfigError(f"recipe key 'data.degradations[{i}]': {exc.what}", given=exc.given,
                              allowed=exc.allowed, hint=exc.hint) from exc
        weights.append(float(weight))
    if not specs:
        raise ConfigError("recipe key 'data.degradations' is empty", hint="add at least one, e.g. "
                          "{noise: 'gaussian:sigma=0-50', linear: false, clip: false, quantize: false}")
    probs = np.asarray(weights) / sum(weights)
    return specs, probs


def _split_files(root: Path, val_images: int) -> tuple[list[Path], list[Path]]:
    """BSD400 training files and the held-out validation files (the last N of bsds500_test)."""
    test = list_images([root / _VAL_FOLDER], recursive=False)
    val = test[len(test) - val_images:] if val_images else []
    train = list_images([root / "train/bsds500_train"], recursive=False) + test[: len(test) - val_images]
    return train, val


class _FolderPatches:
    """Random crops (random scale 0.5-1, one of the 8 flips/rotations) of a list of photos.

    Photos are decoded once and cached (:class:`edgedeblur.degrade.FolderSource`); downscaled
    crops are cleaner targets than the JPEG-compressed originals.
    """

    def __init__(self, files: Sequence[Path], name: str, grey: bool = False) -> None:
        from ..degrade import FolderSource

        self.grey = grey
        if not files:
            raise ConfigError(f"training source {name!r} has no images", hint="check data.root")
        self.source = FolderSource(list(files), recursive=False, cache=True)

    def patch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        from ..degrade import random_crop

        raw = self.source.read_raw(int(rng.integers(len(self.source))))
        crop = random_crop(raw, size, rng, scales=(0.5, 1.0))
        return _rgb(crop)


class _DeadLeaves:
    """Synthetic dead-leaves patches from :mod:`edgedeblur.degrade` (scale-invariant statistics)."""

    grey = False

    def patch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        from ..degrade import dead_leaves

        return _rgb(dead_leaves(size, rng))


def _rgb(img: np.ndarray) -> np.ndarray:
    img = to_float(np.asarray(img))
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


class PairStream:
    """Deterministic stream of (degraded, clean) batches, NCHW float32 numpy arrays."""

    def __init__(self, data: Mapping[str, Any], *, seed: int, margin: int | None = None) -> None:
        root = data_root(data.get("root"))
        self.crop = int(data["crop"])
        self.batch_size = int(data["batch"])
        self.seed = int(seed)
        self.specs, self.spec_probs = build_degradations(data["degradations"])
        self.margin = margin if margin is not None else _margin(self.specs)
        train_files, _ = _split_files(root, int(data["val_images"]))
        self.sources: list[Any] = []
        for name in data["sources"]:
            if name == "bsds500":
                self.sources.append(_FolderPatches(train_files, name))
            elif name == "train400_gray":
                self.sources.append(_FolderPatches(list_images([root / "train/train400_gray"]), name, grey=True))
            elif name == "dead_leaves":
                self.sources.append(_DeadLeaves())
            else:
                raise ConfigError("unknown training source in recipe key 'data.sources'", given=name,
                                  allowed=", ".join(SOURCES))
        w = np.asarray(data["source_weights"], dtype=np.float64)
        self.source_probs = w / w.sum()
        self.prior = _prior_config(data)

    def sample(self, step: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """One (degraded, clean) HxWx3 pair; a pure function of (seed, step, index)."""
        from ..degrade import degrade

        rng = np.random.default_rng([self.seed, step, index])
        src = self.sources[int(rng.choice(len(self.sources), p=self.source_probs))]
        big = src.patch(rng, self.crop + 2 * self.margin)
        spec = self.specs[int(rng.choice(len(self.specs), p=self.spec_probs))]
        result = degrade(big, spec, rng)
        degraded = result.degraded
        if src.grey:  # one noise field for all three channels, as a grey image has at test time
            degraded = np.repeat(degraded[..., :1], 3, axis=2)
        if self.prior:  # the deblur prior sees the data step's output and the noise level
            degraded = prior_input(degraded, result.kernel, given_sigma(result), rng, self.prior)
        m, c = self.margin, self.crop
        return degraded[m:m + c, m:m + c], big[m:m + c, m:m + c]

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """The batch for ``step``: (degraded, clean), each N x 3 x crop x crop float32."""
        pairs = [self.sample(step, i) for i in range(self.batch_size)]
        degraded = np.stack([p[0] for p in pairs]).transpose(0, 3, 1, 2)
        clean = np.stack([p[1] for p in pairs]).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(degraded, np.float32), np.ascontiguousarray(clean, np.float32)


class PairDataset:
    """A map-style torch Dataset whose item ``step`` is the whole batch of that step.

    Wrapping :class:`PairStream` this way lets a ``DataLoader`` with ``num_workers=1`` make the
    next batches in a second process while the model trains (``batch_size=None``, a sequential
    sampler from the resumed step); the batches are the same as with no worker.
    """

    def __init__(self, stream: PairStream, total_steps: int) -> None:
        self.stream, self.total = stream, int(total_steps)

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        return self.stream.batch(int(step))


def batches(stream: PairStream, start: int, total: int, workers: int):  # noqa: ANN201 - an iterator
    """Batches for steps ``start .. total-1``, made by a DataLoader with ``workers`` processes."""
    if workers <= 0:
        return (stream.batch(step) for step in range(start, total))
    from torch.utils.data import DataLoader

    loader = DataLoader(PairDataset(stream, total), batch_size=None, sampler=range(start, total),
                        num_workers=workers, prefetch_factor=2, persistent_workers=False)
    return ((d.numpy(), c.numpy()) for d, c in loader)


def _prior_config(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The checked ``data.prior`` section, or None when the recipe trains no pipeline prior."""
    cfg = data.get("prior") or {}
    return check_prior_config(cfg) if cfg.get("mode") else None


def _margin(specs: Sequence[Any]) -> int:
    """Half the largest kernel any spec may draw (0 for pure noise), capped at 32 px."""
    largest = 0
    for spec in specs:
        for part in spec.blur:
            size = part.get("size")
            if isinstance(size, tuple):
                size = size[1]
            largest = max(largest, int(size) if size else 31)
    return min(32, largest // 2 + 1) if largest else 0


def validation_pairs(data: Mapping[str, Any], *, seed: int = 12345, crop: int | None = None,
                     degradation: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fixed (degraded, clean) centre crops of the held-out validation images, NCHW (1 x 3 x h x w).

    ``crop`` overrides ``data.val_crop`` (0: whole images); ``degradation`` (a spec of
    :mod:`edgedeblur.degrade`) replaces the per-image draw from the recipe's degradations, e.g.
    ``paper_awgn(25)`` to score as the denoising benchmarks do.
    """
    from ..degrade import degrade

    root = data_root(data.get("root"))
    _, val_files = _split_files(root, int(data["val_images"]))
    specs, probs = build_degradations(data["degradations"])
    prior = _prior_config(data)
    size = int(data["val_crop"] if crop is None else crop)
    pairs = []
    for i, path in enumerate(val_files):
        img = _rgb(read_image(path))
        h, w = img.shape[:2]
        sh, sw = (min(size, h), min(size, w)) if size else (h, w)
        y, x = (h - sh) // 2, (w - sw) // 2
        clean = np.ascontiguousarray(img[y:y + sh, x:x + sw])
        rng = np.random.default_rng([seed, i])
        spec = degradation if degradation is not None else specs[int(rng.choice(len(specs), p=probs))]
        result = degrade(clean, spec, rng)
        degraded = result.degraded
        if prior:
            degraded = prior_input(degraded, result.kernel, given_sigma(result), rng, prior)
        pairs.append((degraded.transpose(2, 0, 1)[None].astype(np.float32),
                      clean.transpose(2, 0, 1)[None].astype(np.float32)))
    return pairs
