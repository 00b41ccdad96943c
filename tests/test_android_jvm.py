"""The Android app's plain-JVM core (android-demo/core) against the Python runtime.

Compiles the core and its JUnit tests with ``javac`` and runs them on the golden vectors in
``tests/golden`` (tile grid, blend ramp, quantization, whole-image tiled restore). Also checks
the golden files are what the current Python runtime produces, so a runtime change that the
Java port does not follow fails here. Needs a JDK and Debian's ``junit4`` package.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "android-demo" / "core"
GOLDEN = ROOT / "tests" / "golden"
JARS = [Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest-core.jar")]
TEST_CLASSES = ["org.edgedeblur.core.GoldenVectorsTest", "org.edgedeblur.core.ManifestTest"]


def _load_golden_script():
    spec = importlib.util.spec_from_file_location("make_golden_vectors", ROOT / "benchmarks" / "make_golden_vectors.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_golden_vectors", module)
    spec.loader.exec_module(module)
    return module


def test_golden_files_match_current_python_runtime() -> None:
    golden = _load_golden_script()
    built = golden.build()
    assert sorted(built) == ["quant.json", "restore.json", "tiling.json"]
    for name, text in built.items():
        committed = (GOLDEN / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} is stale: run benchmarks/make_golden_vectors.py"


def test_golden_restore_cases_exercise_blending() -> None:
    """The restore vectors must include a multi-tile case whose output differs from its input."""
    import json

    cases = json.loads((GOLDEN / "restore.json").read_text(encoding="utf-8"))["cases"]
    tiled = next(c for c in cases if c["name"] == "int8_nhwc_tiled")
    assert tiled["height"] > 32 and tiled["width"] > 32
    assert tiled["image"] != tiled["expected"]


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    javac = shutil.which("javac")
    if javac is None:
        pytest.skip("javac not found: install a JDK 17 (apt-get install -y openjdk-17-jdk-headless)")
    missing = [str(j) for j in JARS if not j.is_file()]
    if missing:
        pytest.skip(f"JUnit 4 jars missing ({', '.join(missing)}): apt-get install -y junit4")
    out = tmp_path_factory.mktemp("jvm-classes")
    sources = sorted(str(p) for p in CORE.rglob("*.java"))
    proc = subprocess.run([javac, "-Xlint:all", "-Werror", "--release", "17", "-d", str(out),
                           "-cp", ":".join(map(str, JARS)), *sources],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"javac failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_core_compiles_without_android_imports(classes: Path) -> None:
    main_sources = list((CORE / "src" / "main").rglob("*.java"))
    assert len(main_sources) >= 8
    for src in main_sources:
        text = src.read_text(encoding="utf-8")
        assert "import android." not in text and "import org.json" not in text, src
    assert (classes / "org" / "edgedeblur" / "core" / "TiledRestorer.class").is_file()


def test_junit_core_matches_python_golden_vectors(classes: Path) -> None:
    cp = ":".join([str(classes), *map(str, JARS)])
    proc = subprocess.run(["java", f"-Dgolden.dir={GOLDEN}", "-cp", cp, "org.junit.runner.JUnitCore", *TEST_CLASSES],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"JUnit failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    assert "OK (9 tests)" in proc.stdout, proc.stdout
