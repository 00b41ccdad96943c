"""The gyroscope log and the camera model of :mod:`edgedeblur.runtime.gyro`, and their files.

Both are checked once, when made, so the PSF code can trust them; every refusal names the file
and the line (CSV) or the field (JSON). Numpy only.

**Gyro CSV** (``read_gyro_csv`` / ``write_gyro_csv``): one sample a line, ``t,wx,wy,wz``.

* ``wx, wy, wz``: angular velocity in rad/s about the *device* axes, exactly what Android's
  ``Sensor.TYPE_GYROSCOPE`` reports in ``SensorEvent.values`` (x right, y up, z out of the
  screen in the device's natural orientation; positive = counter-clockwise seen from the
  positive end of the axis, the right-hand rule).
* ``t``: the sample time. The header says the unit: ``t_ns`` = integer nanoseconds, as
  ``SensorEvent.timestamp`` (the ``elapsedRealtimeNanos`` clock when the camera's
  ``SENSOR_INFO_TIMESTAMP_SOURCE`` is ``REALTIME``); ``t`` or ``t_s`` = seconds. Without a
  header the times are seconds, and a log whose median interval is over 1 s is refused as
  probably nanoseconds (add the ``t_ns`` header) instead of being guessed.
* Blank lines and lines starting with ``#`` are skipped. Refused: wrong column count,
  non-numeric or non-finite values, unsorted or repeated times, a gap over 3x the median
  interval, fewer than 4 samples.

**Camera JSON** (``read_camera_json`` / ``write_camera_json``): see :class:`CameraModel` and
``docs/gyro.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidInputError
from ..io import atomic_write

__all__ = ["GyroLog", "CameraModel", "read_gyro_csv", "write_gyro_csv", "read_camera_json",
           "write_camera_json", "ANDROID_BACK_CAMERA", "ANDROID_BACK_CAMERA_SENSOR_90",
           "READOUT_DIRECTIONS", "CAMERA_FORMAT", "MIN_SAMPLES", "MAX_GAP"]

CAMERA_FORMAT = "edgedeblur-camera/1"
MIN_SAMPLES = 4
MAX_GAP = 3.0  # a gap over this many median intervals is refused
TIME_HEADERS = {"t": 1.0, "t_s": 1.0, "t_ns": 1e-9}

#: Gyro (Android device) axes -> camera axes (x right along the image rows, y down, z along the
#: optical axis) for the back camera, the image seen upright in the device's natural (portrait)
#: orientation: camera x = device x, camera y = -device y, optical axis = -device z.
ANDROID_BACK_CAMERA = ((1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, -1.0))
#: The same camera in its *sensor* orientation when ``SENSOR_ORIENTATION`` is 90 (most phones):
#: the image as read out, before the 90-degree clockwise turn that makes it upright.
ANDROID_BACK_CAMERA_SENSOR_90 = ((0.0, -1.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 0.0, -1.0))
#: Which way the rolling shutter sweeps the image (Android: top to bottom of the sensor image).
READOUT_DIRECTIONS = ("top-to-bottom", "bottom-to-top", "left-to-right", "right-to-left")


# --- the gyro log ------------------------------------------------------------------------------
def _quat_exp(theta: np.ndarray) -> np.ndarray:
    """Unit quaternions (w, x, y, z) of rotation vectors ``theta`` (..., 3), in radians."""
    angle = np.linalg.norm(theta, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(a/2)/a with its series near 0
    k = np.where(angle > 1e-8, np.sin(half) / np.where(angle > 1e-8, angle, 1.0), 0.5 - angle**2 / 48.0)
    return np.concatenate([np.cos(half), k * theta], axis=-1)


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (broadcasting over leading axes)."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b), -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw], axis=-1)



@dataclass(frozen=True, eq=False)
class GyroLog:
    """Gyro samples: ``t`` (N,) float64 seconds, increasing; ``omega`` (N, 3) float64 rad/s about
    the gyro (device) axes. ``path`` names the file in error messages."""

    t: np.ndarray
    omega: np.ndarray
    path: str | None = None
    lines: np.ndarray | None = field(default=None, repr=False)  # file line of each sample

    def __post_init__(self) -> None:
        t = np.asarray(self.t, dtype=np.float64)
        omega = np.asarray(self.omega, dtype=np.float64)
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "omega", omega)
        if t.ndim != 1 or omega.shape != (t.size, 3):
            raise InvalidInputError("gyro log arrays have the wrong shapes", path=self.path,
                                    given=f"t {t.shape}, omega {omega.shape}", allowed="t (N,), omega (N, 3)")
        _check_samples(t, omega, self.path, self.lines)

    def __len__(self) -> int:
        return int(self.t.size)

    @property
    def rate(self) -> float:
        """Median sample rate in Hz."""
        return float(1.0 / np.median(np.diff(self.t)))

    def window(self, t0: float, t1: float) -> GyroLog:
        """The samples around [t0, t1] (one more each side, at least ``MIN_SAMPLES``): integrating
        a long log from its start costs time, and only relative rotations are ever used. The
        whole log when it does not cover the span (so the coverage error still names it)."""
        if t0 < self.t[0] or t1 > self.t[-1]:
            return self
        i0 = max(int(np.searchsorted(self.t, t0, side="right")) - 2, 0)
        i1 = min(max(int(np.searchsorted(self.t, t1, side="left")) + 2, i0 + MIN_SAMPLES), self.t.size)
        if i0 == 0 and i1 == self.t.size:
            return self
        sub = object.__new__(GyroLog)  # a slice of a checked log: no need to check again
        for name, value in (("t", self.t[i0:i1]), ("omega", self.omega[i0:i1]), ("path", self.path),
                            ("lines", None if self.lines is None else self.lines[i0:i1])):
            object.__setattr__(sub, name, value)
        return sub

    def check_covers(self, t0: float, t1: float) -> None:
        """Refuse a time span [t0, t1] (gyro clock, s) the log does not cover."""
        if t0 < self.t[0] or t1 > self.t[-1]:
            raise InvalidInputError(
                "the gyro log does not cover the exposure", path=self.path,
                given=f"exposure {t0:.6f} to {t1:.6f} s (gyro clock, readout and time_offset included)",
                allowed=f"inside the log's {self.t[0]:.6f} to {self.t[-1]:.6f} s",
                hint="log the gyro from before the exposure starts until after the last row ends; "
                     "check exposure_start, time_offset and the t / t_ns unit of the header")

    @cached_property
    def _quaternions(self) -> np.ndarray:
        """Orientation at each sample relative to the first (unit quaternions w, x, y, z), by
        trapezoidal rotation-vector steps; see ``gyro.rotation_at``."""
        steps = _quat_exp(0.5 * (self.omega[:-1] + self.omega[1:]) * np.diff(self.t)[:, None])
        q = np.empty((self.t.size, 4))
        q[0] = (1.0, 0.0, 0.0, 0.0)
        for i, s in enumerate(steps):
            q[i + 1] = _quat_mul(q[i], s)
            q[i + 1] /= math.sqrt(float(q[i + 1] @ q[i + 1]))
        return q


def _check_samples(t: np.ndarray, omega: np.ndarray, path: str | None, lines: np.ndarray | None) -> None:
    def where(i: int) -> str:
        return f"line {int(lines[i])}" if lines is not None else f"sample {i}"

    if t.size < MIN_SAMPLES:
        raise InvalidInputError("the gyro log has too few samples", path=path, given=t.size,
                                allowed=f"at least {MIN_SAMPLES}")
    bad = np.flatnonzero(~(np.isfinite(t) & np.isfinite(omega).all(axis=1)))
    if bad.size:
        raise InvalidInputError(f"non-finite value at {where(bad[0])}", path=path,
                                given=f"t={t[bad[0]]}, omega={omega[bad[0]].tolist()}")
    dt = np.diff(t)
    if (dt < 0).any():
        i = int(np.flatnonzero(dt < 0)[0]) + 1
        raise InvalidInputError(f"gyro timestamps go backwards at {where(i)}", path=path,
                                given=f"{t[i]!r} after {t[i - 1]!r}", allowed="increasing times",
                                hint="sort the log by time")
    if (dt == 0).any():
        i = int(np.flatnonzero(dt == 0)[0]) + 1
        raise InvalidInputError(f"repeated gyro timestamp at {where(i)}", path=path, given=repr(t[i]),
                                allowed="strictly increasing times", hint="drop the duplicate samples")
    med = float(np.median(dt))
    gaps = np.flatnonzero(dt > MAX_GAP * med)
    if gaps.size:
        i = int(gaps[0]) + 1
        raise InvalidInputError(f"gap in the gyro log before {where(i)}", path=path,
                                given=f"{dt[i - 1] * 1e3:.3f} ms between samples",
                                allowed=f"at most {MAX_GAP:g}x the median interval ({med * 1e3:.3f} ms)",
                                hint="record without dropped samples, or split the log at the gap")


def read_gyro_csv(path: str | Path) -> GyroLog:
    """Read a gyro CSV (``t,wx,wy,wz``; see the module docstring for units and header)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError("gyro log file does not exist", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read the gyro log ({exc})", path=path) from exc
    scale, explicit = 1.0, False
    rows: list[list[float]] = []
    lines: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")]
        if not rows and not explicit and cells and cells[0].lower() in TIME_HEADERS:
            names = [c.lower() for c in cells]
            if names[1:] != ["wx", "wy", "wz"]:
                raise InvalidInputError(f"unexpected gyro CSV header at line {number}", path=path,
                                        given=line, allowed="t,wx,wy,wz or t_s,wx,wy,wz or t_ns,wx,wy,wz")
            scale, explicit = TIME_HEADERS[names[0]], True
            continue
        if len(cells) != 4:
            raise InvalidInputError(f"wrong number of columns at line {number}", path=path,
                                    given=f"{len(cells)} in {line!r}", allowed="4: t,wx,wy,wz")
        try:
            t = int(cells[0]) * scale if scale != 1.0 and cells[0].lstrip("-").isdigit() else float(cells[0]) * scale
            rows.append([t] + [float(c) for c in cells[1:]])
        except ValueError:
            raise InvalidInputError(f"non-numeric value at line {number}", path=path, given=line,
                                    allowed="numbers: t,wx,wy,wz") from None
        lines.append(number)
    if not rows:
        raise InvalidInputError("the gyro log has no samples", path=path, allowed=f"at least {MIN_SAMPLES}")
    data = np.asarray(rows, dtype=np.float64)
    if not explicit and data.shape[0] >= 2 and np.median(np.diff(data[:, 0])) > 1.0:
        raise InvalidInputError("gyro times without a header look like nanoseconds, not seconds", path=path,
                                given=f"median interval {np.median(np.diff(data[:, 0])):.6g}",
                                allowed="seconds without a header",
                                hint="add the header line t_ns,wx,wy,wz (or t_s,wx,wy,wz for seconds)")
    return GyroLog(data[:, 0], data[:, 1:], path=str(path), lines=np.asarray(lines))


def write_gyro_csv(log: GyroLog, path: str | Path, *, unit: str = "s") -> Path:
    """Write ``log`` as CSV with a header; ``unit`` ``"s"`` (exact float64) or ``"ns"`` (integers)."""
    if unit not in ("s", "ns"):
        raise InvalidInputError("unknown gyro time unit", given=unit, allowed="s, ns")
    out = ["t_ns,wx,wy,wz" if unit == "ns" else "t_s,wx,wy,wz"]
    for t, (wx, wy, wz) in zip(log.t, log.omega, strict=True):
        stamp = str(round(float(t) * 1e9)) if unit == "ns" else repr(float(t))
        out.append(f"{stamp},{float(wx)!r},{float(wy)!r},{float(wz)!r}")
    body = "\n".join(out) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(body, encoding="utf-8"), suffix=".csv")


