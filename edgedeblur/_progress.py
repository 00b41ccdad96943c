"""Progress bars on stderr, for the commands and the long library loops (search, training, video).

Below every package that shows progress (``cli``, ``nas``, ``train``, ``runtime.video``), so
library code never imports a command module for it. tqdm is optional: without it nothing is
drawn and the work runs the same.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["progress", "progress_bar"]

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """A tqdm progress bar on stderr when tqdm is installed and there is more than one item."""
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    try:
        from tqdm import tqdm
    except ImportError:
        yield from items
        return
    yield from tqdm(items, desc=desc, total=total, unit=unit, disable=total is not None and total <= 1,
                    file=sys.stderr, dynamic_ncols=True)


def progress_bar(total: int | None, *, desc: str, unit: str, initial: int = 0, show: bool = True) -> Any:
    """A tqdm bar on stderr advanced by hand (``bar.update(n)``, ``bar.close()``), or ``None``
    when ``show`` is false or tqdm is not installed."""
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)
