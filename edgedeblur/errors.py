"""The exception hierarchy of edgedeblur.

Every error a user can cause says three things: what was given, what is allowed, and what to
type instead. CLIs catch :class:`EdgeDeblurError`, print its message and exit non-zero; anything
else escaping is a bug in edgedeblur.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "EdgeDeblurError",
    "InvalidInputError",
    "ImageReadError",
    "KernelError",
    "OutputPathError",
    "ConfigError",
    "UnknownNameError",
    "MissingDependencyError",
    "ArtifactError",
    "ExportError",
    "ParityError",
    "suggest",
]


class EdgeDeblurError(Exception):
    """Base class: a problem with what the user gave us, explained.

    Parameters
    ----------
    what:
        One sentence on what is wrong.
    given:
        The offending value (shown with ``repr`` when not a string).
    allowed:
        What would have been accepted.
    hint:
        What to type or do instead.
    path:
        The file the problem is about; it leads the message so batch reports name the file.
    """

    def __init__(
        self,
        what: str,
        *,
        given: object = None,
        allowed: object = None,
        hint: str | None = None,
        path: str | Path | None = None,
    ) -> None:
        self.what = what
        self.given = given
        self.allowed = allowed
        self.hint = hint
        self.path = None if path is None else str(path)
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.path:
            parts.append(f"{self.path}: ")
        parts.append(self.what)
        details = []
        if self.given is not None:
            details.append(f"given {self.given if isinstance(self.given, str) else repr(self.given)}")
        if self.allowed is not None:
            details.append(f"allowed: {self.allowed}")
        if details:
            parts.append(" (" + "; ".join(details) + ")")
        if self.hint:
            parts.append(f". {self.hint}")
        return "".join(parts)


class InvalidInputError(EdgeDeblurError, ValueError):
    """An argument or array that does not meet the documented contract."""


class ImageReadError(EdgeDeblurError, OSError):
    """An image file that is missing, empty, truncated, corrupt or in an unsupported format."""


class KernelError(InvalidInputError):
    """A blur kernel that is not a real finite 2-D array with a positive sum, is larger than the
    image, or an unreadable kernel file (checked in one place, ``edgedeblur._arrays.check_kernel``)."""


class OutputPathError(EdgeDeblurError, OSError):
    """An output path that would overwrite an input, or whose folder cannot be used."""


class ConfigError(EdgeDeblurError, ValueError):
    """A recipe, spec string or option combination that cannot be honoured."""


class UnknownNameError(EdgeDeblurError, KeyError):
    """A model, method, target or backend name that is not registered; suggests the closest."""

    def __init__(self, kind: str, name: str, choices: Iterable[str], **kwargs: object) -> None:
        choices = sorted(choices)
        close = suggest(name, choices)
        hint = f"did you mean {close!r}?" if close else None
        super().__init__(
            f"unknown {kind}",
            given=name,
            allowed=", ".join(choices),
            hint=kwargs.pop("hint", None) or hint,  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0]


class MissingDependencyError(EdgeDeblurError, ImportError):
    """An optional toolchain or backend that is not installed; names the pip extra."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the Python package {package!r}, which is not installed",
            hint=f"install it with: pip install 'edgedeblur[{extra}]'",
        )


class ArtifactError(EdgeDeblurError):
    """An exported artifact or manifest that is missing, truncated, tampered with or inconsistent."""


class ExportError(EdgeDeblurError, RuntimeError):
    """A conversion or quantization step that failed."""


class ParityError(ExportError):
    """An exported artifact whose measured parity with PyTorch is worse than allowed."""


def suggest(name: str, choices: Iterable[str]) -> str | None:
    """Return the closest of ``choices`` to ``name``, or ``None`` when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return close[0] if close else None


def require(module: str, extra: str, purpose: str):  # noqa: ANN201 - returns a module
    """Import an optional module lazily, raising :class:`MissingDependencyError` when absent."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0], extra, purpose) from exc
