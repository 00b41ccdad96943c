"""edgedeblur-c-header: an exported model's I/O contract as a C header for camera firmware.

Thin command: parse, call :func:`edgedeblur.export.c_header.write_c_header`, print a summary.
"""

from __future__ import annotations

import argparse
import sys

from ._common import EXIT_OK, cli_entry

DESCRIPTION = """\
Write the I/O contract of an exported model (shape, layout, dtype, scale/zero point, tile size,
overlap, padding multiple, model sha256) as C constants for the edgedeblur firmware library
(firmware/ in the source tree), and optionally the model bytes as an aligned array for firmware
without a file system.

  edgedeblur-c-header out/model.fp32.manifest.json -o model_contract.h
  edgedeblur-c-header out/model.int8.xml -o model_contract.h --embed-model

In C:  static const edb_contract contract = EDB_MODEL_CONTRACT_INIT;
See docs/firmware.md for the walk-through from edge-export to a restored frame on the device.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="edgedeblur-c-header", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest", help="the artifact's <stem>.manifest.json, or the artifact beside it")
    p.add_argument("-o", "--output", default="model_contract.h",
                   help="header to write (default: model_contract.h; written atomically)")
    p.add_argument("--embed-model", action="store_true",
                   help="also embed the model file (and an OpenVINO .bin) as 64-byte aligned arrays, "
                        "compiled where EDB_MODEL_EMBED_DATA is defined")
    p.add_argument("--max-pixels", type=int, default=None, metavar="N",
                   help="dynamic-H/W models: run frames of at most N pixels whole, tile larger ones "
                        "(default: the Python runtime's 2000000, so C and Python agree; 0 = always tile)")
    p.add_argument("--tile", type=int, default=None, metavar="N",
                   help="dynamic-H/W models: tile side (default: the manifest's, else 512); smaller tiles "
                        "need less working memory on the device")
    p.add_argument("--overlap", type=int, default=None, metavar="N",
                   help="dynamic-H/W models: overlap between tiles (default: the manifest's, else 32)")
    return p


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..export.c_header import DEFAULT_MAX_PIXELS, c_contract, write_c_header
    from ..runtime.manifest import Manifest

    max_pixels = DEFAULT_MAX_PIXELS if args.max_pixels is None else args.max_pixels
    out = write_c_header(args.manifest, args.output, embed_model=args.embed_model, max_pixels=max_pixels,
                         tile=args.tile, overlap=args.overlap)
    manifest = Manifest.read(args.manifest)
    c = c_contract(manifest, max_pixels=max_pixels, tile=args.tile, overlap=args.overlap)
    ins = c["input"]
    size = out.stat().st_size
    print(f"wrote {out} ({size / 1024:.1f} KiB) for {manifest.name} [{manifest.format}, {manifest.precision}]",
          file=sys.stderr)
    print(f"  input {ins.layout} {ins.dtype} {list(ins.shape)}"
          + (f" scale={ins.scale:g} zero_point={ins.zero_point}" if ins.quantized else "")
          + f"; tile {c['tile_size']} overlap {c['tile_overlap']} pad_multiple {c['pad_multiple']}"
          + f"; sha256 {c['sha256'][:12]}…"
          + ("; model embedded" if args.embed_model else ""), file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
