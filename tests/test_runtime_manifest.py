"""The manifest contract: schema, pure-python validator (agrees with jsonschema), reader, writer."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from edgedeblur.errors import ArtifactError
from edgedeblur.runtime import (
    Manifest,
    manifest_path_for,
    sha256_file,
    validate_manifest,
    write_manifest,
)
from edgedeblur.runtime.manifest import load_schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "manifest.md"


def _doc_example() -> dict:
    """The example in docs/manifest.md, with its '…' placeholders filled in."""
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    data = json.loads(block.replace('"…"', '"x"'))
    data["artifact"]["sha256"] = "0" * 64
    return data


def test_doc_example_is_valid_for_both_validators() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = _doc_example()
    validate_manifest(data)
    jsonschema.validate(data, load_schema())


BAD_EDITS = {
    "missing io": lambda d: d.pop("io"),
    "wrong schema_version": lambda d: d.update(schema_version=2),
    "bad sha": lambda d: d["artifact"].update(sha256="xyz"),
    "path in file": lambda d: d["artifact"].update(file="../evil.tflite"),
    "bad layout": lambda d: d["io"]["input"].update(layout="HWC"),
    "bad dtype": lambda d: d["io"]["input"].update(dtype="int4"),
    "rank 3": lambda d: d["io"]["input"].update(shape=[1, 256, 256]),
    "negative pad": lambda d: d["io"].update(pad_multiple=0),
    "tile without overlap": lambda d: d["io"].update(tile={"size": 256}),
    "bool as int": lambda d: d["artifact"].update(bytes=True),
}

RULE_EDITS = {
    "int8 without scale": lambda d: d["io"]["input"].update(scale=None),
    "zero point out of range": lambda d: d["io"]["output"].update(zero_point=200),
    "fixed shape but dynamic": lambda d: d["io"].update(dynamic_hw=True),
    "tile differs from shape": lambda d: d["io"].update(tile={"size": 128, "overlap": 8}),
    "overlap too big": lambda d: d["io"].update(tile={"size": 256, "overlap": 128}),
    "channels differ": lambda d: d["io"]["output"].update(shape=[1, 256, 256, 1]),
    "float with scale": lambda d: d["io"]["input"].update(dtype="float32"),
}


@pytest.mark.parametrize("name", sorted(BAD_EDITS))
def test_schema_violations_agree_with_jsonschema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = copy.deepcopy(_doc_example())
    BAD_EDITS[name](data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, load_schema())
    with pytest.raises(ArtifactError, match="invalid manifest"):
        validate_manifest(data)


@pytest.mark.parametrize("name", sorted(RULE_EDITS))
def test_rules_beyond_the_schema(name: str) -> None:
    data = copy.deepcopy(_doc_example())
    RULE_EDITS[name](data)
    with pytest.raises(ArtifactError, match="invalid manifest"):
        validate_manifest(data)


def test_write_read_round_trip_and_paths(tmp_path: Path) -> None:
    model = tmp_path / "net.int8.tflite"
    model.write_bytes(b"model bytes")
    data = _doc_example()
    data["artifact"].update(file=model.name, sha256=sha256_file(model), bytes=model.stat().st_size)
    path = write_manifest(manifest_path_for(model), data)
    assert path.name == "net.int8.manifest.json"
    m = Manifest.read(model)  # the artifact path works too
    assert m.data == data and m.artifact_path == model
    assert m.input.layout == "NHWC" and m.input.channels == 3 and m.input.height == 256
    assert m.input.quantized and m.input.zero_point == -128 and m.tile == (256, 16)
    assert m.field_overlap == 16 and m.receptive_field["radius"] == 114  # the documented example
    m.verify_files()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([model.name, path.name])
    assert not list(tmp_path.glob(".*"))  # no temp file left behind


def test_invalid_data_is_never_written(tmp_path: Path) -> None:
    data = _doc_example()
    data["io"]["input"]["dtype"] = "int4"
    with pytest.raises(ArtifactError):
        write_manifest(tmp_path / "x.manifest.json", data)
    assert not list(tmp_path.iterdir())


def test_reader_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="manifest not found"):
        Manifest.read(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.manifest.json"
    bad.write_text("{not json")
    with pytest.raises(ArtifactError, match=r"bad\.manifest\.json.*not valid JSON"):
        Manifest.read(bad)


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    f = tmp_path / "blob"
    f.write_bytes(b"\x01" * 3_000_001)
    assert sha256_file(f) == hashlib.sha256(f.read_bytes()).hexdigest()


# --- a deblur pipeline prior: 4-channel input (RGB + noise map) and the pipeline section -------

def _doc_prior_fragment() -> dict:
    """The prior's fragment in docs/manifest.md (the second json block)."""
    text = DOC.read_text(encoding="utf-8")
    return json.loads(re.findall(r"```json\n(.*?)```", text, re.S)[1])


