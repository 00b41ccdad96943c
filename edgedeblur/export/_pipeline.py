"""One export, end to end: model -> exporter -> manifest -> parity through the runtime -> verdict.

Each target is written into a private scratch folder inside the output folder, its manifest is
written (validated by the runtime's writer), the runtime runner runs it on held-out patches, and
only then are the files moved into place: under their final names when parity passes, under a
``.failed`` name (manifest ``parity.passed: false``) when it does not, so a failed artifact can
be inspected but is never mistaken for a good one.

A deblur pipeline prior (RGB + noise map in) gets ``io.conditioning`` and the top-level
``pipeline`` section (``PipelineConfig().to_dict()``) in its manifest, so
``edgedeblur.runtime.load_pipeline`` runs the whole pipeline from that one file.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..calibration import CalibrationSource, check_method
from ..errors import ConfigError, OutputPathError
from ._context import ExportJob, ExportResult
from ._model import ResolvedModel
from ._parity import Parity, measure_parity, runtime_runner, torch_restore
from .targets import Target


@dataclass
class ExportOutcome:
    """What one target produced (for the CLI summary and the benchmark table)."""

    target: Target
    artifact: Path
    manifest: Path
    bytes: int
    parity: Parity
    ops_by_precision: dict[str, int]
    float_ops: list[str]
    seconds: float
    notes: list[str] = field(default_factory=list)
    pipeline: dict | None = None  # the manifest's pipeline section (a deblur prior), else None
    #: the manifest's ``export.quantization.accuracy_control`` (layers kept float, per-layer sensitivity)
    accuracy_control: dict | None = None

    @property
    def passed(self) -> bool:
        return self.parity.passed


def artifact_name(model_name: str, target: Target) -> str:
    """``mnv2unet_s_denoise`` + ``tflite-int8`` -> ``mnv2unet_s_denoise.tflite-int8.tflite``."""
    return model_name + target.suffix


def _family(path: Path, target: Target) -> list[Path]:
    """The files one artifact consists of (model, its weights file when the target has one, manifest)."""
    from ..runtime import manifest_path_for

    files = [path, manifest_path_for(path)]
    if target.weights_suffix:
        files.append(path.with_suffix(target.weights_suffix))
    return files


def check_destination(path: Path, target: Target, force: bool) -> None:
    """Refuse to overwrite an existing artifact unless ``force``; with it, remove the old files."""
    existing = [p for p in _family(path, target) if p.exists()]
    if existing and not force:
        raise OutputPathError("output already exists", path=existing[0],
                              hint="pass --force to replace it, or choose another -o folder")
    for p in existing:
        p.unlink()


def build_manifest(res: ExportResult, target: Target, model: ResolvedModel, job: ExportJob,
                   extra_export: dict) -> dict:
    """The manifest (docs/manifest.md) for an exported file; parity is filled in afterwards."""
    from .. import __version__
    from ..runtime import sha256_file

    zoo = __import__("edgedeblur.models", fromlist=["get_card"])
    card = zoo.get_card(model.name)
    artifact = {"file": res.artifact.name, "sha256": sha256_file(res.artifact), "bytes": res.artifact.stat().st_size,
                "format": target.format, "precision": target.precision, "target": target.name,
                "backend": target.backend}
    if res.weights is not None:
        artifact.update(weights_file=res.weights.name, weights_sha256=sha256_file(res.weights))
    quant = None
    if res.quantization is not None:
        quant = dict(res.quantization)
        if target.needs_calibration:
            quant["calibration"] = {**job.calib.describe(), "algorithm": job.calib_method}
    field = receptive_field(model, job)  # the tile overlap comes from it (issue 23)
    tile = None if res.dynamic_hw else {"size": job.tile, "overlap": field["overlap"]}
    io = {"input": res.input, "output": res.output, "dynamic_hw": res.dynamic_hw,
          "pad_multiple": model.pad_multiple, "tile": tile, "receptive_field": field}
    if model.conditioned:  # RGB + a constant noise-level map in channel 3 (runtime.pipeline)
        from ..runtime.pipeline import NOISE_MAP_SCALE

        io["conditioning"] = {"noise_map": {"channel": 3, "scale": NOISE_MAP_SCALE}}
    manifest = {
        "schema_version": 1,
        "artifact": artifact,
        "model": {"name": model.name, "task": model.task, "checkpoint_sha256": model.checkpoint_sha256,
                  "weights": model.weights, "params": extra_export.get("params", card.params),
                  "macs_720p": extra_export.get("macs_720p", card.macs_720p),
                  # architecture overrides (a NAS genome): the artifact cannot be rebuilt without them
                  **({"kwargs": model.kwargs} if model.kwargs else {})},
        "io": io,
        "export": {"random_init": model.weights == "random-init", "pruning": extra_export.get("pruning"),
                   "quantization": quant, "tool_versions": {"edgedeblur": __version__, **res.tool_versions},
                   "notes": res.notes, **({"method": model.method} if model.method else {}),
                   **({"engine": res.engine} if res.engine else {})},
        "parity": None,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "edgedeblur_version": __version__,
    }
    if model.pipeline is not None:
        manifest["pipeline"] = dict(model.pipeline)
    return manifest


def receptive_field(model: ResolvedModel, job: ExportJob) -> dict:
    """``io.receptive_field`` of the deploy model (probed once per export, kept in the cache)."""
    from ._receptive import probe_receptive_field

    key, cache = f"receptive_field:{job.tile}", job._cache  # the cache all targets share
    if key not in cache:
        cache[key] = probe_receptive_field(job.model, model.in_channels, job.tile)
    return dict(cache[key])


def export_target(target: Target, model: ResolvedModel, out_dir: Path, calib: CalibrationSource, *,
                  tile: int, calib_method: str, max_drop_db: float | None, allow_float_ops: bool,
                  force: bool, cache: dict, extra_export: dict, options: dict | None = None) -> ExportOutcome:
    """Export ``model`` for one target into ``out_dir`` and verify it through the runtime."""
    from ..runtime import manifest_path_for, write_manifest

    started = time.perf_counter()
    if target.needs_calibration:
        check_method(calib_method, target.calib_methods, target.name)
    if calib.channels != model.in_channels:
        raise ConfigError(f"calibration patches have {calib.channels} channels but {model.name} takes "
                          f"{model.in_channels}", given=f"task {calib.task!r}",
                          allowed="task 'prior' for a 4-channel prior (RGB + noise map), else the model's task",
                          hint="build the CalibrationSource with the model's task (export_model does)")
    final = out_dir / artifact_name(model.name, target)
    check_destination(final, target, force)
    scratch = Path(tempfile.mkdtemp(prefix=".edge-export-", dir=out_dir))
    try:
        budget = target.max_drop_db if max_drop_db is None else max_drop_db
        job = ExportJob(model.module, scratch / final.name, tile, model.pad_multiple, calib, calib_method,
                        allow_float_ops, {"max_drop_db": budget, **(options or {})}, cache)
        res = target.exporter_fn()(job)
        manifest = build_manifest(res, target, model, job, extra_export)
        write_manifest(manifest_path_for(res.artifact), manifest)
        parity = measure_parity(runtime_runner(res.artifact), torch_restore(model.module), calib.heldout_patches,
                                budget)
        ops, float_ops = target.inspect_fn()(res.artifact)
        manifest["parity"] = {**parity.to_dict(), "ops_by_precision": ops, "float_ops": float_ops}
        dest = final if parity.passed else final.with_name(final.name.replace(target.suffix, ".failed" + target.suffix))
        if not parity.passed:
            check_destination(dest, target, True)
        moved = _move(res, dest)
        manifest["artifact"]["file"] = moved.name
        if res.weights is not None:
            manifest["artifact"]["weights_file"] = _weights_dest(res, moved).name
        write_manifest(manifest_path_for(moved), manifest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    size = sum(p.stat().st_size for p in (moved, _weights_dest(res, moved)) if p is not None and p.exists())
    control = (res.quantization or {}).get("accuracy_control")
    return ExportOutcome(target, moved, manifest_path_for(moved), size, parity, ops,
                         float_ops, time.perf_counter() - started, res.notes, model.pipeline, control)


def _weights_dest(res: ExportResult, artifact: Path) -> Path | None:
    """Where the weights file (OpenVINO .bin) goes beside ``artifact``: same stem, its own suffix."""
    return None if res.weights is None else artifact.with_suffix(res.weights.suffix)


def _move(res: ExportResult, dest: Path) -> Path:
    """Move the artifact (and its weights file) into place; each rename is atomic."""
    weights = _weights_dest(res, dest)
    if weights is not None:
        os.replace(res.weights, weights)
    os.replace(res.artifact, dest)
    return dest
