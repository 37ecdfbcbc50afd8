"""Where the EPCIS 2.0 reference data (the standard's schema and examples) lives for the tests:
``$CIMAISE_EPCIS_DATA``, else ``shared/epcis`` in a directory above the repository, else
``/work/shared/epcis`` (the development machines' copy). Nothing from it is copied into the
project."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


@cache
def shared_epcis() -> Path:
    here = Path(__file__).resolve()
    root = next((p for p in here.parents if (p / "pyproject.toml").is_file()), here.parents[4])
    candidates = [Path(os.environ["CIMAISE_EPCIS_DATA"])] if os.environ.get("CIMAISE_EPCIS_DATA") else []
    candidates += [p / "shared" / "epcis" for p in root.parents] + [Path("/work/shared/epcis")]
    return next((path for path in candidates if path.is_dir()), root.parent / "shared" / "epcis")
