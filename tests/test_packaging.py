"""A non-editable install ships every data file the package reads (weights, cards, genomes, recipes).

The test suite runs against an editable install, where a data file missing from the wheel still
resolves from the source tree; a user's ``pip install edgedeblur`` would then fail at run time
(``create_model(pretrained=True)`` without its weights, ``edge-train NAME`` without its recipe).
So build the real wheel from the tracked files and compare.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked(under: str) -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", under], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked file list is unknown")
    return [line for line in out.stdout.splitlines() if line]


def test_wheel_holds_every_tracked_package_file(tmp_path):
    pytest.importorskip("setuptools")
    files = _tracked("edgedeblur") + _tracked("pyproject.toml") + _tracked("README.md")
    src = tmp_path / "src"
    for rel in files:  # a copy of exactly what a clean clone has: no build/ or egg-info residue
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    dist = tmp_path / "dist"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                          "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    (wheel,) = dist.glob("edgedeblur-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    wanted = [f for f in files if f.startswith("edgedeblur/") and "__pycache__" not in f]
    missing = [f for f in wanted if f not in shipped]
    assert not missing, f"tracked files left out of the wheel (add them to package-data): {missing}"
    # the data the zoo reads at run time, by kind, so a glob change cannot silently empty one
    for kind in ("models/weights/", "models/cards/", "models/genomes/", "train/recipes/", "bench/evalset/"):
        assert any(f.startswith("edgedeblur/" + kind) for f in shipped), kind
    entry_points = next(n for n in shipped if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for command in ("edge-export", "edge-deblur", "edge-train", "edge-nas", "edge-bench"):
        assert f"{command} =" in text, command
