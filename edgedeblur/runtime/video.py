"""Restore a video file or a camera stream: decode, inference and encode on separate threads.

Why threads and queues: decoding and encoding (OpenCV, which releases the GIL) then overlap
with inference (the backend, which also releases it), so the pipeline runs at the speed of
the slowest stage instead of the sum of all three. Bounded queues keep memory flat.
The output is written to a temporary file beside the target and renamed at the end, so a
crash or Ctrl-C never leaves a half-written video under the final name.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._progress import progress_bar
from ..errors import ImageReadError, InvalidInputError, OutputPathError, require
from ..io import atomic_write, check_output_path

__all__ = ["VideoReport", "restore_video", "open_source"]

_DONE = object()


@dataclass
class VideoReport:
    """What ``restore_video`` did: frames written, wall time, throughput, the output file."""

    frames: int
    seconds: float
    fps: float
    output: Path
    source_fps: float


def open_source(source: str | int | Path):  # noqa: ANN201 - a cv2.VideoCapture
    """Open a video file, or a camera by index (``0`` or ``"0"``); a clear error when absent."""
    cv2 = require("cv2", "opencv", "reading video and cameras")
    is_camera = isinstance(source, int) or (isinstance(source, str) and source.isdigit())
    if is_camera:
        index = int(source)
        cap = cv2.VideoCapture(index)
        if not cap.isOpened():
            cap.release()
            raise InvalidInputError(
                f"camera {index} is not there (or is busy)", given=index,
                allowed="an index of a connected camera (0 is the first), or a video file path",
                hint="list cameras with `ls /dev/video*` (Linux) and check no other program uses it",
            )
        return cap
    path = Path(source)
    if not path.is_file():
        raise ImageReadError("video file does not exist", path=path, hint="check the path")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise ImageReadError("OpenCV cannot decode this video", path=path,
                             allowed="formats your OpenCV/FFmpeg build reads (mp4, avi, mkv, ...)")
    return cap


def restore_video(
    runner,  # noqa: ANN001 - anything with restore(uint8 HxWx3) -> same
    source: str | int | Path,
    out_path: str | Path,
    *,
    fourcc: str = "mp4v",
    fps: float | None = None,
    max_frames: int | None = None,
    queue_size: int = 4,
    show_progress: bool = True,
) -> VideoReport:
    """Restore every frame of ``source`` with ``runner`` and write ``out_path``.

    ``max_frames`` bounds a camera stream (which never ends on its own; Ctrl-C also stops it
    and keeps the frames so far). Frames are RGB uint8 for the runner.
    """
    cv2 = require("cv2", "opencv", "writing video")
    inputs = [] if isinstance(source, int) or str(source).isdigit() else [source]
    out_path = check_output_path(out_path, inputs)
    if max_frames is not None and max_frames < 1:
        raise InvalidInputError("max_frames must be at least 1", given=max_frames)
    cap = open_source(source)
    src_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
    if max_frames:
        total = min(total or max_frames, max_frames)
    done: list[tuple[int, float]] = []

    def write(tmp: Path) -> None:
        done.append(_stream(runner, cap, str(tmp), fps or src_fps or 30.0, fourcc, total, max_frames,
                            queue_size, show_progress, source, out_path))

    atomic_write(out_path, write, suffix=out_path.suffix)
    frames, seconds = done[0]
    return VideoReport(frames, seconds, frames / max(seconds, 1e-9), out_path, src_fps)


def _stream(runner, cap, tmp: str, fps: float, fourcc: str, total: int | None,  # noqa: ANN001
            max_frames: int | None, queue_size: int, show_progress: bool, source: str | int | Path,
            out_path: Path) -> tuple[int, float]:
    """Decode, restore and encode into ``tmp`` on three threads: ``(frames written, seconds)``;
    raises the first error, or when no frame could be read."""
    cv2 = require("cv2", "opencv", "writing video")
    decoded: queue.Queue = queue.Queue(queue_size)
    restored: queue.Queue = queue.Queue(queue_size)
    errors: list[BaseException] = []
    stop = threading.Event()
    written = [0]

    def decode() -> None:
        try:
            n = 0
            while not stop.is_set() and (max_frames is None or n < max_frames):
                ok, frame = cap.read()
                if not ok:
                    break
                if not _put(decoded, np.ascontiguousarray(frame[..., ::-1]), reading):
                    break
                n += 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            _put(decoded, _DONE, reading)

    def encode() -> None:
        writer = None
        try:
            while (item := restored.get()) is not _DONE:
                if writer is None:
                    h, w = item.shape[:2]
                    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
                    if not writer.isOpened():
                        raise OutputPathError("OpenCV cannot write this video format", path=out_path,
                                              given=fourcc, hint="use a .mp4 path with fourcc mp4v, or .avi with MJPG")
                writer.write(np.ascontiguousarray(item[..., ::-1]))
                written[0] += 1
        except BaseException as exc:
            errors.append(exc)
            stop.set()
        finally:
            if writer is not None:
                writer.release()

    def reading() -> bool:
        return not stop.is_set()

    threads = [threading.Thread(target=decode, daemon=True), threading.Thread(target=encode, daemon=True)]

    def writing() -> bool:
        return threads[1].is_alive()

    for t in threads:
        t.start()
    bar = _bar(total, show_progress)
    started = time.perf_counter()
    try:
        while (frame := decoded.get()) is not _DONE:
            if errors:
                break
            if not _put(restored, runner.restore(frame), writing):
                break
            if bar is not None:
                bar.update(1)
                bar.set_postfix(fps=f"{bar.n / (time.perf_counter() - started):.1f}")
    except KeyboardInterrupt:
        print("interrupted: keeping the frames restored so far", file=sys.stderr)
    except Exception as exc:  # re-raised after the threads have stopped and the temp file is gone
        errors.insert(0, exc)
    finally:
        stop.set()  # the decoder stops reading; the encoder drains what is queued
        _put(restored, _DONE, writing)
        for t in threads:
            t.join(timeout=30)
        cap.release()
        if bar is not None:
            bar.close()
    if errors:
        raise errors[0]
    seconds = time.perf_counter() - started
    if written[0] == 0:
        raise ImageReadError("no frame could be read from the source", path=str(source))
    return written[0], seconds


def _put(q: queue.Queue, item: object, alive) -> bool:  # noqa: ANN001
    """Put, waiting while the consumer is ``alive()``; False when it is gone."""
    while True:
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            if not alive():
                return False


def _bar(total: int | None, show: bool):  # noqa: ANN202
    return progress_bar(total, desc="frames", unit="frame", show=show)
