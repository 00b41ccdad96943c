"""Run an engine's converter or quantizer in a child process and fail with its own words.

MNN's converter and quantizer (``_tools.mnnconvert``/``mnnquant``) and ncnn's ``pnnx`` are C++
that print progress on the process's stdout and abort the process on some bad inputs (a C++
``std::length_error`` kills the interpreter). Each call therefore runs in its own process with
its output captured: the export prints only its own summary, a crash is an ``ExportError``
quoting the tool's last lines, and one tool call per process also keeps MNN's global state (a
second ``mnnquant`` in one process silently did nothing) out of the way.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..errors import ExportError

#: seconds one converter/quantizer call may take (a 4-channel prior at 256 px: about 30 s here)
TOOL_TIMEOUT_S = 900


def run_tool(cmd: Sequence[str], what: str, expect: Sequence[Path], *, cwd: Path | None = None,
             timeout: float = TOOL_TIMEOUT_S) -> str:
    """Run ``cmd``; return its combined output, or raise when it fails or writes none of ``expect``."""
    try:
        proc = subprocess.run(list(map(str, cmd)), cwd=cwd, capture_output=True, text=True, errors="replace",
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise ExportError(f"{what} did not finish within {timeout:.0f} s", path=expect[0] if expect else None,
                          hint="retry on a less loaded machine, or export a smaller --tile") from exc
    except OSError as exc:
        raise ExportError(f"{what} could not be started ({exc})", given=str(cmd[0])) from exc
    log = (proc.stdout or "") + (proc.stderr or "")
    missing = [p for p in expect if not p.is_file() or p.stat().st_size == 0]
    if proc.returncode != 0 or missing:
        why = f"exit code {proc.returncode}" if proc.returncode != 0 else f"it wrote no {missing[0].name}"
        raise ExportError(f"{what} failed ({why}): {tail(log)}", path=missing[0] if missing else expect[0])
    return log


def tail(log: str, lines: int = 6, chars: int = 600) -> str:
    """The last meaningful lines of a tool's output, on one line."""
    kept = [ln.strip() for ln in log.splitlines() if ln.strip()][-lines:]
    return " | ".join(kept)[-chars:] or "(no output)"