def _prior_example() -> dict:
    """The doc example turned into a prior's manifest by the doc's prior fragment."""
    data = _doc_example()
    frag = _doc_prior_fragment()
    data["model"].update(frag["model"])
    data["io"] = {**data["io"], **frag["io"], "dynamic_hw": True, "tile": None, "pad_multiple": 16}
    data["pipeline"] = frag["pipeline"]
    return data


def test_doc_prior_fragment_is_what_the_exporter_writes() -> None:
    from edgedeblur.runtime.pipeline import NOISE_MAP_SCALE, PipelineConfig

    frag = _doc_prior_fragment()
    assert frag["pipeline"] == PipelineConfig().to_dict()  # keep docs/manifest.md true
    assert frag["io"]["conditioning"] == {"noise_map": {"channel": 3, "scale": NOISE_MAP_SCALE}}


def test_prior_manifest_is_valid_for_both_validators() -> None:
    data = _prior_example()
    validate_manifest(data)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, load_schema())


PRIOR_RULE_EDITS = {
    "4 channels without conditioning": (lambda d: d["io"].pop("conditioning"), "io.conditioning is missing"),
    "conditioning null": (lambda d: d["io"].update(conditioning=None), "io.conditioning is missing"),
    "4-channel output": (lambda d: d["io"]["output"].update(shape=[1, 4, -1, -1]), "3-channel output"),
    "noise map in channel 0": (lambda d: d["io"]["conditioning"]["noise_map"].update(channel=0),
                               "channel must be 3"),
    "other noise map scale": (lambda d: d["io"]["conditioning"]["noise_map"].update(scale=1 / 255),
                              "differs from this runtime"),
    "conditioning on rgb": (lambda d: (d["io"]["input"].update(shape=[1, 3, -1, -1]), d.pop("pipeline")),
                            "only for a 4-channel input"),
    "pipeline on rgb": (lambda d: (d["io"]["input"].update(shape=[1, 3, -1, -1]), d["io"].pop("conditioning")),
                        "pipeline: a deblur pipeline needs"),
    "pipeline unknown key": (lambda d: d["pipeline"].update(strength=3), "unknown deblur pipeline settings"),
    "pipeline bad mode": (lambda d: d["pipeline"].update(mode="magic"), "unknown deblur pipeline mode"),
    "pipeline bad iterations": (lambda d: d["pipeline"].update(iterations=0), "iterations"),
    "pipeline bad noise scale": (lambda d: d["pipeline"].update(noise_map_scale=0.5), "noise_map_scale"),
    "five channels": (lambda d: d["io"]["input"].update(shape=[1, 5, -1, -1]), "channel dim must be 1 or 3 or 4"),
}


@pytest.mark.parametrize("name", sorted(PRIOR_RULE_EDITS))
def test_prior_rules(name: str) -> None:
    data = copy.deepcopy(_prior_example())
    edit, message = PRIOR_RULE_EDITS[name]
    edit(data)
    with pytest.raises(ArtifactError, match=re.escape(message)):
        validate_manifest(data, "prior.manifest.json")


@pytest.mark.parametrize("section", [{"kind": "other"}, {"mode": "wiener"}, "wiener", ["wiener"]])
def test_pipeline_section_schema(section) -> None:
    data = _prior_example()
    data["pipeline"] = section
    with pytest.raises(ArtifactError, match="invalid manifest.*pipeline"):
        validate_manifest(data)
    jsonschema = pytest.importorskip("jsonschema")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, load_schema())


def test_malformed_pipeline_is_refused_on_read_naming_the_manifest(tmp_path: Path) -> None:
    model = tmp_path / "prior.onnx"
    model.write_bytes(b"model bytes")
    data = _prior_example()
    data["artifact"].update(file=model.name, sha256=sha256_file(model), bytes=model.stat().st_size)
    path = write_manifest(manifest_path_for(model), data)
    m = Manifest.read(path)
    assert m.pipeline == data["pipeline"] and m.conditioning == {"noise_map": {"channel": 3, "scale": 0.02}}
    assert m.input.channels == 4 and m.output.channels == 3
    data["pipeline"]["prior_scale"] = -1.0
    path.write_text(json.dumps(data))  # edited by hand, not through write_manifest
    with pytest.raises(ArtifactError, match=r"prior\.manifest\.json: invalid manifest: pipeline: .*prior_scale"):
        Manifest.read(path)
