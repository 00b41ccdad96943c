"""The library entry point behind ``edge-export``: resolve, optionally prune, export each target."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..calibration import CalibrationSource
from ..errors import EdgeDeblurError, InvalidInputError, OutputPathError
from ._model import resolve_model
from ._pipeline import ExportOutcome, export_target
from .targets import Target, resolve_targets


def export_model(
    model: str,
    targets: Sequence[str | Target] | str | Target,
    out_dir: str | Path = "exported",
    *,
    arch: str | None = None,
    random_init: bool = False,
    tile: int = 256,
    calib_dir: str | Path | None = None,
    calib_images: int = 64,
    heldout: int = 8,
    calib_method: str = "minmax",
    prune: float | None = None,
    finetune_steps: int = 200,
    max_drop_db: float | None = None,
    allow_float_ops: bool = False,
    force: bool = False,
    seed: int = 0,
    options: dict | None = None,
    model_kwargs: dict | None = None,
    on_done: Callable[[ExportOutcome | EdgeDeblurError, str], None] | None = None,
) -> list[ExportOutcome | EdgeDeblurError]:
    """Export ``model`` to each of ``targets``; one failing target does not stop the others.

    ``targets`` are names, ``'all'`` or rows of :data:`~edgedeblur.export.targets.TARGETS`.
    Returns one entry per target: an :class:`ExportOutcome` (check ``.passed``) or the error
    that stopped that target. ``on_done(result, target_name)`` is called after each target.
    ``model_kwargs`` override the registered architecture (``create_model(model, **model_kwargs)``),
    e.g. ``{"genome": g}`` for ``nasunet_deblur``; the manifest's params/MACs are then those of
    the net actually built. ``model`` may also be ``"deblur"`` (the deblur pipeline's prior,
    ``DEFAULT_DEBLUR_PRIOR``, with the ``pipeline`` section in every manifest) or ``"denoise"``
    (``DEFAULT_DENOISER``).
    """
    rows = resolve_targets(targets)
    if tile % 8 or tile < 16:
        raise InvalidInputError("tile must be a multiple of 8 and >= 16", given=tile, hint="use --tile 256")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputPathError("output folder is a file", path=out, hint="pass -o with a folder")
    resolved = resolve_model(model, arch, random_init, seed, model_kwargs)
    if tile % resolved.pad_multiple:
        raise InvalidInputError(f"tile must be a multiple of the model's pad_multiple {resolved.pad_multiple}",
                                given=tile, hint=f"use --tile {resolved.pad_multiple * max(1, tile // resolved.pad_multiple)}")
    # a deblur prior is calibrated and checked on what its pipeline feeds it (data step + noise map)
    prior_scale = (resolved.pipeline or {}).get("prior_scale")
    calib = CalibrationSource(calib_dir, images=calib_images, heldout=heldout, patch=tile,
                              task="prior" if resolved.conditioned else resolved.task, recipe=resolved.name,
                              seed=seed, prior_scale=prior_scale)
    calib.calib  # noqa: B018 - load now so missing/too few images fail before any export work
    extra: dict = dict(resolved.cost or {})
    if prune:
        from ._prune import prune_and_finetune

        extra = prune_and_finetune(resolved, prune, calib, steps=finetune_steps, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    cache: dict = {}
    results: list[ExportOutcome | EdgeDeblurError] = []
    for t in rows:
        try:
            r: ExportOutcome | EdgeDeblurError = export_target(
                t, resolved, out, calib, tile=tile, calib_method=calib_method, max_drop_db=max_drop_db,
                allow_float_ops=allow_float_ops, force=force, cache=cache, extra_export=extra, options=options)
        except EdgeDeblurError as exc:
            r = exc
        results.append(r)
        if on_done is not None:
            on_done(r, t.name)
    tmp = cache.get("tmp")
    if tmp is not None:
        tmp.cleanup()
    return results
