"""The Android core's deblur pipeline (android-demo/core: Fft, RealFft2, DataStep, DeblurPipeline,
GyroPsf) against the Python runtime's golden vectors (tests/golden/deblur.json, written by
benchmarks/make_deblur_golden.py).

Compiles the core with ``javac`` and runs its JUnit 4 tests ``FftTest`` (FFT of every length
class against a naive DFT, the 2-D real FFT) and ``DeblurGoldenTest`` (gyro PSF grids from the
trace in seconds and as Android ``SensorEvent`` nanoseconds + floats; every prior input of the
six stand-in runs; the final uint8 image within 1 LSB). Needs a JDK and Debian's ``junit4``
package, like tests/test_android_jvm.py (skips with the install command otherwise).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "android-demo" / "core"
GOLDEN = ROOT / "tests" / "golden"
JARS = [Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest-core.jar")]
TEST_CLASSES = ["org.edgedeblur.core.FftTest", "org.edgedeblur.core.DeblurGoldenTest",
                "org.edgedeblur.core.TiledPriorTest"]
STAND_IN = ["linear_hqs_estimated_sigma", "srgb_hqs_given_sigma", "linear_wiener", "gyro_psf_linear", "denoise_only",
            "gyro_psf_srgb_two_passes"]


def test_golden_file_has_the_cases_the_java_test_expects() -> None:
    data = json.loads((GOLDEN / "deblur.json").read_text(encoding="utf-8"))
    names = [c["name"] for c in data["cases"] if c["prior"] == "stand-in"]
    assert names == STAND_IN
    assert sorted(data["gyro"]["grids"]) == ["1x1", "2x3"]


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    javac = shutil.which("javac")
    if javac is None:
        pytest.skip("javac not found: install a JDK 17 (apt-get install -y openjdk-17-jdk-headless)")
    missing = [str(j) for j in JARS if not j.is_file()]
    if missing:
        pytest.skip(f"JUnit 4 jars missing ({', '.join(missing)}): apt-get install -y junit4")
    out = tmp_path_factory.mktemp("jvm-deblur-classes")
    sources = sorted(str(p) for p in CORE.rglob("*.java"))
    proc = subprocess.run([javac, "-Xlint:all", "-Werror", "--release", "17", "-d", str(out),
                           "-cp", ":".join(map(str, JARS)), *sources],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"javac failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_deblur_sources_have_no_android_imports() -> None:
    for name in ("Fft", "RealFft2", "DataStep", "DeblurPipeline", "DeblurPrior", "GyroPsf", "TiledPrior"):
        text = (CORE / "src" / "main" / "java" / "org" / "edgedeblur" / "core" / f"{name}.java").read_text()
        assert "import android." not in text, name


def test_java_deblur_matches_python_golden_vectors(classes: Path) -> None:
    cp = ":".join([str(classes), *map(str, JARS)])
    proc = subprocess.run(["java", f"-Dgolden.dir={GOLDEN}", "-cp", cp, "org.junit.runner.JUnitCore", *TEST_CLASSES],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"JUnit failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    assert re.search(r"OK \(\d+ tests\)", proc.stdout), proc.stdout
    lines = [ln.lstrip(".") for ln in proc.stdout.splitlines() if "deblur-golden" in ln]  # JUnit prints dots first
    print("\n".join(lines))
    for name in STAND_IN:
        line = next(ln for ln in lines if ln.startswith(f"deblur-golden {name}:"))
        assert int(re.search(r"output max (\d+) LSB", line).group(1)) <= 1, line
    assert sum("gyro" in ln and "kernels" in ln for ln in lines) == 2
