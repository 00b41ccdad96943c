"""Video files and cameras for ``edge-deblur``: the runtime's threaded pipeline, any method.

Decoding, inference and encoding run on separate threads in ``edgedeblur.runtime.video``;
this module only decides which inputs are videos or cameras and adapts a float method to the
uint8 RGB frames the pipeline passes around.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..errors import EdgeDeblurError
from ._common import BatchReport

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")


def is_camera(given: str) -> bool:
    """A bare integer that is not an existing file is a camera index (``0`` = first camera)."""
    return given.isdigit() and not Path(given).exists()


def split_video_inputs(inputs: list[str]) -> tuple[list[str], list[str]]:
    """Split command-line inputs into (videos and cameras, everything else)."""
    videos = [i for i in inputs if is_camera(i) or Path(i).suffix.lower() in VIDEO_EXTENSIONS]
    return videos, [i for i in inputs if i not in videos]


class _FrameMethod:
    """uint8 RGB frame -> uint8 RGB frame through a float method (what restore_video expects)."""

    def __init__(self, method, kernel: np.ndarray | None, sigma: float | None) -> None:  # noqa: ANN001
        self.method, self.kernel, self.sigma = method, kernel, sigma

    def restore(self, frame: np.ndarray) -> np.ndarray:
        from ..io import from_float, to_float

        out = self.method.restore(to_float(frame), kernel=self.kernel, sigma=self.sigma)
        return from_float(out, np.uint8)


def restore_videos(method, sources: list[str], out: Path, *, kernel, sigma, suffix: str,  # noqa: ANN001
                   max_frames: int | None, report: BatchReport, quiet: bool) -> None:
    """Restore each video file or camera into ``OUT/<name><suffix>.mp4``; failures go to ``report``."""
    from ..runtime.video import restore_video

    frames = _FrameMethod(method, kernel, sigma)
    for source in sources:
        name = f"camera{source}" if is_camera(source) else Path(source).stem
        target = out / f"{name}{suffix}.mp4"
        try:
            done = restore_video(frames, int(source) if is_camera(source) else source, target,
                                 max_frames=max_frames, show_progress=not quiet)
        except EdgeDeblurError as exc:
            report.fail(Path(source), exc)
            continue
        except Exception as exc:  # noqa: BLE001 - one broken stream must not stop the batch
            report.fail(Path(source), RuntimeError(f"internal error ({type(exc).__name__}: {exc})"))
            continue
        report.ok(target)
        if not quiet:
            print(f"{source}: {done.frames} frames at {done.fps:.1f} fps -> {target}", file=sys.stderr)
