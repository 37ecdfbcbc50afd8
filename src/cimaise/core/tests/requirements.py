"""Tests that need something outside the project (a Debian tool, reference data): they skip with
the reason on a bare machine, and fail under ``CI=true``, where everything must be there."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unmet(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail when CI=true (CI installs everything; see .ci/run)."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true and this test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)
