"""Regenerate the architecture table of ``docs/zoo.md`` from the registry.

Params and MACs per 1280x720 frame are computed from the nets (``edgedeblur.models.get_card``:
forward hooks on Conv/Linear, H and W rounded up to ``pad_multiple``), so the table cannot
drift from the code. Only the text between ``<!-- zoo-table:start -->`` and
``<!-- zoo-table:end -->`` is rewritten; everything else in the page (including the measured
table the training script appends) is left alone.

With ``--time``, also measures ONNX Runtime fp32 latency of each distinct architecture on one
1280x720 frame (each model exported at 720x1280, median of ``--runs`` runs after a warm-up,
``--threads`` intra-op threads) and the ratio to deblurganv2_mnv2 measured in the same run.

Run: ``.venv/bin/python benchmarks/zoo_table.py [--time]``.
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "zoo.md"
START, END = "<!-- zoo-table:start -->", "<!-- zoo-table:end -->"
BASELINE = "deblurganv2_mnv2_deblur"


def _arch_key(zoo, name: str) -> str:  # noqa: ANN001
    entry = zoo._registry._REGISTRY[name]
    return f"{entry.family}:{sorted(entry.arch.items())}"


def ort_latency_ms(name: str, runs: int, threads: int) -> float:
    """Median ONNX Runtime fp32 latency (ms) of the deploy form on one 736x1280 (padded 720p) input."""
    import warnings

    import numpy as np
    import onnxruntime as ort
    import torch

    import edgedeblur.models as zoo

    model = zoo.create_model(name, pretrained=False).to_deploy()
    m = model.pad_multiple
    h, w = -(-720 // m) * m, -(-1280 // m) * m
    x = torch.rand(1, 3, h, w)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "m.onnx"
        torch.onnx.export(model, (x,), str(path), opset_version=17, dynamo=False,
                          input_names=["input"], output_names=["output"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        feed = {"input": x.numpy().astype(np.float32)}
        sess.run(None, feed)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            sess.run(None, feed)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def build_table(timed: dict[str, float] | None) -> str:
    import edgedeblur.models as zoo

    head = "| entry | family | task | params | GMAC / 720p | pad multiple |"
    sep = "|---|---|---|---|---|---|"
    if timed:
        head += " ORT fp32 720p ms (x vs DeblurGAN-v2) |"
        sep += "---|"
    rows = [head, sep]
    for name in zoo.list_models():
        c = zoo.get_card(name)
        row = (f"| `{name}` | {c.family} | {c.task} | {c.params / 1e6:.3f} M | "
               f"{c.macs_720p / 1e9:.2f} | {c.io['pad_multiple']} |")
        if timed:
            ms = timed.get(_arch_key(zoo, name))
            base = timed.get(_arch_key(zoo, BASELINE))
            row += f" {ms:.0f} ({ms / base:.2f}x) |" if ms and base else " - |"
        rows.append(row)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time", action="store_true", help="also measure ORT fp32 latency")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args(argv)

    import edgedeblur.models as zoo

    timed = None
    note = ("Params and MACs computed by `benchmarks/zoo_table.py` from the registry "
            "(Conv/Linear multiply-accumulates, H and W rounded up to the pad multiple).")
    if args.time:
        import onnxruntime
        import torch

        torch.set_num_threads(args.threads)
        timed = {}
        for name in zoo.list_models():
            key = _arch_key(zoo, name)
            if key not in timed:
                timed[key] = ort_latency_ms(name, args.runs, args.threads)
                print(f"{name}: {timed[key]:.0f} ms", file=sys.stderr)
        note += (f" Latency: ONNX Runtime {onnxruntime.__version__} fp32, median of {args.runs} runs, "
                 f"{args.threads} threads, one 1280x720 frame (padded), on {platform.machine()} "
                 f"'{platform.processor() or 'cpu'}' - this project's 2-core AMD EPYC (AVX2) build "
                 "machine, shared, so compare ratios, not absolute ms.")
    block = f"{START}\n{note}\n\n{build_table(timed)}\n{END}"
    text = args.doc.read_text(encoding="utf-8") if args.doc.exists() else f"# Model zoo\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n{START}\n{END}\n"
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    args.doc.write_text(text, encoding="utf-8")
    print(f"updated {args.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
