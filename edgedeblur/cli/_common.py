"""What every edgedeblur command shares: error handling, progress bars, batch reports.

Commands are thin: parse arguments, call the library, print a summary. A user error is an
:class:`~edgedeblur.errors.EdgeDeblurError`; it is printed as one line and the command exits 2.
In a batch, one bad file is recorded and the batch goes on; the summary lists the failures and
the command exits 1.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..errors import ConfigError, EdgeDeblurError

T = TypeVar("T")

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2


def cli_entry(func: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Wrap a ``main(argv) -> exit code``: user errors print one line and exit 2, Ctrl-C exits 130."""

    @functools.wraps(func)
    def wrapper(argv: list[str] | None = None) -> int:
        try:
            return func(argv)
        except EdgeDeblurError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return wrapper


@dataclass
class BatchReport:
    """Successes and failures of a batch; ``finish()`` prints the summary and returns the exit code."""

    what: str = "files"
    done: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def ok(self, path: Path) -> None:
        self.done.append(Path(path))

    def fail(self, path: Path, error: BaseException) -> None:
        self.failed.append((Path(path), str(error)))

    def finish(self, stream=None) -> int:  # noqa: ANN001
        stream = stream or sys.stderr  # looked up now, so pytest's capture sees it
        seconds = time.perf_counter() - self.started
        total = len(self.done) + len(self.failed)
        print(
            f"{len(self.done)}/{total} {self.what} done in {seconds:.1f} s"
            + (f", {len(self.failed)} failed:" if self.failed else ""),
            file=stream,
        )
        for path, reason in self.failed:
            # project errors already lead with the file name
            shown = reason if reason.startswith(str(path)) else f"{path}: {reason}"
            print(f"  FAILED {shown}", file=stream)
        return EXIT_SOME_FAILED if self.failed else EXIT_OK


def parse_method_options(pairs: list[str]) -> dict[str, object]:
    """``-O KEY=VALUE`` strings -> keyword options: numbers and booleans converted, ``-`` -> ``_``."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError("method option must be KEY=VALUE", given=pair, hint="e.g. -O iterations=30")
        value: object = raw
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(raw)
                    break
                except ValueError:
                    continue
        options[key.replace("-", "_")] = value
    return options
