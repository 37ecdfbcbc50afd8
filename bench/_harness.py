"""Shared set-up of the benchmarks: a throw-away Django database and the one-line JSON result."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def scratch_django() -> Iterator[str]:
    """Django set up on a fresh var directory (SQLite unless DATABASE_URL says otherwise),
    migrated, and removed afterwards."""
    var_dir = tempfile.mkdtemp(prefix="cimaise-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cimaise.config.settings"
    os.environ["CIMAISE_VAR_DIR"] = var_dir
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield var_dir
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(var_dir, ignore_errors=True)


def emit(bench: str, *, metric: float, baseline: float, unit: str, n: int) -> None:
    """Print the benchmark's one JSON line: the figure, its same-run baseline and their ratio."""
    result = {
        "bench": bench,
        "metric": round(metric, 1),
        "unit": unit,
        "baseline": round(baseline, 1),
        "ratio": round(metric / baseline, 3),
        "n": n,
    }
    print(json.dumps(result))
