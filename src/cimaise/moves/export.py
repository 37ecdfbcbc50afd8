"""EPCIS 2.0 JSON-LD out: one event as the query returns it, and whole documents for
``cimaise epcis export`` (streamed, so a year of events does not sit in memory)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import IO, Any

from django.db.models import Min, Q, QuerySet

from cimaise.core.models import Institution
from cimaise.moves.models import Convoy, CustodyEvent, EventObject

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: Prefixes the standard's context binds, as protected terms: a document may not rebind them.
STANDARD_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}


def utc(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as EPCIS writes times: ``2020-01-06T08:00:00.000Z``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_out(event: CustodyEvent, prefixes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The event as captured, with its eventID and our recordTime.

    ``prefixes`` are those the enclosing document declares (besides the standard's): an extension
    field whose prefix is bound there to another namespace, or not at all, is written with its full
    IRI, so that no field changes meaning. Without ``prefixes`` the body is returned as stored.
    """
    body = {**event.body, "recordTime": utc(event.record_time)}
    if prefixes is None:
        return body
    declared = {**prefixes, **STANDARD_PREFIXES}
    clashes = {prefix: iri for prefix, iri in event.context.items() if declared.get(prefix) != iri}
    return _expanded(body, clashes) if clashes else body


def _expanded(value: Any, iris: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {_expanded_name(name, iris): _expanded(item, iris) for name, item in value.items()}
    if isinstance(value, list):
        return [_expanded(item, iris) for item in value]
    return value


def _expanded_name(name: str, iris: Mapping[str, str]) -> str:
    prefix, sep, rest = name.partition(":")
    return iris[prefix] + rest if sep and prefix in iris and not rest.startswith("//") else name


def export_events(
    institution: Institution, *, since: dt.datetime | None = None, convoy: Convoy | None = None
) -> QuerySet[CustodyEvent]:
    """Events in record order (``since`` on recordTime); for a convoy, its own events and those
    of the objects it carried (see :func:`convoy_cargo`), less their journeys on other convoys.

    A reused crate brings along its packing and unpacking from other trips: those events name no
    convoy, so nothing tells them apart from this trip's."""
    events = CustodyEvent.objects.filter(institution=institution)
    if since is not None:
        events = events.filter(record_time__gte=since)
    if convoy is not None:
        cargo = EventObject.objects.filter(institution=institution, uri__in=sorted(convoy_cargo(convoy)))
        other_convoy = Q(biz_transaction__startswith="urn:cimaise:convoy:") & ~Q(biz_transaction=convoy.uri)
        events = events.filter(
            Q(biz_transaction=convoy.uri) | (Q(pk__in=cargo.values("event")) & ~other_convoy)
        )
    return events.order_by("pk")


def convoy_cargo(convoy: Convoy) -> set[str]:
    """What a convoy carried: the works and crates of its manifest, and whatever its own events
    loaded or unloaded (a crate that was not on the manifest is cargo too)."""
    items = convoy.items.select_related("work__institution", "crate__institution")
    cargo = {item.work.uri for item in items} | {item.crate.uri for item in items if item.crate}
    own = CustodyEvent.objects.filter(institution=convoy.institution, biz_transaction=convoy.uri)
    children = EventObject.objects.filter(event__in=own, role=EventObject.Role.CHILD)
    return cargo | set(children.values_list("uri", flat=True))


def document_context(events: QuerySet[CustodyEvent]) -> dict[str, str]:
    """The prefixes the events' extension fields use, to declare once in the document's
    ``@context``; when two events bind a prefix differently, the first recorded wins (the other
    is written with full IRIs by :func:`event_out`)."""
    prefixes: dict[str, str] = {}
    contexts = events.exclude(context={}).values("context").annotate(first=Min("pk")).order_by("first")
    for row in contexts:
        for prefix, iri in row["context"].items():
            if prefix not in STANDARD_PREFIXES:
                prefixes.setdefault(prefix, iri)
    return prefixes


def write_document(
    out: IO[str], events: Iterable[CustodyEvent], *, prefixes: Mapping[str, str], now: dt.datetime
) -> int:
    """Write an EPCISDocument, ``@context`` first (``prefixes`` from :func:`document_context`);
    returns the number of events written."""
    contexts: list[Any] = [EPCIS_CONTEXT] + ([dict(prefixes)] if prefixes else [])
    out.write(f'{{"@context":{json.dumps(contexts)},"type":"EPCISDocument","schemaVersion":"2.0",')
    out.write(f'"creationDate":"{utc(now)}","epcisBody":{{"eventList":[')
    count = 0
    for event in events:
        body = json.dumps(event_out(event, prefixes), ensure_ascii=False)
        out.write(("," if count else "") + "\n" + body)
        count += 1
    out.write("\n]}}\n")
    return count
