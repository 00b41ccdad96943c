"""firmware/ under AddressSanitizer + UndefinedBehaviorSanitizer (default suite, a few
seconds), and a 60 s libFuzzer run (slow: ``pytest -m slow tests/test_firmware_sanitizers.py``).
Skipped with the apt packages to install when the compilers are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "firmware" / "scripts"


def test_selftest_and_bench_are_clean_under_asan_ubsan(tmp_path: Path) -> None:
    if not shutil.which("cmake") or not shutil.which("gcc"):
        pytest.skip("needs cmake and gcc (apt-get install -y cmake gcc)")
    done = subprocess.run(["bash", str(SCRIPTS / "run_sanitizers.sh"), str(tmp_path)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "clean" in done.stdout


@pytest.mark.slow
def test_fuzz_60s_finds_nothing(tmp_path: Path) -> None:
    if not shutil.which("cmake") or not shutil.which("clang"):
        pytest.skip("needs cmake and clang with libFuzzer (apt-get install -y clang libclang-rt-14-dev)")
    secs = os.environ.get("EDB_FUZZ_SECONDS", "60")
    done = subprocess.run(["bash", str(SCRIPTS / "run_fuzz.sh"), secs, str(tmp_path / "fuzz")],
                          capture_output=True, text=True, timeout=int(secs) + 600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "without a crash" in done.stdout
