"""Canonical JSON and the hashed form of a fact.

The body is stored as canonical JSON text, so verification never re-serialises it: what was
hashed is exactly what is stored, whatever the database does to JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal
from functools import lru_cache
from typing import Any

_SEPARATORS = (",", ":")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} cannot go into a fact body")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=_SEPARATORS, ensure_ascii=False, default=_default)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 characters as they are; Decimals as strings."""
    return _ENCODER.encode(value)


@lru_cache(maxsize=4096)
def timestamp(value: dt.datetime) -> str:
    """An aware datetime in UTC with microseconds: ``2019-10-24T07:30:00.000000+00:00``."""
    if value.tzinfo is None:
        raise ValueError("fact times must be timezone-aware")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def fact_hash(
    *,
    prev_hash: str,
    fact_id: int,
    type: str,
    stream: str,
    seq: int,
    occurred_at: dt.datetime,
    recorded_at: dt.datetime,
    actor: str,
    institution_id: int | None,
    body: str,
) -> str:
    """SHA-256 (hex) over the previous hash, the header lines and the canonical body."""
    header = "\n".join(
        (
            prev_hash,
            str(fact_id),
            type,
            stream,
            str(seq),
            timestamp(occurred_at),
            timestamp(recorded_at),
            actor,
            "" if institution_id is None else str(institution_id),
            "",
        )
    )
    return hashlib.sha256(header.encode() + body.encode()).hexdigest()
