"""The registry of fact types. Every fact's type is registered here with its meaning."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class FactType:
    """A dotted name (``app.entity.event``) and what a fact of that type records."""

    name: str
    doc: str


_TYPES: dict[str, FactType] = {}


def register(name: str, doc: str) -> FactType:
    """Declare a fact type; apps call this at import time in their ``facts.py``."""
    if not _NAME.match(name):
        raise ValueError(f"fact type {name!r} must be dotted lower-case words")
    existing = _TYPES.get(name)
    if existing is not None and existing.doc != doc:
        raise ValueError(f"fact type {name!r} registered twice with different meanings")
    fact_type = FactType(name=name, doc=doc)
    _TYPES[name] = fact_type
    return fact_type


def lookup(name: str) -> FactType | None:
    return _TYPES.get(name)


def all_types() -> list[FactType]:
    return sorted(_TYPES.values(), key=lambda t: t.name)


ANCHORED = register(
    "ledger.anchor.signed",
    "The chain head was signed with an institution key (fact id, hash, key id).",
)
PROJECTIONS_REBUILT = register(
    "ledger.projections.rebuilt",
    "Every registered projection was rebuilt from the facts (names and row counts).",
)
