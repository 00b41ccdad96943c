"""The C firmware library (firmware/) against the Python runtime, through ctypes.

The library is built with CMake into a temporary folder (skipped with a reason when cmake or
a C compiler is missing). Every image is restored twice with the same OpenVINO model: by the
Python runtime (``edgedeblur.runtime.load(...).restore``) and by the C library, whose
inference callback runs the very same backend object on the tensor C packed. The C output
must match within 1 LSB on every pixel, for colour, grey and NV12 frames, fixed and dynamic
models, float32 and quantized I/O, and sizes that are not multiples of the tile.
"""

from __future__ import annotations

import ctypes as C
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgedeblur.io import read_image
from edgedeblur.runtime import load, write_manifest
from edgedeblur.runtime.manifest import Manifest, sha256_file

REPO = Path(__file__).resolve().parents[1]
FIRMWARE = REPO / "firmware"
FMT = {"rgb": 0, "gray": 1, "nv12": 2}
DTYPE = {"float32": 0, "int8": 1, "uint8": 2}
NP_DTYPE = {"float32": np.float32, "int8": np.int8, "uint8": np.uint8}
LAYOUT = {"NCHW": 0, "NHWC": 1}
EDB_OK, ERR_NULL, ERR_ARG, ERR_TOO_LARGE, ERR_SMALL = 0, -1, -2, -3, -4
ERR_UNSUPPORTED, ERR_CONTRACT, ERR_SHA256, ERR_INFER, ERR_ALIAS, ERR_STATE = -5, -6, -7, -8, -9, -10


# --- the numpy reference of the C library's BT.601 integer conversions (docs/firmware.md) ----------
_YUV2RGB = {False: (65536, 0, 91881, 22554, 46802, 116130), True: (76309, 16, 104597, 25675, 53279, 132201)}
_RGB2YUV = {False: ((19595, 38470, 7471), 0, (-11058, -21710, 32768), (32768, -27439, -5329)),
            True: ((16829, 33039, 6416), 16 << 16, (-9714, -19070, 28784), (28784, -24103, -4681))}


def _q16_u8(v: np.ndarray, shift: int = 16) -> np.ndarray:
    return np.clip((np.maximum(v, 0) + (1 << (shift - 1))) >> shift, 0, 255).astype(np.uint8)


def nv12_to_rgb(y: np.ndarray, uv: np.ndarray, video: bool = False) -> np.ndarray:
    """H x W luma + H/2 x W/2 x 2 chroma -> H x W x 3 RGB (BT.601, nearest chroma)."""
    ky, yoff, rv, gu, gv, bu = _YUV2RGB[video]
    up = uv.repeat(2, axis=0).repeat(2, axis=1).astype(np.int32) - 128
    yy = ky * (y.astype(np.int32) - yoff)
    u, v = up[..., 0], up[..., 1]
    return np.stack([_q16_u8(yy + rv * v), _q16_u8(yy - gu * u - gv * v), _q16_u8(yy + bu * u)], axis=2)


