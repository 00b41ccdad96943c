"""ctypes bindings of the firmware deblur pipeline (firmware/include/edgedeblur/edb_deblur.h).

Used by tests/test_firmware_deblur.py and benchmarks/firmware_deblur_speed.py. ``build(folder)``
builds ``libedgedeblur_fw.so`` with CMake (Release) and returns a :class:`Deblur` wrapper whose
methods take and return numpy arrays (H x W x C float32 images; the C side is planar).
"""

from __future__ import annotations

import ctypes as C
import shutil
import subprocess
from pathlib import Path

import numpy as np

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
P, I32, SZ, D = C.c_void_p, C.c_int32, C.c_size_t, C.c_double
PRIOR = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_void_p, I32, I32, D, C.c_void_p)
TAPERS = {"mean": 0, "none": 1, "blur": 2}


class PipeConfig(C.Structure):
    _fields_ = [("mode", I32), ("iterations", I32), ("prior_scale", D), ("hqs_sigma_start", D),
                ("hqs_lambda", D), ("taper", I32), ("sigma_max", D), ("denoise_sigma_max", D),
                ("kernel_max", I32), ("linear", I32), ("psf_grid", I32), ("grid_prior_scale", D),
                ("grid_iterations", I32)]

    @classmethod
    def from_pipeline(cls, cfg, linear: bool, psf_grid: bool = False) -> PipeConfig:  # noqa: ANN001
        """From a PipelineConfig; ``linear`` is the domain the runtime chose (its "auto" is not ported)."""
        return cls(1 if cfg.mode == "hqs" else 0, cfg.iterations, cfg.prior_scale, cfg.hqs_sigma_start,
                   cfg.hqs_lambda, TAPERS[cfg.taper], cfg.sigma_max, cfg.denoise_sigma_max, cfg.kernel_max,
                   int(bool(linear)), int(bool(psf_grid)), cfg.grid_prior_scale, cfg.grid_iterations)


class Camera(C.Structure):
    _fields_ = [("fx", D), ("fy", D), ("cx", D), ("cy", D), ("width", I32), ("height", I32),
                ("exposure_start", D), ("exposure_time", D), ("readout_time", D), ("readout_direction", I32),
                ("time_offset", D), ("gyro_to_camera", D * 9)]

    @classmethod
    def from_model(cls, cam) -> Camera:  # noqa: ANN001 - runtime.gyro.CameraModel
        from edgedeblur.runtime._gyro_io import READOUT_DIRECTIONS

        rot = (D * 9)(*np.asarray(cam.rotation, dtype=np.float64).ravel())
        return cls(cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height, cam.exposure_start, cam.exposure_time,
                   cam.readout_time, READOUT_DIRECTIONS.index(cam.readout_direction), cam.time_offset, rot)


class GyroLog(C.Structure):
    _fields_ = [("t", P), ("omega", P), ("n", I32)]


def planar(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1) if x.ndim == 3 else x[None])


def interleaved(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(1, 2, 0))