# --- the camera --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CameraModel:
    """What the PSF needs to know about one photo's camera and exposure.

    Pixel coordinates: x along a row, y down, pixel centres at integers (0 .. width-1).
    Times in seconds. The exposure of the first row read out starts at ``exposure_start`` on
    the camera's clock (Android: ``SENSOR_TIMESTAMP``); rows are read out ``readout_time``
    apart from the first to one past the last (Android: ``SENSOR_ROLLING_SHUTTER_SKEW``; 0 =
    global shutter) in ``readout_direction``; each row integrates light for ``exposure_time``
    (``SENSOR_EXPOSURE_TIME``). The gyro log's time of an instant is the camera's time plus
    ``time_offset``. ``gyro_to_camera`` rotates gyro-axis vectors into camera axes (x right,
    y down, z along the optical axis into the scene); see ``ANDROID_BACK_CAMERA``.
    ``frame_interval`` (optional, 1/fps) only bounds ``readout_time``.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    exposure_start: float
    exposure_time: float
    readout_time: float = 0.0
    readout_direction: str = "top-to-bottom"
    time_offset: float = 0.0
    gyro_to_camera: Any = ANDROID_BACK_CAMERA
    frame_interval: float | None = None
    path: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _check_camera(self)

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the usual name
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def rotation(self) -> np.ndarray:
        """``gyro_to_camera`` as a 3x3 float64 array."""
        return np.asarray(self.gyro_to_camera, dtype=np.float64)

    def row_start(self, x: float, y: float) -> float:
        """Seconds after ``exposure_start`` when the exposure of the row holding (x, y) starts."""
        d = self.readout_direction
        if self.readout_time == 0.0:
            return 0.0
        if d in ("top-to-bottom", "bottom-to-top"):
            r = y if d == "top-to-bottom" else self.height - 1 - y
            return self.readout_time * float(np.clip(r, 0, self.height - 1)) / self.height
        r = x if d == "left-to-right" else self.width - 1 - x
        return self.readout_time * float(np.clip(r, 0, self.width - 1)) / self.width

    def for_image(self, height: int, width: int) -> CameraModel:
        """This camera for an image of ``height`` x ``width``: itself, or :meth:`scaled` when the
        image is the same frame resized (aspect ratio within 1%); anything else is refused."""
        if (height, width) == (self.height, self.width):
            return self
        factor = width / self.width
        if abs(height / self.height - factor) > 0.01 * factor:
            swapped = abs(height / self.width - width / self.height) <= 0.01 * width / self.height
            raise ConfigError(
                "the photo does not match the camera model's image size", path=self.path,
                given=f"photo {width}x{height}", allowed=f"{self.width}x{self.height} or a resize of it",
                hint="the photo looks rotated (EXIF): describe the upright image (swap width/height, "
                     "rotate gyro_to_camera and readout_direction, see docs/gyro.md)" if swapped else
                     "write the camera file for this photo's resolution and crop")
        return self.scaled(factor)

    def scaled(self, factor: float) -> CameraModel:
        """The same camera for the image resized by ``factor`` (pixel centres kept consistent)."""
        from dataclasses import replace

        w, h = max(1, round(self.width * factor)), max(1, round(self.height * factor))
        sx, sy = w / self.width, h / self.height
        return replace(self, fx=self.fx * sx, fy=self.fy * sy, cx=(self.cx + 0.5) * sx - 0.5,
                       cy=(self.cy + 0.5) * sy - 0.5, width=w, height=h)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": CAMERA_FORMAT}
        for f in fields(self):
            if f.name == "path":
                continue
            value = getattr(self, f.name)
            if f.name == "gyro_to_camera":
                value = self.rotation.tolist()
            if value is not None:
                out[f.name] = value
        return out


_REQUIRED = ("fx", "fy", "cx", "cy", "width", "height", "exposure_start", "exposure_time")
_OPTIONAL = ("readout_time", "readout_direction", "time_offset", "gyro_to_camera", "frame_interval")


def _bad(field_name: str, what: str, cam: CameraModel | None = None, path: str | None = None,
         **kw: Any) -> ConfigError:
    return ConfigError(f"camera field {field_name!r}: {what}", path=path or (cam.path if cam else None), **kw)


def _number(cam: CameraModel, name: str, *, positive: bool = False, nonneg: bool = False) -> float:
    value = getattr(cam, name)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise _bad(name, "not a finite number", cam, given=repr(value))
    if positive and value <= 0:
        raise _bad(name, "must be positive", cam, given=value, allowed="> 0")
    if nonneg and value < 0:
        raise _bad(name, "must not be negative", cam, given=value, allowed=">= 0")
    return float(value)


def _check_camera(cam: CameraModel) -> None:
    for name in ("width", "height"):
        value = getattr(cam, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise _bad(name, "must be a positive whole number of pixels", cam, given=repr(value))
    _number(cam, "fx", positive=True)
    _number(cam, "fy", positive=True)
    cx, cy = _number(cam, "cx"), _number(cam, "cy")
    if not (-0.5 <= cx <= cam.width - 0.5 and -0.5 <= cy <= cam.height - 0.5):
        raise _bad("cx/cy", "principal point outside the image", cam, given=(cx, cy),
                   allowed=f"inside 0..{cam.width - 1} x 0..{cam.height - 1}")
    _number(cam, "exposure_start")
    exposure = _number(cam, "exposure_time", positive=True)
    readout = _number(cam, "readout_time", nonneg=True)
    _number(cam, "time_offset")
    if exposure > 10.0:
        raise _bad("exposure_time", "longer than 10 s (seconds expected, not ms or ns)", cam, given=exposure)
    if readout > 1.0:
        raise _bad("readout_time", "longer than 1 s (seconds expected, not ms or ns)", cam, given=readout)
    if cam.frame_interval is not None:
        frame = _number(cam, "frame_interval", positive=True)
        if readout > frame:
            raise _bad("readout_time", "longer than the frame time", cam, given=readout,
                       allowed=f"<= frame_interval {frame:g} s")
    if cam.readout_direction not in READOUT_DIRECTIONS:
        raise _bad("readout_direction", "unknown direction", cam, given=cam.readout_direction,
                   allowed=", ".join(READOUT_DIRECTIONS))
    try:
        rot = np.asarray(cam.gyro_to_camera, dtype=np.float64)
    except (TypeError, ValueError):
        rot = np.zeros(0)
    if rot.shape != (3, 3) or not np.isfinite(rot).all():
        raise _bad("gyro_to_camera", "not a 3x3 matrix of numbers", cam, given=repr(cam.gyro_to_camera))
    if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-4) or np.linalg.det(rot) < 0:
        raise _bad("gyro_to_camera", "not a rotation (orthonormal, determinant +1)", cam,
                   given=np.round(rot, 4).tolist(), hint="write the rows as the camera x, y, z axes in gyro "
                   "coordinates; a mirror (determinant -1) means one axis is flipped")
    object.__setattr__(cam, "gyro_to_camera", tuple(tuple(float(v) for v in row) for row in rot))


def read_camera_json(path: str | Path) -> CameraModel:
    """Read a camera JSON (fields of :class:`CameraModel`, ``"format": "edgedeblur-camera/1"``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("camera file does not exist", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the camera file ({exc})", path=path) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", path=path) from exc
    if not isinstance(data, dict):
        raise ConfigError("camera file must hold a JSON object", path=path, given=type(data).__name__)
    fmt = data.pop("format", CAMERA_FORMAT)
    if fmt != CAMERA_FORMAT:
        raise _bad("format", "unknown camera file format", path=str(path), given=fmt, allowed=CAMERA_FORMAT)
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise _bad(missing[0], "missing", path=str(path), allowed="required: " + ", ".join(_REQUIRED),
                   hint="see docs/gyro.md for an example")
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise _bad(unknown[0], "unknown field", path=str(path),
                   allowed=", ".join(_REQUIRED + _OPTIONAL + ("format",)))
    return CameraModel(**data, path=str(path))


def write_camera_json(camera: CameraModel, path: str | Path) -> Path:
    """Write ``camera`` as the JSON :func:`read_camera_json` reads (atomic)."""
    text = json.dumps(camera.to_dict(), indent=2) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), suffix=".json")
