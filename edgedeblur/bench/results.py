"""JSON Lines results: append one row at a time (a crash keeps earlier rows), read many files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import ImageReadError, InvalidInputError

__all__ = ["append_row", "read_rows"]


def append_row(path: str | Path, row: dict) -> None:
    """Append ``row`` as one line with a single write + fsync, so concurrent or interrupted
    runs never leave half a row in the file."""
    line = (json.dumps(row, sort_keys=True, allow_nan=False, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_rows(paths: Iterable[str | Path]) -> tuple[list[dict], list[str]]:
    """All rows of the given JSON Lines files, and one problem string per unreadable line."""
    paths = [Path(p) for p in paths]
    rows, problems = [], []
    for path in paths:
        if not path.is_file():
            raise ImageReadError("results file does not exist", path=path, hint="give the .jsonl edge-bench wrote")
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{n}: not JSON ({exc.msg})")
                continue
            if not isinstance(row, dict) or "status" not in row or "artifact" not in row:
                problems.append(f"{path}:{n}: not an edge-bench row (needs 'status' and 'artifact')")
                continue
            row.setdefault("_source", str(path))
            rows.append(row)
    if not rows and not problems:
        raise InvalidInputError("no rows in the given results files", given=[str(p) for p in paths])
    return rows, problems
