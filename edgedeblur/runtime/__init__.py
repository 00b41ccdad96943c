"""edgedeblur.runtime: run an exported artifact on a device with numpy and one backend.

No torch, no tensorflow, no ``edgedeblur.models``/``edgedeblur.export``: this package is what a
Raspberry Pi or a phone installs. Everything about a model comes from its manifest.
"""

from .backends import BackendInfo, FallbackWarning
from .manifest import (
    SCHEMA_PATH,
    Manifest,
    TensorSpec,
    manifest_path_for,
    sha256_file,
    validate_manifest,
    write_manifest,
)
from .pipeline import DeblurPipeline, PipelineConfig, load_method, load_pipeline
from .runner import Runner, load
from .tiling import blend_ramp, blend_window, tile_grid
from .video import VideoReport, open_source, restore_video

__all__ = [
    "load",
    "load_pipeline",
    "load_method",
    "DeblurPipeline",
    "PipelineConfig",
    "Runner",
    "BackendInfo",
    "FallbackWarning",
    "tile_grid",
    "blend_window",
    "blend_ramp",
    "restore_video",
    "open_source",
    "VideoReport",
    "SCHEMA_PATH",
    "Manifest",
    "TensorSpec",
    "manifest_path_for",
    "sha256_file",
    "validate_manifest",
    "write_manifest",
]
