"""Projections: tables derived from the facts, each with a registered rebuild function.

``cimaise ledger rebuild`` empties and refills every projection from the facts, in
registration order, inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Max

from cimaise.ledger.models import GENESIS_HASH, ChainHead, Fact, StreamHead


@dataclass(frozen=True)
class Projection:
    """A named projection and the function that rebuilds it, returning the rows it wrote."""

    name: str
    rebuild: Callable[[], int]
    doc: str


_PROJECTIONS: dict[str, Projection] = {}


def register(name: str, rebuild: Callable[[], int], doc: str) -> Projection:
    """Register a projection's rebuild function (apps call this in ``AppConfig.ready``)."""
    projection = Projection(name=name, rebuild=rebuild, doc=doc)
    _PROJECTIONS[name] = projection
    return projection


def all_projections() -> list[Projection]:
    return list(_PROJECTIONS.values())


def rebuild_stream_heads() -> int:
    """Per stream, the last sequence number and fact id, recomputed by one GROUP BY."""
    StreamHead.objects.all().delete()
    rows = Fact.objects.values("stream").annotate(last_seq=Max("seq"), last_id=Max("id"))
    heads = [
        StreamHead(stream=r["stream"], last_seq=r["last_seq"], last_fact_id=r["last_id"])
        for r in rows.order_by().iterator(chunk_size=5000)
    ]
    StreamHead.objects.bulk_create(heads, batch_size=1000)
    return len(heads)


def rebuild_chain_head() -> int:
    """The head row from the last fact."""
    last = Fact.objects.order_by("-id").values("id", "hash").first()
    ChainHead.objects.get_or_create(pk=1)
    last_id, last_hash = (0, GENESIS_HASH) if last is None else (last["id"], last["hash"])
    ChainHead.objects.filter(pk=1).update(last_id=last_id, last_hash=last_hash)
    return 1
