"""Per-layer INT8 sensitivity and the float fallback every INT8 route without its own tool shares.

The rule is openvino-int8's (NNCF accuracy control), measured by the project itself where a
toolchain has no such tool (onnx-int8, tflite-int8, ncnn-int8):

1. the metric is mean PSNR vs the clean calibration patches; ``drop(keep, n)`` is how much the
   INT8 file with the layers ``keep`` left in float loses against the float model on the first
   ``n`` of them (each route builds and runs that file itself);
2. when the all-INT8 file loses more than ``max_drop`` (half the target's parity budget) on all
   calibration patches, every candidate layer is ranked once by what keeping it alone in float
   regains on the first ``RANK_PATCHES`` patches (its *sensitivity*, dB);
3. the most sensitive layers go back to float one at a time, best first, until the drop on all
   calibration patches is at most ``max_drop`` (at most a quarter of the layers, none that
   regains less than ``MIN_GAIN_DB`` alone).

The held-out parity is measured afterwards by the export, as for every target. The record (the
manifest's ``export.quantization.accuracy_control``) names the layers kept in float and the
ranking, so a user sees which layers cost how much (``edge-export`` prints its top lines).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: patches the one-layer-at-a-time ranking runs on (the acceptance check uses all of them)
RANK_PATCHES = 4
#: a layer whose return to float alone regains less than this is never kept float: a loss spread
#: over every activation (measured: tflite-int8 and onnx-int8 on the default denoiser, no layer
#: above 0.03-0.07 dB) is not what a float fallback fixes, and each float layer costs speed
MIN_GAIN_DB = 0.01
#: ranking entries kept in the manifest (all of them for the zoo's nets: about 50 convolutions)
MAX_RANKED = 64

DropFn = Callable[[set[str], int], float]


def select_float_layers(candidates: Sequence[str], drop: DropFn, patches: int, max_drop: float,
                        metric: str = "PSNR vs clean on the calibration patches", rank: bool = False,
                        max_fraction: float = 0.25) -> tuple[list[str], dict]:
    """(layers to keep in float, the manifest record of the search).

    ``rank`` ranks every layer even when the all-INT8 file already meets ``max_drop`` (for a
    report); otherwise a file that meets it costs one evaluation.
    """
    initial = drop(set(), patches)
    record: dict = {"metric": metric, "max_drop_db": round(max_drop, 4), "initial_drop_db": round(initial, 4),
                    "candidates": len(candidates)}
    if initial <= max_drop and not rank:
        return [], {**record, "final_drop_db": round(initial, 4), "float_ops": [], "met": True, "sensitivity": []}
    n = min(RANK_PATCHES, patches)
    all_int8 = drop(set(), n)
    ranked = sorted(((all_int8 - drop({name}, n), name) for name in candidates), key=lambda gn: (-gn[0], gn[1]))
    record["sensitivity"] = [{"layer": name, "gain_db": round(gain, 4)} for gain, name in ranked[:MAX_RANKED]]
    record["sensitivity_patches"] = n
    keep: list[str] = []
    current = initial
    if initial > max_drop:
        for gain, name in ranked[:max(1, int(len(candidates) * max_fraction))]:
            if gain < MIN_GAIN_DB:
                break  # nothing left that helps enough to pay for a float layer
            keep.append(name)
            current = drop(set(keep), patches)
            if current <= max_drop:
                break
    return keep, {**record, "final_drop_db": round(current, 4), "float_ops": keep, "met": current <= max_drop}


def report_lines(control: dict | None, top: int = 5) -> list[str]:
    """A few lines for the CLI: the calibration drop before/after and the costliest layers."""
    if not control:
        return []
    kept = f"{len(control.get('float_ops', []))} layer(s) kept float"
    if "initial_drop_db" in control:
        lines = [f"calib drop {control['initial_drop_db']:+.3f} -> {control.get('final_drop_db', float('nan')):+.3f} "
                 f"dB (limit {control.get('max_drop_db')}), {kept}"]
    else:  # NNCF's own ranking: only its choice is known
        lines = [f"accuracy control (limit {control.get('max_drop_db')} dB on the calibration patches): {kept}"]
    for entry in (control.get("sensitivity") or [])[:top]:
        mark = " [float]" if entry["layer"] in control.get("float_ops", []) else ""
        lines.append(f"  {entry['gain_db']:+.3f} dB  {short_name(entry['layer'])}{mark}")
    if not control.get("sensitivity") and control.get("float_ops"):
        lines.append("  float: " + ", ".join(short_name(n) for n in control["float_ops"][:top]))
    return lines


def short_name(name: str, width: int = 72) -> str:
    """A layer name for a terminal line: TFLite scope names are long module paths; keep the end."""
    name = name.split(";")[0] if ";" in name.rstrip(";") else name.rstrip(";")
    return name if len(name) <= width else "..." + name[-(width - 3):]