def rgb_to_nv12(rgb: np.ndarray, video: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """H x W x 3 RGB -> luma per pixel, chroma from the 2x2 block sums."""
    ky, yadd, ku, kv = _RGB2YUV[video]
    x = rgb.astype(np.int32)
    y = _q16_u8(x @ np.array(ky, dtype=np.int32) + yadd)
    h, w = rgb.shape[:2]
    s = x.reshape(h // 2, 2, w // 2, 2, 3).sum(axis=(1, 3))
    u = _q16_u8(s @ np.array(ku, dtype=np.int32) + (128 << 18), 18)
    v = _q16_u8(s @ np.array(kv, dtype=np.int32) + (128 << 18), 18)
    return y, np.stack([u, v], axis=2)


# --- build ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def fw_lib(tmp_path_factory: pytest.TempPathFactory) -> C.CDLL:
    if not shutil.which("cmake") or not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        pytest.skip("cmake and a C compiler are needed to build firmware/ (apt-get install cmake gcc)")
    build = tmp_path_factory.mktemp("fwbuild")
    subprocess.run(["cmake", "-S", str(FIRMWARE), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "edgedeblur_fw_shared", "-j2"],
                   check=True, capture_output=True)
    lib = C.CDLL(str(next(build.glob("libedgedeblur_fw.so"))))
    P, I32, SZ = C.c_void_p, C.c_int32, C.c_size_t
    signatures = {  # every pointer as c_void_p: a Python int must never be narrowed to a C int
        "edb_plan_work_bytes": [P, C.c_int, I32, I32, P],
        "edb_plan_init": [P, P, C.c_int, C.c_int, I32, I32, P, SZ],
        "edb_plan_tensor_bytes": [P, P, P],
        "edb_plan_tile_shape": [P, P, P, P],
        "edb_run": [P, P, P, P, SZ, P, SZ, INFER, P],
        "edb_image_wrap": [P, C.c_int, I32, I32, P, SZ, P, SZ],
        "edb_image_bytes": [C.c_int, I32, I32, P, P],
        "edb_verify_model": [P, P, SZ],
        "edb_sha256": [P, SZ, P],
        "edb_contract_check": [P],
    }
    for name, args in signatures.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = C.c_int
    for name in ("edb_sizeof_plan", "edb_sizeof_contract", "edb_sizeof_image"):
        getattr(lib, name).restype = C.c_size_t
    assert lib.edb_sizeof_contract() == C.sizeof(Contract)
    assert lib.edb_sizeof_image() == C.sizeof(Image)
    return lib


class TensorSpec(C.Structure):
    _fields_ = [("dtype", C.c_int), ("layout", C.c_int), ("scale", C.c_float), ("zero_point", C.c_int32),
                ("range_lo", C.c_float), ("range_hi", C.c_float)]


class Contract(C.Structure):
    _fields_ = [("abi_version", C.c_uint32), ("channels", C.c_int32), ("model_h", C.c_int32),
                ("model_w", C.c_int32), ("tile_size", C.c_int32), ("max_pixels", C.c_int32),
                ("tile_overlap", C.c_int32), ("pad_multiple", C.c_int32), ("input", TensorSpec),
                ("output", TensorSpec), ("model_sha256", C.c_char_p)]


class Image(C.Structure):
    _fields_ = [("format", C.c_int), ("width", C.c_int32), ("height", C.c_int32),
                ("planes", C.c_void_p * 2), ("strides", C.c_size_t * 2), ("plane_bytes", C.c_size_t * 2)]


INFER = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_void_p, C.c_void_p)


def contract_for(manifest: Manifest, max_pixels: int = 2_000_000, **tiling: int) -> Contract:
    """The edb_contract the header generator would write (values from its c_contract)."""
    from edgedeblur.export.c_header import c_contract

    c = c_contract(manifest, max_pixels=max_pixels, **tiling)

    def spec(t) -> TensorSpec:  # noqa: ANN001
        return TensorSpec(DTYPE[t.dtype], LAYOUT[t.layout], t.scale or 0.0, t.zero_point or 0, 0.0, 1.0)

    return Contract(1, c["channels"], c["model_h"], c["model_w"], c["tile_size"], c["max_pixels"],
                    c["tile_overlap"], c["pad_multiple"], spec(c["input"]), spec(c["output"]),
                    c["sha256"].encode())


# --- models: a small residual conv net built with OpenVINO's opset, saved as IR + manifest --------
def build_ov_artifact(folder: Path, *, channels: int, size: int | None, layout: str = "NCHW",
                      dtype: str = "float32", tile: tuple[int, int] | None = None, seed: int = 7) -> Path:
    import openvino as ov
    import openvino.opset13 as ops
    from openvino.preprocess import PrePostProcessor

    scale, zp = (1 / 255, -128 if dtype == "int8" else 0) if dtype != "float32" else (None, None)
    rng = np.random.default_rng(seed)
    x = ops.parameter([1, channels, size or -1, size or -1], ov.Type.f32, name="input")

    def conv(a, w):  # noqa: ANN001, ANN202
        return ops.convolution(a, ops.constant(w), [1, 1], [1, 1], [1, 1], [1, 1])

    h = ops.relu(conv(x, rng.normal(0, 0.1, (8, channels, 3, 3)).astype(np.float32)))
    y = ops.add(x, conv(h, rng.normal(0, 0.1, (channels, 8, 3, 3)).astype(np.float32)))
    ppp = PrePostProcessor(ov.Model([y], [x], "fwtest"))
    if layout == "NHWC":
        ppp.input().tensor().set_layout(ov.Layout("NHWC"))
        ppp.input().model().set_layout(ov.Layout("NCHW"))
        ppp.output().tensor().set_layout(ov.Layout("NHWC"))
        ppp.output().model().set_layout(ov.Layout("NCHW"))
    if dtype != "float32":
        t = ov.Type.u8 if dtype == "uint8" else ov.Type.i8
        lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
        sc, z = ops.constant(np.float32(scale)), ops.constant(np.float32(zp))
        ppp.input().tensor().set_element_type(t)
        ppp.input().preprocess().custom(lambda n: ops.multiply(ops.subtract(ops.convert(n, "f32"), z), sc).output(0))
        ppp.output().postprocess().custom(lambda n: ops.convert(ops.clamp(
            ops.round(ops.add(ops.divide(n, sc), z), "half_to_even"), lo, hi), t).output(0))
        ppp.output().tensor().set_element_type(t)
    stem = f"fw_c{channels}_{size or 'dyn'}_{layout}_{dtype}"
    xml = folder / f"{stem}.xml"
    ov.save_model(ppp.build(), str(xml), compress_to_fp16=False)
    bin_ = xml.with_suffix(".bin")
    hw = [size or -1, size or -1]
    shape = [1, channels, *hw] if layout == "NCHW" else [1, *hw, channels]
    tensor = {"shape": shape, "dtype": dtype, "layout": layout, "range": [0.0, 1.0],
              "colour": "RGB" if channels == 3 else "GREY", "scale": scale, "zero_point": zp}
    tile = tile or ((size, 8) if size else None)
    data = {
        "schema_version": 1,
        "artifact": {"file": xml.name, "sha256": sha256_file(xml), "bytes": xml.stat().st_size,
                     "format": "openvino", "precision": "int8" if scale else "fp32", "target": None,
                     "backend": "openvino", "weights_file": bin_.name, "weights_sha256": sha256_file(bin_)},
        "model": {"name": stem, "task": "denoise"},
        "io": {"input": {"name": "input", **tensor}, "output": {"name": "output", **tensor},
               "dynamic_hw": size is None, "pad_multiple": 4,
               "tile": None if tile is None else {"size": tile[0], "overlap": tile[1]}},
    }
    return write_manifest(folder / f"{stem}.manifest.json", data)


@pytest.fixture(scope="module")
def arts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("openvino")
    d = tmp_path_factory.mktemp("fwarts")
    return {
        "rgb_f32": build_ov_artifact(d, channels=3, size=64),
        "grey_u8_nhwc": build_ov_artifact(d, channels=1, size=64, layout="NHWC", dtype="uint8"),
        "rgb_i8_nhwc": build_ov_artifact(d, channels=3, size=48, layout="NHWC", dtype="int8"),
        "rgb_dyn": build_ov_artifact(d, channels=3, size=None, tile=(32, 6)),
    }


@pytest.fixture(scope="module")
def photo(shared_data: Path) -> np.ndarray:
    return read_image(sorted((shared_data / "eval" / "cbsd68").iterdir())[3])


@pytest.fixture(scope="module")
def grey_photo(shared_data: Path) -> np.ndarray:
    return read_image(sorted((shared_data / "eval" / "bsd68").iterdir())[5])


# --- running the C library ------------------------------------------------------------------------
def _plane(arr: np.ndarray) -> tuple[int, int, int]:
    return arr.ctypes.data, arr.strides[0], arr.nbytes


def c_restore(lib: C.CDLL, manifest_path: Path, planes: list[np.ndarray], fmt: str, *,
              video: bool = False, max_pixels: int = 2_000_000, threads: int = 1,
              **tiling: int) -> list[np.ndarray]:
    """Restore one frame (list of planes) with the C library; inference by the runtime's backend."""
    manifest = Manifest.read(manifest_path)
    runner = load(manifest_path, backend="openvino", threads=threads)
    contract = contract_for(manifest, max_pixels, **tiling)
    h, w = planes[0].shape[:2]
    wb = C.c_size_t()
    assert lib.edb_plan_work_bytes(C.byref(contract), FMT[fmt], w, h, C.byref(wb)) == EDB_OK
    work = np.zeros(wb.value // 8 + 1, dtype=np.uint64)
    plan = (C.c_uint64 * (lib.edb_sizeof_plan() // 8 + 1))()
    assert lib.edb_plan_init(plan, C.byref(contract), FMT[fmt], int(video), w, h, work.ctypes.data,
                             C.c_size_t(work.nbytes)) == EDB_OK
    ib, ob = C.c_size_t(), C.c_size_t()
    assert lib.edb_plan_tensor_bytes(plan, C.byref(ib), C.byref(ob)) == EDB_OK
    tile_h, tile_w = _plan_tile(plan, lib)
    ins, outs = manifest.input, manifest.output
    ch = ins.channels
    in_shape = (1, ch, tile_h, tile_w) if ins.layout == "NCHW" else (1, tile_h, tile_w, ch)
    t_in = np.zeros(in_shape, dtype=NP_DTYPE[ins.dtype])
    t_out = np.zeros(in_shape, dtype=NP_DTYPE[outs.dtype])
    assert t_in.nbytes == ib.value and t_out.nbytes == ob.value
    calls = []

    def infer(user, pin, pout) -> int:  # noqa: ANN001
        try:
            assert pin == t_in.ctypes.data and pout == t_out.ctypes.data
            t_out[...] = runner.backend.run(t_in.copy())
            calls.append(1)
            return 0
        except Exception:  # a Python error must not unwind through C
            return 1

    cb = INFER(infer)
    outs_np = [np.zeros_like(p) for p in planes]
    src, dst = _image(fmt, planes), _image(fmt, outs_np)
    rc = lib.edb_run(plan, C.byref(src), C.byref(dst), t_in.ctypes.data, ib, t_out.ctypes.data, ob, cb, None)
    assert rc == EDB_OK, rc
    assert calls
    return outs_np


def _plan_tile(plan, lib) -> tuple[int, int]:  # noqa: ANN001
    th, tw = C.c_int32(), C.c_int32()
    assert lib.edb_plan_tile_shape(plan, C.byref(th), C.byref(tw), None) == EDB_OK
    return th.value, tw.value


def _image(fmt: str, planes: list[np.ndarray]) -> Image:
    im = Image()
    im.format = FMT[fmt]
    im.height, im.width = planes[0].shape[:2]
    for i, p in enumerate(planes):
        assert p.flags.c_contiguous
        im.planes[i], im.strides[i], im.plane_bytes[i] = _plane(p)
    return im


def _max_diff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max())


# --- C == Python within 1 LSB ---------------------------------------------------------------------
@pytest.mark.parametrize(("art", "hw"), [("rgb_f32", (150, 97)), ("rgb_f32", (64, 64)),
                                          ("rgb_i8_nhwc", (100, 131)), ("rgb_i8_nhwc", (30, 41)),
                                          ("rgb_dyn", (37, 58))])
def test_colour_matches_python_runtime(fw_lib: C.CDLL, arts: dict, photo: np.ndarray, art: str, hw: tuple) -> None:
    img = np.ascontiguousarray(photo[:hw[0], 20:20 + hw[1]])
    want = load(arts[art], backend="openvino", threads=1).restore(img)
    got = c_restore(fw_lib, arts[art], [img], "rgb")[0]
    assert _max_diff(got, want) <= 1
    assert (got != img).mean() > 0.5  # the model did something: this is not a pass-through


def test_grey_frames_match(fw_lib: C.CDLL, arts: dict, grey_photo: np.ndarray) -> None:
    img = np.ascontiguousarray(grey_photo[:131, :70])
    want = load(arts["grey_u8_nhwc"], backend="openvino", threads=1).restore(img)
    got = c_restore(fw_lib, arts["grey_u8_nhwc"], [img], "gray")[0]
    assert _max_diff(got, want) <= 1
    # a grey frame on an RGB model: grey in all channels, mean of the outputs (the runtime's rule)
    want3 = load(arts["rgb_f32"], backend="openvino", threads=1).restore(img)
    got3 = c_restore(fw_lib, arts["rgb_f32"], [img], "gray")[0]
    assert _max_diff(got3, want3) <= 1



def test_colour_frame_on_grey_model_runs_each_channel(fw_lib: C.CDLL, arts: dict, photo: np.ndarray) -> None:
    img = np.ascontiguousarray(photo[:77, :101])
    want = load(arts["grey_u8_nhwc"], backend="openvino", threads=1).restore(img)
    got = c_restore(fw_lib, arts["grey_u8_nhwc"], [img], "rgb")[0]
    assert _max_diff(got, want) <= 1


def test_dynamic_model_tiles_above_max_pixels(fw_lib: C.CDLL, arts: dict, photo: np.ndarray) -> None:
    img = np.ascontiguousarray(photo[:70, :90])
    want = load(arts["rgb_dyn"], backend="openvino", threads=1, max_pixels=1000).restore(img)
    got = c_restore(fw_lib, arts["rgb_dyn"], [img], "rgb", max_pixels=1000)[0]
    assert _max_diff(got, want) <= 1
    # the header generator's --tile/--overlap are the Runner's tile/overlap options
    want = load(arts["rgb_dyn"], backend="openvino", threads=1, max_pixels=0, tile=24, overlap=3).restore(img)
    got = c_restore(fw_lib, arts["rgb_dyn"], [img], "rgb", max_pixels=0, tile=24, overlap=3)[0]
    assert _max_diff(got, want) <= 1


@pytest.mark.parametrize("video", [False, True])
def test_nv12_rgb_model_matches_reference_pipeline(fw_lib: C.CDLL, arts: dict, photo: np.ndarray, video: bool) -> None:
    y, uv = rgb_to_nv12(np.ascontiguousarray(photo[:96, :150]), video)
    ref_rgb = load(arts["rgb_f32"], backend="openvino", threads=1).restore(nv12_to_rgb(y, uv, video))
    want_y, want_uv = rgb_to_nv12(ref_rgb, video)
    got_y, got_uv = c_restore(fw_lib, arts["rgb_f32"], [y, uv.reshape(48, 150)], "nv12", video=video)
    assert _max_diff(got_y, want_y) <= 1
    assert _max_diff(got_uv, want_uv.reshape(48, 150)) <= 1


def test_nv12_grey_model_restores_luma_and_keeps_chroma(fw_lib: C.CDLL, arts: dict, photo: np.ndarray) -> None:
    y, uv = rgb_to_nv12(np.ascontiguousarray(photo[:80, :102]))
    want_y = load(arts["grey_u8_nhwc"], backend="openvino", threads=1).restore(y)
    got_y, got_uv = c_restore(fw_lib, arts["grey_u8_nhwc"], [y, uv.reshape(40, 102)], "nv12")
    assert _max_diff(got_y, want_y) <= 1
    assert np.array_equal(got_uv, uv.reshape(40, 102))


def test_yuv_reference_round_trips_neutral_and_known_values() -> None:
    grey = np.full((4, 4, 3), 77, np.uint8)
    y, uv = rgb_to_nv12(grey)
    assert (y == 77).all() and (uv == 128).all()
    assert np.array_equal(nv12_to_rgb(y, uv), grey)
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    y, uv = rgb_to_nv12(red)  # JFIF: Y = 0.299 * 255, Cr = 255.5 -> 255
    assert y[0, 0] == 76 and tuple(uv[0, 0]) == (85, 255)
    yv, uvv = rgb_to_nv12(red, video=True)  # video range: Y = 16 + 65.481 = 81, Cr = 240
    assert yv[0, 0] == 81 and tuple(uvv[0, 0]) == (90, 240)


# --- bad input: error codes, never a crash --------------------------------------------------------
def _ready_plan(lib: C.CDLL, contract: Contract, w: int, h: int, fmt: str = "rgb"):  # noqa: ANN202
    wb = C.c_size_t()
    assert lib.edb_plan_work_bytes(C.byref(contract), FMT[fmt], w, h, C.byref(wb)) == EDB_OK
    work = np.zeros(wb.value // 8 + 1, np.uint64)
    plan = (C.c_uint64 * (lib.edb_sizeof_plan() // 8 + 1))()
    assert lib.edb_plan_init(plan, C.byref(contract), FMT[fmt], 0, w, h, work.ctypes.data, work.nbytes) == EDB_OK
    ib, ob = C.c_size_t(), C.c_size_t()
    assert lib.edb_plan_tensor_bytes(plan, C.byref(ib), C.byref(ob)) == EDB_OK
    return plan, work, np.zeros(ib.value // 4, np.float32), np.zeros(ob.value // 4, np.float32)


def test_bad_sizes_and_pointers_are_error_codes(fw_lib: C.CDLL, arts: dict) -> None:
    lib, c = fw_lib, contract_for(Manifest.read(arts["rgb_f32"]))
    wb = C.c_size_t()
    assert lib.edb_plan_work_bytes(None, 0, 10, 10, C.byref(wb)) == ERR_NULL
    assert lib.edb_plan_work_bytes(C.byref(c), 0, 10, 10, None) == ERR_NULL
    for w, h, want in [(0, 10, ERR_ARG), (10, -1, ERR_ARG), (100_000, 10, ERR_TOO_LARGE),
                       (2**31 - 1, 2**31 - 1, ERR_TOO_LARGE)]:
        assert lib.edb_plan_work_bytes(C.byref(c), 0, w, h, C.byref(wb)) == want
    assert lib.edb_plan_work_bytes(C.byref(c), 9, 10, 10, C.byref(wb)) == ERR_ARG  # unknown format
    assert lib.edb_plan_work_bytes(C.byref(c), FMT["nv12"], 11, 10, C.byref(wb)) == ERR_ARG  # odd NV12
    assert lib.edb_plan_work_bytes(C.byref(c), 0, 100, 80, C.byref(wb)) == EDB_OK
    work = np.zeros(wb.value // 8 + 1, np.uint64)
    plan = (C.c_uint64 * (lib.edb_sizeof_plan() // 8 + 1))()
    assert lib.edb_plan_init(plan, C.byref(c), 0, 0, 100, 80, work.ctypes.data, wb.value - 1) == ERR_SMALL
    assert lib.edb_plan_init(plan, C.byref(c), 0, 0, 100, 80, None, wb.value) == ERR_NULL
    assert lib.edb_plan_init(plan, C.byref(c), 0, 0, 100, 80, work.ctypes.data + 4, wb.value) == ERR_ARG
    assert lib.edb_plan_tensor_bytes(plan, C.byref(wb), C.byref(wb)) == ERR_STATE  # failed init
    zero = (C.c_uint64 * (lib.edb_sizeof_plan() // 8 + 1))()
    src = _image("rgb", [np.zeros((80, 100, 3), np.uint8)])
    dst = _image("rgb", [np.zeros((80, 100, 3), np.uint8)])
    t = np.zeros(64 * 64 * 3, np.float32)
    assert lib.edb_run(zero, C.byref(src), C.byref(dst), t.ctypes.data, t.nbytes, t.ctypes.data, t.nbytes,
                       INFER(lambda *a: 0), None) == ERR_STATE


def test_bad_buffers_and_failing_engine(fw_lib: C.CDLL, arts: dict) -> None:
    lib = fw_lib
    plan, _work, tin, tout = _ready_plan(lib, contract_for(Manifest.read(arts["rgb_f32"])), 100, 80)
    a, b = np.zeros((80, 100, 3), np.uint8), np.zeros((80, 100, 3), np.uint8)
    src, dst = _image("rgb", [a]), _image("rgb", [b])
    ok = INFER(lambda u, i, o: 0)

    def run(s=src, d=dst, tin_=tin, nin=None, tout_=tout, cb=ok):  # noqa: ANN001, ANN202
        return lib.edb_run(plan, C.byref(s) if s is not None else None, C.byref(d), tin_.ctypes.data,
                           tin_.nbytes if nin is None else nin, tout_.ctypes.data, tout_.nbytes, cb, None)

    assert run() == EDB_OK
    assert run(s=None) == ERR_NULL
    assert run(nin=tin.nbytes - 1) == ERR_SMALL
    assert run(tout_=tin) == ERR_ALIAS  # input and output tensor are the same buffer
    assert run(d=src) == ERR_ALIAS  # in-place is refused: later tiles still read the source
    short = _image("rgb", [a])
    short.plane_bytes[0] = a.nbytes - 1
    assert run(s=short) == ERR_SMALL
    wrong = _image("rgb", [np.zeros((80, 99, 3), np.uint8)])
    assert run(s=wrong) == ERR_ARG  # frame size differs from the plan
    assert run(cb=INFER(lambda u, i, o: 3)) == ERR_INFER

    def raising(u, i, o) -> int:  # noqa: ANN001
        try:
            raise RuntimeError("engine died")
        except RuntimeError:
            return 1

    assert run(cb=INFER(raising)) == ERR_INFER


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e30, -1e30, 4.5])
def test_extreme_float_outputs_saturate(fw_lib: C.CDLL, arts: dict, value: float) -> None:
    """A broken model (NaN, inf, huge values) gives a defined image, not undefined behaviour."""
    plan, _work, tin, tout = _ready_plan(fw_lib, contract_for(Manifest.read(arts["rgb_f32"])), 100, 80)
    out = np.full((80, 100, 3), 7, np.uint8)
    src, dst = _image("rgb", [np.zeros((80, 100, 3), np.uint8)]), _image("rgb", [out])

    def fill(u, i, o) -> int:  # noqa: ANN001
        tout[:] = value
        return 0

    cb = INFER(fill)
    assert fw_lib.edb_run(plan, C.byref(src), C.byref(dst), tin.ctypes.data, tin.nbytes, tout.ctypes.data,
                          tout.nbytes, cb, None) == EDB_OK
    assert (out == (255 if value > 1 else 0)).all()


def test_contract_checks(fw_lib: C.CDLL, arts: dict) -> None:
    base = contract_for(Manifest.read(arts["rgb_f32"]))
    assert fw_lib.edb_contract_check(C.byref(base)) == EDB_OK
    assert fw_lib.edb_contract_check(None) == ERR_NULL

    def variant(**changes) -> int:  # noqa: ANN003
        c = Contract.from_buffer_copy(base)
        for k, v in changes.items():
            if k.startswith("in_"):
                setattr(c.input, k[3:], v)
            else:
                setattr(c, k, v)
        return fw_lib.edb_contract_check(C.byref(c))

    assert variant(abi_version=2) == ERR_STATE
    assert variant(channels=4) == ERR_CONTRACT
    assert variant(tile_overlap=32) == ERR_CONTRACT  # overlap must be < tile / 2
    assert variant(model_h=32) == ERR_CONTRACT  # fixed model must be tiled at its size
    assert variant(pad_multiple=0) == ERR_CONTRACT
    assert variant(in_dtype=3) == ERR_UNSUPPORTED  # float16
    assert variant(in_range_hi=255.0) == ERR_UNSUPPORTED
    assert variant(in_dtype=DTYPE["int8"], in_scale=0.0) == ERR_CONTRACT
    assert variant(in_dtype=DTYPE["int8"], in_scale=0.01, in_zero_point=200) == ERR_CONTRACT


def test_model_sha256_check(fw_lib: C.CDLL, arts: dict) -> None:
    manifest = Manifest.read(arts["rgb_f32"])
    c = contract_for(manifest)
    model = manifest.artifact_path.read_bytes()
    buf = C.create_string_buffer(model, len(model))
    assert fw_lib.edb_verify_model(C.byref(c), buf, len(model)) == EDB_OK
    buf[len(model) // 2] = bytes([model[len(model) // 2] ^ 1])
    assert fw_lib.edb_verify_model(C.byref(c), buf, len(model)) == ERR_SHA256
    other = contract_for(Manifest.read(arts["rgb_i8_nhwc"]))  # a header generated for another model
    assert fw_lib.edb_verify_model(C.byref(other), C.create_string_buffer(model, len(model)), len(model)) == ERR_SHA256
    assert fw_lib.edb_verify_model(C.byref(c), None, 10) == ERR_NULL
    assert fw_lib.edb_verify_model(C.byref(c), buf, 0) == ERR_ARG
    digest = C.create_string_buffer(32)
    assert fw_lib.edb_sha256(b"abc", 3, digest) == EDB_OK
    assert digest.raw.hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
