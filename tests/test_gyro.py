"""Gyro PSFs (edgedeblur.runtime.gyro): analytic trajectories, rolling shutter, file formats and
their refusals, the per-tile Wiener step and the time-offset search. Synthetic data only, fast."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgedeblur.errors import ConfigError, InvalidInputError
from edgedeblur.runtime.deconv import wiener_deconvolve
from edgedeblur.runtime.gyro import (
    ANDROID_BACK_CAMERA,
    CameraModel,
    GyroLog,
    PSFGrid,
    deconvolve_grid,
    estimate_time_offset,
    gyro_psf,
    gyro_psf_grid,
    integrate_rotations,
    psf_trajectory,
    read_camera_json,
    read_gyro_csv,
    rotation_at,
    write_camera_json,
    write_gyro_csv,
)

IDENTITY = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def camera(**kw: object) -> CameraModel:
    base = dict(fx=500.0, fy=500.0, cx=200.0, cy=150.0, width=401, height=301, exposure_start=0.5,
                exposure_time=0.1, gyro_to_camera=IDENTITY)
    base.update(kw)
    return CameraModel(**base)  # type: ignore[arg-type]


def constant_log(omega: tuple[float, float, float], rate: float = 200.0, span: float = 1.0) -> GyroLog:
    t = np.arange(0.0, span, 1.0 / rate)
    return GyroLog(t, np.tile(np.asarray(omega, dtype=np.float64), (t.size, 1)))


def path_length(dx: np.ndarray, dy: np.ndarray) -> float:
    """Trajectory length, corrected for the half steps at both ends of mid-point sampling."""
    return float(np.hypot(np.diff(dx), np.diff(dy)).sum()) * dx.size / (dx.size - 1)


# --- the model ---------------------------------------------------------------------------------
def test_constant_rotation_integrates_to_rodrigues() -> None:
    omega = np.array([0.3, -0.2, 0.5])
    log = constant_log(tuple(omega))
    rot = rotation_at(log, np.array([0.4]))[0]
    angle = np.linalg.norm(omega) * 0.4
    a = omega / np.linalg.norm(omega)
    cross = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    expected = np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross
    np.testing.assert_allclose(rot, expected, atol=1e-9)
    times, rel = integrate_rotations(log, 0.2, 0.3, steps=5)
    np.testing.assert_allclose(times, 0.2 + (np.arange(5) + 0.5) * 0.02)
    np.testing.assert_allclose(rel[2], np.eye(3), atol=1e-12)  # the middle is the reference
    _, rel_start = integrate_rotations(log, 0.2, 0.3, steps=4, reference="start")
    assert np.linalg.norm(rel_start[0] - np.eye(3)) < np.linalg.norm(rel_start[-1] - np.eye(3))


def test_pure_roll_is_an_arc_of_length_r_angle_and_zero_at_the_centre() -> None:
    cam = camera()
    log = constant_log((0.0, 0.0, 0.2))  # about the optical axis: 0.02 rad in 0.1 s
    dx, dy = psf_trajectory(cam, log, (cam.cx, cam.cy))
    assert np.abs(dx).max() < 1e-9 and np.abs(dy).max() < 1e-9
    k = gyro_psf(cam, log, (cam.cx, cam.cy))
    assert k.shape == (3, 3) and k[1, 1] == pytest.approx(1.0)
    for point, r in [((cam.cx + 100, cam.cy), 100.0), ((cam.cx, cam.cy - 80), 80.0),
                     ((cam.cx + 60, cam.cy + 80), 100.0)]:
        dx, dy = psf_trajectory(cam, log, point)
        assert path_length(dx, dy) == pytest.approx(r * 0.02, rel=0.01)
        radius = np.hypot(point[0] + dx - cam.cx, point[1] + dy - cam.cy)
        assert np.ptp(radius) < 0.01  # stays on the circle: an arc, tangential
    k = gyro_psf(cam, log, (cam.cx + 100, cam.cy))
    assert np.argmax(k.sum(axis=1)) == k.shape[0] // 2 and k.sum() == pytest.approx(1.0)
    rows = np.flatnonzero(k.sum(axis=1) > 1e-6)
    assert 2 <= rows.size <= 4 and np.count_nonzero(k.sum(axis=0) > 1e-6) <= 2  # vertical at 3 o'clock


def test_pure_pan_is_a_horizontal_line_of_length_f_angle() -> None:
    cam = camera(fx=400.0, fy=400.0)
    log = constant_log((0.0, 0.3, 0.0))  # about the camera's y axis: 0.03 rad
    dx, dy = psf_trajectory(cam, log, (cam.cx, cam.cy))
    assert np.abs(dy).max() < 1e-9
    assert path_length(dx, dy) == pytest.approx(400 * math.tan(0.015) * 2, rel=0.01)
    assert dx[0] > 0 > dx[-1]  # the camera turns right (+y is down), the scene moves left
    k = gyro_psf(cam, log, (cam.cx, cam.cy))
    c = k.shape[0] // 2
    assert k[c].sum() == pytest.approx(1.0, abs=1e-6)  # all in the middle row
    cols = np.flatnonzero(k[c] > 1e-6)
    assert cols.size - 1 == pytest.approx(400 * 0.03, abs=1.5)
    assert abs(float((k[c] * (np.arange(k.shape[1]) - c)).sum())) < 0.05  # centred


def test_android_back_camera_mapping() -> None:
    """Turning the phone about its own y axis (up) pans: horizontal blur in the upright image;
    about its x axis (right) tilts: vertical blur."""
    cam = camera(gyro_to_camera=ANDROID_BACK_CAMERA)
    dx, dy = psf_trajectory(cam, constant_log((0.0, 0.2, 0.0)), (cam.cx, cam.cy))
    assert np.ptp(dx) > 9 and np.ptp(dy) < 1e-6
    dx, dy = psf_trajectory(cam, constant_log((0.2, 0.0, 0.0)), (cam.cx, cam.cy))
    assert np.ptp(dy) > 9 and np.ptp(dx) < 1e-6


def test_rolling_shutter_rows_get_different_psfs() -> None:
    t = np.arange(0.0, 1.0, 0.0025)
    omega = np.zeros((t.size, 3))
    omega[t >= 0.53, 1] = 0.5  # the pan starts during the readout
    log = GyroLog(t, omega)
    cam = camera(exposure_time=0.02, readout_time=0.05)
    top, bottom = (gyro_psf(cam, log, (cam.cx, y)) for y in (0.0, cam.height - 1.0))
    assert top.shape == (3, 3) and top[1, 1] > 0.99  # exposed 0.50-0.52 s: still
    assert np.count_nonzero(bottom.sum(axis=0) > 1e-3) >= 4  # 0.55-0.57 s: 5 px line
    grid = gyro_psf_grid(cam, log, (4, 1))
    widths = [np.count_nonzero(k.sum(axis=0) > 1e-3) for k in grid.kernels[:, 0]]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    still = gyro_psf(replace(cam, readout_time=0.0), log, (cam.cx, cam.cy - 150))
    assert still.max() > 0.99  # global shutter: every row like the top one
    last = cam.height - 1.0
    assert cam.row_start(cam.cx, last) == pytest.approx(0.05 * last / cam.height)  # Android's skew
    moved = gyro_psf(cam, log, (cam.cx, 0.0), row_time_offset=0.04)
    later = replace(cam, exposure_start=cam.exposure_start + 0.04, readout_time=0.0)
    np.testing.assert_allclose(moved, gyro_psf(later, log, (cam.cx, 0.0)), atol=1e-6)


def test_psf_grid_shapes_and_uniform() -> None:
    cam = camera()
    grid = gyro_psf_grid(cam, constant_log((0.05, 0.1, 0.3)), (3, 4))
    assert grid.kernels.shape[:2] == (3, 4) and grid.kernels.shape[2] % 2 == 1
    np.testing.assert_allclose(grid.kernels.sum(axis=(2, 3)), 1.0, atol=1e-5)
    np.testing.assert_allclose(grid.ys, [49.5, 149.5, 250.0], atol=0.6)
    assert gyro_psf_grid(cam, constant_log((0, 0.1, 0))).shape == (5, 6)  # ~64 px tiles
    with pytest.raises(InvalidInputError, match="grid"):
        gyro_psf_grid(cam, constant_log((0, 0.1, 0)), (100, 2))


def test_log_must_cover_the_exposure(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    write_gyro_csv(constant_log((0, 0.1, 0), span=0.55), path)
    log = read_gyro_csv(path)
    with pytest.raises(InvalidInputError, match="does not cover the exposure") as err:
        gyro_psf(camera(), log, (10.0, 10.0))
    assert str(path) in str(err.value)


# --- file formats --------------------------------------------------------------------------------
def test_gyro_csv_round_trip_seconds_and_nanoseconds(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    t = 12345.0 + np.cumsum(rng.uniform(0.004, 0.006, 50))
    log = GyroLog(t, rng.normal(0, 0.3, (50, 3)))
    back = read_gyro_csv(write_gyro_csv(log, tmp_path / "s.csv"))
    np.testing.assert_array_equal(back.t, log.t)
    np.testing.assert_array_equal(back.omega, log.omega)
    back = read_gyro_csv(write_gyro_csv(log, tmp_path / "ns.csv", unit="ns"))
    assert (tmp_path / "ns.csv").read_text().startswith("t_ns,wx,wy,wz\n")
    np.testing.assert_allclose(back.t, log.t, atol=2e-9, rtol=0)
    (tmp_path / "plain.csv").write_text("# comment\n0.0,0,0,0\n0.01,0,0,0\n\n0.02,0,0,1\n0.03,0,0,0\n")
    assert len(read_gyro_csv(tmp_path / "plain.csv")) == 4
    assert read_gyro_csv(tmp_path / "plain.csv").rate == pytest.approx(100.0)


def test_camera_json_round_trip(tmp_path: Path) -> None:
    cam = camera(readout_time=0.02, time_offset=-0.003, frame_interval=1 / 30,
                 readout_direction="right-to-left", gyro_to_camera=ANDROID_BACK_CAMERA)
    path = write_camera_json(cam, tmp_path / "cam.json")
    data = json.loads(path.read_text())
    assert data["format"] == "edgedeblur-camera/1" and data["gyro_to_camera"][1] == [0.0, -1.0, 0.0]
    back = read_camera_json(path)
    assert back.to_dict() == cam.to_dict() and back.path == str(path)
    minimal = {k: data[k] for k in ("fx", "fy", "cx", "cy", "width", "height", "exposure_start", "exposure_time")}
    (tmp_path / "min.json").write_text(json.dumps(minimal))
    small = read_camera_json(tmp_path / "min.json")
    assert small.readout_time == 0.0 and small.gyro_to_camera == ANDROID_BACK_CAMERA


GOOD = "t,wx,wy,wz\n" + "".join(f"{i * 0.01:.2f},0.1,0.2,0.3\n" for i in range(10))
BAD_CSV = {
    "unsorted": ("t,wx,wy,wz\n0.00,0,0,0\n0.02,0,0,0\n0.01,0,0,0\n0.03,0,0,0\n0.04,0,0,0\n", "backwards at line 4"),
    "duplicate": ("t,wx,wy,wz\n0.00,0,0,0\n0.01,0,0,0\n0.01,0,0,0\n0.02,0,0,0\n0.03,0,0,0\n", "repeated .* line 4"),
    "gap": (GOOD.replace("0.05,", "0.25,").replace("0.06,", "0.26,").replace("0.07,", "0.27,")
            .replace("0.08,", "0.28,").replace("0.09,", "0.29,"), "gap .* before line 7"),
    "few": ("t,wx,wy,wz\n0.0,0,0,0\n0.01,0,0,0\n0.02,0,0,0\n", "too few samples"),
    "columns": ("t,wx,wy,wz\n0.0,0,0,0\n0.01,0,0\n0.02,0,0,0\n0.03,0,0,0\n", "columns at line 3"),
    "text": ("t,wx,wy,wz\n0.0,0,0,0\n0.01,0,zero,0\n0.02,0,0,0\n0.03,0,0,0\n", "non-numeric value at line 3"),
    "nan": ("0.0,0,0,0\n0.01,0,nan,0\n0.02,0,0,0\n0.03,0,0,0\n", "non-finite value at line 2"),
    "header": ("time,gx,gy,gz\n0.0,0,0,0\n", "non-numeric value at line 1"),
    "header2": ("t,wx,wz,wy\n0.0,0,0,0\n", "unexpected gyro CSV header"),
    "ns_unlabelled": ("".join(f"{1000000000 + i * 5000000},0,0,0\n" for i in range(8)), "nanoseconds"),
    "empty": ("# nothing\n", "no samples"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_gyro_csv_is_refused_naming_the_file(tmp_path: Path, case: str) -> None:
    text, message = BAD_CSV[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=message) as err:
        read_gyro_csv(path)
    assert str(err.value).startswith(str(path))


def test_missing_gyro_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_gyro_csv(tmp_path / "nope.csv")


CAM = {"fx": 500, "fy": 500, "cx": 200, "cy": 150, "width": 401, "height": 301, "exposure_start": 1.0,
       "exposure_time": 0.03, "readout_time": 0.02}
BAD_CAMERA = {
    "missing": ({k: v for k, v in CAM.items() if k != "fy"}, "'fy': missing"),
    "focal": (dict(CAM, fx=0), "'fx': must be positive"),
    "focal_text": (dict(CAM, fx="500"), "'fx': not a finite number"),
    "size": (dict(CAM, width=0), "'width'"),
    "centre": (dict(CAM, cx=900), "principal point outside"),
    "readout": (dict(CAM, readout_time=0.05, frame_interval=1 / 30), "'readout_time': longer than the frame"),
    "negative_readout": (dict(CAM, readout_time=-0.01), "'readout_time': must not be negative"),
    "exposure_ms": (dict(CAM, exposure_time=30), "'exposure_time': longer than 10 s"),
    "not_rotation": (dict(CAM, gyro_to_camera=[[1, 0, 0], [0, 2, 0], [0, 0, 1]]), "not a rotation"),
    "mirror": (dict(CAM, gyro_to_camera=[[1, 0, 0], [0, 1, 0], [0, 0, -1]]), "not a rotation"),
    "shape": (dict(CAM, gyro_to_camera=[[1, 0], [0, 1]]), "not a 3x3 matrix"),
    "direction": (dict(CAM, readout_direction="sideways"), "'readout_direction'"),
    "unknown": (dict(CAM, focal=3), "'focal': unknown field"),
    "format": (dict(CAM, format="other/2"), "'format'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CAMERA))
def test_bad_camera_json_is_refused_naming_file_and_field(tmp_path: Path, case: str) -> None:
    data, message = BAD_CAMERA[case]
    path = tmp_path / f"{case}.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message) as err:
        read_camera_json(path)
    assert str(err.value).startswith(str(path))


def test_camera_json_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"fx": 500,')
    with pytest.raises(ConfigError, match="not valid JSON") as err:
        read_camera_json(path)
    assert str(path) in str(err.value)
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        read_camera_json(path)


# --- the data step -------------------------------------------------------------------------------
def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A natural-ish test image: 1/f noise plus a few hard-edged rectangles, in [0, 1]."""
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    spec = (rng.normal(size=(h, w // 2 + 1)) + 1j * rng.normal(size=(h, w // 2 + 1))) / (np.hypot(fy, fx) + 0.01)
    img = np.fft.irfft2(spec, s=(h, w))
    img = (img - img.min()) / np.ptp(img) * 0.6 + 0.2
    for _ in range(6):
        y, x = rng.integers(0, h - 30), rng.integers(0, w - 30)
        img[y:y + rng.integers(10, 30), x:x + rng.integers(10, 30)] = rng.uniform(0.05, 0.95)
    return img.astype(np.float32)


def blur(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    from edgedeblur.degrade import blur_image

    return blur_image(img, kernel).astype(np.float32)


def test_deconvolve_grid_with_a_uniform_psf_equals_wiener() -> None:
    kernel = np.zeros((9, 9), np.float32)
    kernel[4, :] = 1 / 9
    kernel[3, 6:] = 0.02
    kernel /= kernel.sum()
    img = blur(textured(160, 200), kernel) + np.random.default_rng(1).normal(0, 2 / 255, (160, 200)).astype(np.float32)
    ref = wiener_deconvolve(img, kernel, sigma=2.0)
    out = deconvolve_grid(img, PSFGrid.uniform(kernel, 160, 200, (3, 4)), sigma=2.0)
    assert out.dtype == np.float32 and out.shape == img.shape
    # the tiles see 3 kernel sizes of real context: away from the borders (4 kernel sizes) the
    # difference is small and noise-like (the Wiener inverse filter's tails)
    inner = np.abs(out - ref)[36:-36, 36:-36] * 255
    assert inner.mean() < 0.6 and inner.max() < 8.0
    assert 10 * np.log10(255**2 / np.mean(inner**2)) > 45
    one = deconvolve_grid(img, PSFGrid.uniform(kernel, 160, 200), sigma=2.0)
    np.testing.assert_array_equal(one, ref)
    colour = np.stack([img, img * 0.5, img], axis=-1)
    out3 = deconvolve_grid(colour, PSFGrid.uniform(kernel, 160, 200, (2, 2)), sigma=2.0)
    assert out3.shape == colour.shape and out3.dtype == np.float32
    with pytest.raises(InvalidInputError, match="another image size"):
        deconvolve_grid(img[:100], PSFGrid.uniform(kernel, 160, 200, (2, 2)), sigma=2.0)


def test_deconvolve_grid_follows_a_varying_psf() -> None:
    """Left half blurred horizontally, right half vertically: the grid beats either one PSF."""
    from edgedeblur.metrics import psnr

    clean = textured(128, 192, seed=3)
    h_line = np.zeros((9, 9), np.float32)
    h_line[4] = 1 / 9
    v_line = h_line.T.copy()
    img = np.concatenate([blur(clean, h_line)[:, :96], blur(clean, v_line)[:, 96:]], axis=1)
    grid = PSFGrid.uniform(h_line, 128, 192, (1, 2))
    grid.kernels[0, 1] = v_line
    both = psnr(clean, np.clip(deconvolve_grid(img, grid, sigma=1.0), 0, 1))
    for single in (h_line, v_line):
        assert both > psnr(clean, np.clip(wiener_deconvolve(img, single, sigma=1.0), 0, 1)) + 2


def test_estimate_time_offset_finds_the_offset() -> None:
    t = np.arange(0.0, 1.0, 0.005)
    omega = np.stack([0.3 * np.sin(2 * np.pi * 3 * t), 0.4 * np.cos(2 * np.pi * 2.3 * t + 1), 0.05 + 0 * t], axis=1)
    log = GyroLog(t, omega)
    cam = camera(fx=300.0, fy=300.0, cx=95.5, cy=95.5, width=192, height=192, exposure_time=0.06)
    true = replace(cam, time_offset=0.006)
    clean = textured(192, 192, seed=5)
    img = blur(clean, gyro_psf(true, log, (cam.cx, cam.cy)))
    img = img + np.random.default_rng(2).normal(0, 1 / 255, img.shape).astype(np.float32)
    est = estimate_time_offset(img, cam, log, np.arange(-0.01, 0.0101, 0.002), sigma=1.0)
    assert abs(est.offset - 0.006) <= 0.002
    assert est.scores.shape == est.candidates.shape and 0 < est.confidence <= 1
    assert est.candidates[np.nanargmin(est.scores)] == pytest.approx(0.006, abs=0.0021)


def test_long_log_and_camera_for_a_resized_photo() -> None:
    log = constant_log((0.0, 0.2, 0.0), rate=400.0, span=600.0)  # ten minutes of samples
    cam = camera(exposure_start=300.0, readout_time=0.02)
    sub = log.window(300.0, 300.2)
    assert len(sub) < 100 and sub.t[0] <= 300.0 and sub.t[-1] >= 300.2
    full = gyro_psf_grid(cam, log, (2, 2))
    half = gyro_psf_grid(cam.for_image(150, 200), log, (2, 2))
    assert half.height == 150 and half.width == 200
    assert full.kernels.shape[-1] > half.kernels.shape[-1]  # the blur halves with the photo
    assert cam.for_image(301, 401) is cam
    with pytest.raises(ConfigError, match="looks rotated"):
        cam.for_image(401, 301)
    with pytest.raises(ConfigError, match="does not match"):
        cam.for_image(300, 300)


def test_sensor_and_upright_descriptions_agree() -> None:
    """docs/gyro.md: a SENSOR_ORIENTATION 90 camera seen as read out (ANDROID_BACK_CAMERA_SENSOR_90,
    top-to-bottom) and the same photo turned upright (ANDROID_BACK_CAMERA, right-to-left) give
    the same PSF, turned 90 degrees clockwise."""
    from edgedeblur.runtime.gyro import ANDROID_BACK_CAMERA_SENSOR_90

    t = np.arange(0.0, 1.0, 0.005)
    omega = np.stack([0.4 * np.sin(9 * t), 0.3 + 0.2 * np.cos(7 * t), 0.2 * np.sin(5 * t)], axis=1)
    log = GyroLog(t, omega)
    raw = camera(width=400, height=300, cx=210.0, cy=140.0, readout_time=0.03, exposure_time=0.05,
                 gyro_to_camera=ANDROID_BACK_CAMERA_SENSOR_90)
    upright = camera(width=300, height=400, cx=299 - 140.0, cy=210.0, readout_time=0.03, exposure_time=0.05,
                     gyro_to_camera=ANDROID_BACK_CAMERA, readout_direction="right-to-left")
    for u, v in [(50.0, 30.0), (350.0, 250.0), (200.0, 150.0)]:
        k_raw = gyro_psf(raw, log, (u, v), size=31)
        k_up = gyro_psf(upright, log, (299 - v, u), size=31)
        np.testing.assert_allclose(k_up, np.rot90(k_raw, -1), atol=2e-3)
