"""restore_video: a real encoded video through a real ONNX artifact; missing cameras; bad paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_runtime_artifacts import build_onnx

from edgedeblur.errors import ImageReadError, InvalidInputError, OutputPathError
from edgedeblur.runtime import load
from edgedeblur.runtime.video import open_source, restore_video

cv2 = pytest.importorskip("cv2")


def _write_video(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48)) -> Path:
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(frames):
        frame = np.stack([(xx * 4 + i * 10) % 256, (yy * 5) % 256, np.full_like(xx, 128)], axis=2)
        writer.write(frame.astype(np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    return load(build_onnx(tmp_path_factory.mktemp("v"), "vid"), threads=1)


def test_video_round_trip(runner, tmp_path: Path) -> None:  # noqa: ANN001
    src = _write_video(tmp_path / "in.avi")
    out = tmp_path / "out.avi"
    report = restore_video(runner, src, out, fourcc="MJPG", show_progress=False)
    assert report.frames == 12 and out.is_file() and report.fps > 0
    cap = cv2.VideoCapture(str(out))
    n, first = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        first = frame if first is None else first
        n += 1
    assert n == 12 and first.shape == (48, 64, 3)
    ok, original = cv2.VideoCapture(str(src)).read()
    expected = runner.restore(original[..., ::-1])[..., ::-1]
    assert np.abs(first.astype(int) - expected).mean() < 4  # MJPG re-encoding error only
    assert not list(tmp_path.glob(".out*"))  # temp file renamed away


def test_max_frames_and_no_overwrite(runner, tmp_path: Path) -> None:  # noqa: ANN001
    src = _write_video(tmp_path / "in.avi")
    assert restore_video(runner, src, tmp_path / "o.avi", fourcc="MJPG", max_frames=3,
                         show_progress=False).frames == 3
    with pytest.raises(OutputPathError, match="same as an input"):
        restore_video(runner, src, src, show_progress=False)


def test_missing_camera_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="camera 97 is not there"):
        open_source(97)
    with pytest.raises(InvalidInputError, match="camera"):
        open_source("97")
    with pytest.raises(ImageReadError, match="does not exist"):
        open_source(tmp_path / "nope.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(ImageReadError):
        open_source(bad)
