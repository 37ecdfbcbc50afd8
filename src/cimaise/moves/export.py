"""EPCIS 2.0 JSON-LD out: one event as the query returns it, and whole documents for
``cimaise epcis export`` (streamed, so a year of events does not sit in memory)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import IO, Any

from cimaise.core.models import Institution
from cimaise.moves.models import Convoy, CustodyEvent

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_out(event: CustodyEvent) -> dict[str, Any]:
    """The event as captured, with its eventID and our recordTime."""
    return {**event.body, "recordTime": utc(event.record_time)}


def export_events(
    institution: Institution, *, since: dt.datetime | None = None, convoy: Convoy | None = None
) -> Iterator[CustodyEvent]:
    """Events in record order (``since`` on recordTime); for a convoy, its events and those of the
    objects it carried."""
    events = CustodyEvent.objects.filter(institution=institution)
    if since is not None:
        events = events.filter(record_time__gte=since)
    if convoy is not None:
        named = CustodyEvent.objects.filter(institution=institution, biz_transaction=convoy.uri)
        objects = named.values("named__uri")
        events = events.filter(named__uri__in=objects).distinct()
    return events.order_by("pk").iterator(chunk_size=2000)


def write_document(out: IO[str], events: Iterator[CustodyEvent], *, now: dt.datetime) -> int:
    """Write an EPCISDocument; returns the number of events written."""
    context: dict[str, str] = {}
    count = 0
    out.write('{"type":"EPCISDocument","schemaVersion":"2.0",')
    out.write(f'"creationDate":"{utc(now)}","epcisBody":{{"eventList":[')
    for event in events:
        out.write(("," if count else "") + "\n" + json.dumps(event_out(event), ensure_ascii=False))
        for prefix, iri in event.context.items():
            context.setdefault(prefix, iri)
        count += 1
    contexts: list[Any] = [EPCIS_CONTEXT] + ([context] if context else [])
    out.write(f'\n]}},"@context":{json.dumps(contexts)}}}\n')
    return count
