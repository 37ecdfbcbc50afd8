"""Where the analytical facts live and what the last build recorded.

Facts are Parquet files under ``<REPORTING_DIR>/facts/<source>/month=YYYY-MM/``; the build's
state (per source: its watermark or its months' digests, and when it last ran) is one JSON file
beside them, so that the files and the state that describes them move together.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings

STATE_FILE = "state.json"


def reporting_dir() -> Path:
    """``settings.REPORTING_DIR`` if set, else ``<VAR_DIR>/reporting``."""
    configured = getattr(settings, "REPORTING_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "reporting"


def facts_dir() -> Path:
    return reporting_dir() / "facts"


def source_dir(source: str) -> Path:
    return facts_dir() / source


def month_dir(source: str, month: str) -> Path:
    return source_dir(source) / f"month={month}"


def source_glob(source: str) -> str:
    return str(source_dir(source) / "month=*" / "*.parquet")


def has_files(source: str) -> bool:
    return any(source_dir(source).glob("month=*/*.parquet"))


def state_read() -> dict[str, Any]:
    path = reporting_dir() / STATE_FILE
    if not path.exists():
        return {"sources": {}}
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state


def state_write(state: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed over the old one)."""
    path = reporting_dir() / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
