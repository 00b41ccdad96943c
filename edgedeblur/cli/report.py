"""edge-report: merge edge-bench results from many devices into one report.

Reads JSON Lines files written by edge-bench (one per device, or appended together) and merges
rows of one device x artifact x backend x threads: repeated rounds on the same artifact file
(same checksum) become one row whose latencies are the median of the rounds' medians, so run
edge-bench several times, interleaved, for steadier figures; rows of an older export of the same
name are dropped. It writes into the output folder:
report.md (a table per device), pareto_<device>.png (PSNR vs 720p latency with the Pareto
front marked) and report.html (one self-contained page with the plots inlined).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import EXIT_OK, EXIT_SOME_FAILED, cli_entry

EXAMPLES = """examples:
  edge-report pi5.jsonl jetson.jsonl pixel8.jsonl -o report/
  edge-report results/*.jsonl -o docs/bench --no-plots
  for r in 1 2 3; do edge-bench a.manifest.json b.manifest.json -o rounds.jsonl; done
  edge-report rounds.jsonl -o report/          # each artifact: median of its 3 rounds
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="edge-report", description=__doc__, epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", type=Path, help="JSON Lines files written by edge-bench")
    p.add_argument("-o", "--output", type=Path, default=Path("bench-report"),
                   help="output folder (created; default: %(default)s)")
    p.add_argument("--no-plots", action="store_true", help="tables only (no matplotlib needed)")
    return p


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ..bench.report import merge_repeats, write_report
    from ..bench.results import read_rows
    from ..errors import OutputPathError

    if args.output.exists() and not args.output.is_dir():
        raise OutputPathError("output must be a folder", path=args.output, hint="give a folder name with -o")
    if any(p.resolve().parent == args.output.resolve() and p.suffix in (".md", ".html") for p in args.results):
        raise OutputPathError("an input would be overwritten", path=args.output)
    rows, problems = read_rows(args.results)
    written = write_report(rows, args.output, problems, plots=not args.no_plots)
    merged = merge_repeats(rows)
    ok = sum(r.get("status") == "ok" for r in merged)
    devices = len({r.get("device_id") for r in merged})
    print(f"{len(rows)} rows read from {len(args.results)} file(s); {len(merged)} after merging "
          f"({ok} ok, {len(merged) - ok} failed) on {devices} device(s)", file=sys.stderr)
    for p in problems:
        print(f"  skipped {p}", file=sys.stderr)
    for what, path in written.items():
        print(f"  wrote {what}: {path}", file=sys.stderr)
    return EXIT_SOME_FAILED if problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