class Deblur:
    def __init__(self, path: Path) -> None:
        self.lib = lib = C.CDLL(str(path))
        sig = {
            "edb_fft_bytes": [I32, P], "edb_fft_init": [P, I32, P, SZ],
            "edb_rfft2_bytes": [I32, I32, P], "edb_rfft2_init": [P, I32, I32, P, SZ],
            "edb_pad_geometry": [I32, I32, I32, I32, P],
            "edb_deconv_bytes": [I32, I32, I32, I32, I32, C.c_int, C.c_int, P],
            "edb_deconv_init": [P, P, I32, I32, I32, P, I32, I32, C.c_int, C.c_int, P, SZ],
            "edb_deconv_wiener": [P, D, P], "edb_deconv_solve": [P, P, D, P],
            "edb_pipe_work_bytes": [P, I32, I32, I32, I32, P],
            "edb_pipe_run": [P, P, SZ, I32, I32, P, I32, I32, D, PRIOR, P, P, SZ, P, SZ, P],
            "edb_gyro_work_bytes": [I32, P],
            "edb_gyro_psf_grid": [P, P, I32, I32, I32, P, SZ, P, SZ, P],
        }
        for name, args in sig.items():
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes, fn.restype = args, C.c_int
        for name in ("edb_fft_exec", "edb_rfft2_forward", "edb_rfft2_inverse"):
            getattr(lib, name).restype = None
        lib.edb_fft_exec.argtypes = [P, P, C.c_int]
        lib.edb_rfft2_forward.argtypes = lib.edb_rfft2_inverse.argtypes = [P, P, P]
        lib.edb_noise_sigma.argtypes, lib.edb_noise_sigma.restype = [P, I32, I32, I32], D
        lib.edb_wiener_nsr.argtypes, lib.edb_wiener_nsr.restype = [P, I32, I32, I32, D, D], D
        lib.edb_fast_len.argtypes, lib.edb_fast_len.restype = [I32], I32
        self._keep: list[object] = []

    @staticmethod
    def _ok(status: int, what: str) -> None:
        if status != 0:
            raise RuntimeError(f"{what}: edb status {status}")

    def _mem(self, nbytes: int) -> np.ndarray:
        return np.zeros(nbytes + 16, dtype=np.uint8)

    @staticmethod
    def _aligned(mem: np.ndarray) -> int:
        return (mem.ctypes.data + 15) // 16 * 16

    def fft(self, x: np.ndarray, inverse: bool = False) -> np.ndarray:
        n = int(x.size)
        size = C.c_size_t()
        self._ok(self.lib.edb_fft_bytes(n, C.byref(size)), "fft_bytes")
        mem, plan = self._mem(size.value), C.c_void_p()
        self._ok(self.lib.edb_fft_init(C.byref(plan), n, mem.ctypes.data, mem.size), "fft_init")
        y = np.ascontiguousarray(x, dtype=np.complex64).copy()
        self.lib.edb_fft_exec(plan, y.ctypes.data, int(inverse))
        return y

    def rfft2(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(spectrum, inverse of the spectrum) of a 2-D float32 array."""
        h, w = x.shape
        size, plan = C.c_size_t(), C.c_void_p()
        self._ok(self.lib.edb_rfft2_bytes(h, w, C.byref(size)), "rfft2_bytes")
        mem = self._mem(size.value)
        self._ok(self.lib.edb_rfft2_init(C.byref(plan), h, w, mem.ctypes.data, mem.size), "rfft2_init")
        src = np.ascontiguousarray(x, dtype=np.float32)
        spec = np.zeros((h, w // 2 + 1), np.complex64)
        self.lib.edb_rfft2_forward(plan, src.ctypes.data, spec.ctypes.data)
        back, work = np.zeros((h, w), np.float32), spec.copy()
        self.lib.edb_rfft2_inverse(plan, work.ctypes.data, back.ctypes.data)
        return spec, back

    def noise_sigma(self, img: np.ndarray) -> float:
        p = planar(img)
        return float(self.lib.edb_noise_sigma(p.ctypes.data, p.shape[1], p.shape[2], p.shape[0]))

    def wiener_nsr(self, img: np.ndarray, sigma: float, prior_scale: float) -> float:
        p = planar(img)
        return float(self.lib.edb_wiener_nsr(p.ctypes.data, p.shape[1], p.shape[2], p.shape[0], sigma, prior_scale))

    def deconv(self, y: np.ndarray, kernel: np.ndarray, taper: str = "mean", hqs: bool = True) -> DataStepC:
        return DataStepC(self, y, kernel, taper, hqs)

    def pipe_run(self, cfg: PipeConfig, rgb: np.ndarray, kernel: np.ndarray, sigma: float | None,
                 prior) -> tuple[np.ndarray, float]:  # noqa: ANN001 - callable(x, sigma) -> x
        h, w = rgb.shape[:2]
        k = np.ascontiguousarray(kernel, dtype=np.float32)
        size = C.c_size_t()
        self._ok(self.lib.edb_pipe_work_bytes(C.byref(cfg), h, w, k.shape[0], k.shape[1], C.byref(size)), "work_bytes")
        mem = self._mem(size.value)
        src = np.ascontiguousarray(rgb, dtype=np.uint8)
        out = np.zeros_like(src)
        errors: list[BaseException] = []

        def call(user, x, ph, pw, s, o):  # noqa: ANN001, ANN202
            try:
                arr = np.ctypeslib.as_array(C.cast(x, C.POINTER(C.c_float)), shape=(3, ph, pw))
                res = np.asarray(prior(interleaved(arr), float(s)), dtype=np.float32)
                np.ctypeslib.as_array(C.cast(o, C.POINTER(C.c_float)), shape=(3, ph, pw))[:] = planar(res)
                return 0
            except BaseException as exc:  # noqa: BLE001 - reported after the call
                errors.append(exc)
                return 1

        cb, used = PRIOR(call), C.c_double()
        status = self.lib.edb_pipe_run(C.byref(cfg), src.ctypes.data, w * 3, h, w, k.ctypes.data, k.shape[0],
                                       k.shape[1], -1.0 if sigma is None else float(sigma), cb, None,
                                       mem.ctypes.data, mem.size, out.ctypes.data, w * 3, C.byref(used))
        if errors:
            raise errors[0]
        self._ok(status, "pipe_run")
        return out, used.value

    def gyro_psf_grid(self, camera, log, grid: tuple[int, int], size: int = 0) -> np.ndarray:  # noqa: ANN001
        cam = Camera.from_model(camera)
        t = np.ascontiguousarray(log.t, dtype=np.float64)
        om = np.ascontiguousarray(log.omega, dtype=np.float64)
        glog = GyroLog(t.ctypes.data, om.ctypes.data, t.size)
        need = C.c_size_t()
        self._ok(self.lib.edb_gyro_work_bytes(t.size, C.byref(need)), "gyro_work_bytes")
        mem, out_size = self._mem(need.value), C.c_int32()
        self._ok(self.lib.edb_gyro_psf_grid(C.byref(cam), C.byref(glog), grid[0], grid[1], size, mem.ctypes.data,
                                            mem.size, None, 0, C.byref(out_size)), "gyro size")
        k = out_size.value
        kernels = np.zeros((grid[0], grid[1], k, k), np.float32)
        self._ok(self.lib.edb_gyro_psf_grid(C.byref(cam), C.byref(glog), grid[0], grid[1], k, mem.ctypes.data,
                                            mem.size, kernels.ctypes.data, kernels.size, C.byref(out_size)),
                 "gyro_psf_grid")
        return kernels


class DataStepC:
    """edb_deconv_*: the C data step for one image and kernel (deconv.DataStep / wiener_deconvolve)."""

    def __init__(self, fw: Deblur, y: np.ndarray, kernel: np.ndarray, taper: str, hqs: bool) -> None:
        self.fw, self.y = fw, planar(y)
        c, h, w = self.y.shape
        self.shape = y.shape
        k = np.ascontiguousarray(kernel, dtype=np.float32)
        size = C.c_size_t()
        fw._ok(fw.lib.edb_deconv_bytes(h, w, c, k.shape[0], k.shape[1], TAPERS[taper], int(hqs), C.byref(size)),
               "deconv_bytes")
        self.mem = fw._mem(size.value)
        self.ctx = C.c_void_p()
        fw._ok(fw.lib.edb_deconv_init(C.byref(self.ctx), self.y.ctypes.data, h, w, c, k.ctypes.data, k.shape[0],
                                      k.shape[1], TAPERS[taper], int(hqs), Deblur._aligned(self.mem),
                                      self.mem.size - 16), "deconv_init")
        self.kernel = k
        self.bytes = size.value

    def _back(self, out: np.ndarray) -> np.ndarray:
        return interleaved(out) if len(self.shape) == 3 else out[0]

    def wiener(self, nsr: float) -> np.ndarray:
        out = np.zeros_like(self.y)
        self.fw._ok(self.fw.lib.edb_deconv_wiener(self.ctx, nsr, out.ctypes.data), "wiener")
        return self._back(out)

    def solve(self, z: np.ndarray, rho: float) -> np.ndarray:
        zp = planar(z)
        out = np.zeros_like(self.y)
        self.fw._ok(self.fw.lib.edb_deconv_solve(self.ctx, zp.ctypes.data, rho, out.ctypes.data), "solve")
        return self._back(out)


def build(folder: Path, build_type: str = "Release") -> Deblur:
    """Build the firmware's shared library into ``folder`` (CMake) and bind it."""
    if not shutil.which("cmake") or not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        raise FileNotFoundError("cmake and a C compiler are needed (apt-get install cmake gcc)")
    subprocess.run(["cmake", "-S", str(FIRMWARE), "-B", str(folder), f"-DCMAKE_BUILD_TYPE={build_type}"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(folder), "--target", "edgedeblur_fw_shared", "-j2"],
                   check=True, capture_output=True)
    return Deblur(next(Path(folder).glob("libedgedeblur_fw.so")))
