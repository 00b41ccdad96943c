"""Copy an edge-export LiteRT artifact and its manifest into the Android app's assets.

The same job as ``./gradlew copyModel`` for machines without Gradle (and tested in this repo's
pytest): the manifest is validated with ``edgedeblur.runtime`` and the artifact's size and sha256
are checked, so the APK never ships a truncated or stale model. The app reads
``assets/model/model.manifest.json`` and the artifact file it names.

    python android-demo/scripts/copy_model.py /tmp/export/mnv2unet_s_deblur.tflite-int8.manifest.json
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from edgedeblur.errors import ArtifactError, EdgeDeblurError
from edgedeblur.runtime import Manifest

ASSETS = Path(__file__).resolve().parent.parent / "app" / "src" / "main" / "assets" / "model"


def copy_model(manifest_or_artifact: str | Path, assets: Path = ASSETS) -> Path:
    """Validate and copy; returns the copied manifest path. Replaces the folder atomically."""
    manifest = Manifest.read(manifest_or_artifact)
    if manifest.format != "tflite":
        raise ArtifactError("the Android app runs LiteRT artifacts only", path=manifest.path,
                            given=manifest.format, allowed="tflite (targets tflite-int8, tflite-fp32, tflite-fp16)",
                            hint="edge-export <model> --target tflite-int8")
    if manifest.dynamic_hw or manifest.tile is None:
        raise ArtifactError("the Android app needs a fixed-shape model with a tile size", path=manifest.path,
                            hint="export with --tile 256")
    for spec in (manifest.input, manifest.output):
        if spec.dtype == "float16":
            raise ArtifactError("float16 I/O tensors are not supported by the app", path=manifest.path,
                                given=spec.dtype, allowed="float32, int8, uint8")
    manifest.verify_files()
    assets.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".model-", dir=assets.parent))
    try:
        shutil.copyfile(manifest.artifact_path, staging / manifest.artifact_path.name)
        shutil.copyfile(manifest.path, staging / "model.manifest.json")
        if assets.exists():
            shutil.rmtree(assets)
        staging.rename(assets)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return assets / "model.manifest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", help="edge-export *.tflite-*.manifest.json (or the .tflite beside it)")
    parser.add_argument("--assets", type=Path, default=ASSETS, help=f"target folder (default: {ASSETS})")
    args = parser.parse_args(argv)
    try:
        out = copy_model(args.manifest, args.assets)
    except EdgeDeblurError as exc:
        print(f"copy_model: {exc}", file=sys.stderr)
        return 1
    print(f"copied {Manifest.read(out).data['artifact']['file']} + manifest -> {out.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
