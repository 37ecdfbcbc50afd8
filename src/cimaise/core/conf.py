"""Cimaise's own settings (the ``CIMAISE`` dict of the settings module), typed for callers."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def setting(name: str) -> Any:
    """``settings.CIMAISE[name]``; a missing name is a configuration bug and raises KeyError."""
    values: dict[str, Any] = getattr(settings, "CIMAISE")  # noqa: B009  (typed as Any on purpose)
    return values[name]
