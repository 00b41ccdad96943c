"""Inference backends behind one protocol and one table (``BACKENDS``); each backend imports its
toolkit only when loaded."""

from __future__ import annotations

from .base import (
    BACKEND_FORMATS,
    BACKENDS,
    DEFAULT_BACKEND,
    Backend,
    BackendInfo,
    BackendSpec,
    FallbackWarning,
    check_name,
    create_backend,
)

__all__ = ["BACKENDS", "BACKEND_FORMATS", "DEFAULT_BACKEND", "Backend", "BackendInfo", "BackendSpec",
           "FallbackWarning", "create_backend", "check_name"]
