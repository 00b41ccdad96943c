"""What every exporter receives and returns, so adding a toolchain is one function.

An exporter gets an :class:`ExportJob` (the deploy-form model, where to write, the tile, the
calibration source and options) and returns an :class:`ExportResult` describing the files it
wrote and the I/O contract it produced; the pipeline turns that into the manifest.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..calibration import CalibrationSource


@dataclass
class ExportJob:
    """Inputs of one exporter call."""

    model: Any  # torch.nn.Module in deploy form, eval mode
    out_path: Path  # the artifact to write (.onnx, .xml or .tflite)
    tile: int
    pad_multiple: int
    calib: CalibrationSource
    calib_method: str = "minmax"
    allow_float_ops: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def in_channels(self) -> int:
        """Channels the model takes (``edgedeblur.models._macs.input_channels``): 3, or 4 for a
        deblur prior (RGB + a noise-level map)."""
        from ..models._macs import input_channels

        return input_channels(self.model)

    @property
    def out_channels(self) -> int:
        """Channels the model returns: RGB for a prior, else as many as it takes."""
        return 3 if self.in_channels == 4 else self.in_channels

    def example_input(self, layout: str = "NCHW") -> Any:
        """A random 1 x C x tile x tile (or NHWC) torch tensor with the model's input channels."""
        import torch

        c, t = self.in_channels, self.tile
        return torch.rand(1, c, t, t) if layout == "NCHW" else torch.rand(1, t, t, c)

    @property
    def workdir(self) -> Path:
        """A scratch folder for intermediate files, shared by the targets of one run."""
        if "workdir" not in self._cache:
            self._cache["tmp"] = tempfile.TemporaryDirectory(prefix="edgedeblur-export-")
            self._cache["workdir"] = Path(self._cache["tmp"].name)
        return self._cache["workdir"]


def tensor_spec(name: str, shape: list[int], dtype: str = "float32", layout: str = "NCHW",
                scale: float | None = None, zero_point: int | None = None) -> dict:
    """One ``io.input``/``io.output`` entry of the manifest (docs/manifest.md)."""
    return {"name": name, "shape": [int(s) for s in shape], "dtype": dtype, "layout": layout,
            "range": [0.0, 1.0], "colour": "RGB",
            "scale": None if scale is None else float(scale),
            "zero_point": None if zero_point is None else int(zero_point)}


@dataclass
class ExportResult:
    """What an exporter produced."""

    artifact: Path
    input: dict
    output: dict
    dynamic_hw: bool
    weights: Path | None = None
    quantization: dict | None = None
    tool_versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: the engine-specific route (manifest ``export.engine``): name, converter, converter_version, layout
    engine: dict | None = None


def version_of(dist: str) -> str:
    """Installed version of a distribution, or 'unknown'."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"
