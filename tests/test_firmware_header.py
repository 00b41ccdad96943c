"""edgedeblur-c-header and the OpenVINO C API example (firmware/examples/ov_restore.c).

The header is generated from a real manifest, compiled into the example program with CMake
against the OpenVINO wheel's C API, and the program restores a PPM and a raw NV12 frame; its
output must match the Python runtime within 1 LSB. The embedded-model header runs without any
model file; a tampered model is refused by the sha256 check before OpenVINO loads it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_firmware import FIRMWARE, build_ov_artifact, nv12_to_rgb, rgb_to_nv12

from edgedeblur.cli.c_header import main as c_header_main
from edgedeblur.errors import ExportError, OutputPathError
from edgedeblur.export.c_header import render_c_header, write_c_header
from edgedeblur.io import read_image
from edgedeblur.runtime import load
from edgedeblur.runtime.manifest import Manifest


@pytest.fixture(scope="module")
def art(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("openvino")
    return build_ov_artifact(tmp_path_factory.mktemp("hdr_art"), channels=3, size=64)


@pytest.fixture(scope="module")
def photo(shared_data: Path) -> np.ndarray:
    return read_image(sorted((shared_data / "eval" / "cbsd68").iterdir())[7])


def _build_example(build: Path, contract_dir: Path) -> Path:
    import openvino

    if not shutil.which("cmake") or not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("cmake and a C compiler are needed to build firmware/ (apt-get install cmake gcc)")
    ov_cmake = Path(openvino.__file__).parent / "cmake"
    if not (ov_cmake / "OpenVINOConfig.cmake").exists():
        pytest.skip(f"the openvino wheel has no C API CMake config at {ov_cmake}")
    subprocess.run(["cmake", "-S", str(FIRMWARE), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                    f"-DEDB_OPENVINO_DIR={ov_cmake}", f"-DEDB_CONTRACT_DIR={contract_dir}"],
                   check=True, capture_output=True)
    done = subprocess.run(["cmake", "--build", str(build), "--target", "edb_ov_restore", "-j2"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return build / "edb_ov_restore"


@pytest.fixture(scope="module")
def example(art: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hdr_build")
    write_c_header(art, d / "model_contract.h")
    return _build_example(d / "build", d)


def _ppm(path: Path, img: np.ndarray) -> Path:
    kind = b"P6" if img.ndim == 3 else b"P5"
    path.write_bytes(kind + f"\n{img.shape[1]} {img.shape[0]}\n255\n".encode() + img.tobytes())
    return path


def _read_ppm(path: Path, shape: tuple) -> np.ndarray:
    data = path.read_bytes()
    return np.frombuffer(data[len(data) - int(np.prod(shape)):], np.uint8).reshape(shape)


def _diff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max())


# --- the generator ----------------------------------------------------------------------------------
def test_header_carries_the_contract(art: Path) -> None:
    m = Manifest.read(art)
    text = render_c_header(m)
    assert f'#define EDB_MODEL_SHA256 "{m.data["artifact"]["sha256"]}"' in text
    assert "#define EDB_MODEL_INPUT_SHAPE {1, 3, 64, 64}" in text
    assert "#define EDB_MODEL_INPUT_LAYOUT EDB_LAYOUT_NCHW" in text
    assert "#define EDB_MODEL_TILE_SIZE 64" in text and "#define EDB_MODEL_TILE_OVERLAP 8" in text
    assert "#define EDB_MODEL_PAD_MULTIPLE 4" in text
    assert "edb_model_data" not in text  # only with embed_model


def test_quantized_scale_literal_is_the_float32_value(tmp_path: Path) -> None:
    import struct

    m = Manifest.read(build_ov_artifact(tmp_path, channels=1, size=32, layout="NHWC", dtype="int8"))
    text = render_c_header(m)
    line = next(x for x in text.splitlines() if x.startswith("#define EDB_MODEL_INPUT_SCALE"))
    literal = line.split()[2].rstrip("f")
    f32 = struct.unpack("<f", struct.pack("<f", 1 / 255))[0]
    assert struct.unpack("<f", struct.pack("<f", float(literal)))[0] == f32
    assert "#define EDB_MODEL_INPUT_ZERO_POINT -128" in text
    assert "#define EDB_MODEL_INPUT_DTYPE EDB_DTYPE_INT8" in text


def test_unsupported_manifests_and_paths_are_refused(art: Path, tmp_path: Path) -> None:
    data = json.loads(Manifest.read(art).path.read_text())
    for t in ("input", "output"):
        data["io"][t]["dtype"] = "float16"
    bad = tmp_path / "half.manifest.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ExportError, match="float16"):
        write_c_header(bad, tmp_path / "x.h")
    with pytest.raises(OutputPathError):
        write_c_header(art, Manifest.read(art).path.with_suffix(".h").with_name(art.name))  # not .h
    with pytest.raises(ExportError, match="fixed-shape"):
        write_c_header(art, tmp_path / "x.h", tile=32)
    with pytest.raises(OutputPathError, match="does not exist"):
        write_c_header(art, tmp_path / "missing" / "x.h")
    assert not (tmp_path / "x.h").exists()


def test_cli_writes_header_and_reports_errors(art: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "model_contract.h"
    assert c_header_main([str(art), "-o", str(out), "--embed-model"]) == 0
    text = out.read_text()
    assert "edb_model_data" in text and "edb_model_weights" in text
    assert "wrote" in capsys.readouterr().err
    assert c_header_main([str(tmp_path / "nope.manifest.json"), "-o", str(out)]) == 2
    assert "manifest not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        c_header_main(["--help"])
    assert "firmware" in capsys.readouterr().out


# --- the example program against the OpenVINO C API ------------------------------------------------
def test_example_restores_ppm_like_the_python_runtime(example: Path, art: Path, photo: np.ndarray,
                                                      tmp_path: Path) -> None:
    img = np.ascontiguousarray(photo[:101, :150])
    src, dst = _ppm(tmp_path / "in.ppm", img), tmp_path / "out.ppm"
    xml = Manifest.read(art).artifact_path
    done = subprocess.run([str(example), "--model", str(xml), "--threads", "1", str(src), str(dst)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout
    want = load(art, backend="openvino", threads=1).restore(img)
    assert _diff(_read_ppm(dst, img.shape), want) <= 1


def test_example_restores_raw_nv12(example: Path, art: Path, photo: np.ndarray, tmp_path: Path) -> None:
    y, uv = rgb_to_nv12(np.ascontiguousarray(photo[:90, :130]))
    src, dst = tmp_path / "in.nv12", tmp_path / "out.nv12"
    src.write_bytes(y.tobytes() + uv.tobytes())
    xml = Manifest.read(art).artifact_path
    done = subprocess.run([str(example), "--model", str(xml), "--nv12", "130x90", str(src), str(dst)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = np.frombuffer(dst.read_bytes(), np.uint8)
    want_y, want_uv = rgb_to_nv12(load(art, backend="openvino", threads=1).restore(nv12_to_rgb(y, uv)))
    assert _diff(out[:y.size].reshape(y.shape), want_y) <= 1
    assert _diff(out[y.size:].reshape(want_uv.shape), want_uv) <= 1


def test_example_refuses_tampered_model_and_bad_arguments(example: Path, art: Path, tmp_path: Path,
                                                         photo: np.ndarray) -> None:
    m = Manifest.read(art)
    xml, bin_ = tmp_path / "m.xml", tmp_path / "m.bin"
    shutil.copy(m.artifact_path, xml)
    weights = bytearray(m.weights_path.read_bytes())
    weights[100] ^= 0x40
    bin_.write_bytes(bytes(weights))
    src = _ppm(tmp_path / "in.ppm", np.ascontiguousarray(photo[:40, :40]))
    done = subprocess.run([str(example), "--model", str(xml), str(src), str(tmp_path / "o.ppm")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "sha256" in done.stderr
    assert not (tmp_path / "o.ppm").exists()
    same = subprocess.run([str(example), "--model", str(m.artifact_path), str(src), str(src)],
                          capture_output=True, text=True, timeout=60)
    assert same.returncode == 2 and "never overwrites" in same.stderr
    odd = subprocess.run([str(example), "--nv12", "13x9", str(src), str(tmp_path / "o.nv12")],
                         capture_output=True, text=True, timeout=60)
    assert odd.returncode == 2 and "--nv12" in odd.stderr


def test_embedded_model_runs_without_files(art: Path, photo: np.ndarray, tmp_path: Path) -> None:
    write_c_header(art, tmp_path / "model_contract.h", embed_model=True)
    exe = _build_example(tmp_path / "build", tmp_path)
    img = np.ascontiguousarray(photo[:64, :90])
    src, dst = _ppm(tmp_path / "in.ppm", img), tmp_path / "out.ppm"
    done = subprocess.run([str(exe), str(src), str(dst)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    want = load(art, backend="openvino", threads=1).restore(img)
    assert _diff(_read_ppm(dst, img.shape), want) <= 1
