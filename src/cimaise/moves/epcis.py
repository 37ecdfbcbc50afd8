"""Reading EPCIS 2.0 capture payloads: an EPCISDocument (JSON-LD), a bare event list or one event.

Everything here is pure: it checks each event and returns :class:`ParsedEvent` values, or raises
:class:`BadEvent` naming the index of the first offending event and its field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cimaise.core.errors import DomainError
from cimaise.moves.event_hash import event_hash
from cimaise.moves.uris import IdentifierError, parse_identifier
from cimaise.moves.vocab import VocabularyError, is_uri, normalise

MAX_EVENTS = 10_000
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent")
ACTIONS = ("ADD", "OBSERVE", "DELETE")
STANDARD_FIELDS = frozenset(
    """type eventID eventTime eventTimeZoneOffset recordTime certificationInfo errorDeclaration epcList
    quantityList action bizStep disposition persistentDisposition readPoint bizLocation
    bizTransactionList sourceList destinationList sensorElementList ilmd parentID childEPCs
    childQuantityList @context""".split()
)
_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")


class BadEvent(DomainError):
    """A capture payload that breaks the standard or our rules; nothing of it is stored."""

    status = 400
    code = "invalid_event"

    def __init__(self, message: str, *, index: int | None, field: str) -> None:
        where = f"event {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {message}", details={"index": index, "field": field}, field=field)


@dataclass
class ParsedEvent:
    """One checked event; ``body`` is what is stored and exported (``eventID`` filled in)."""

    index: int
    event_id: str
    type: str
    action: str
    event_time: dt.datetime
    biz_step: str = ""
    disposition: str = ""
    read_point: str = ""
    biz_location: str = ""
    parent: str = ""
    epcs: list[str] = field(default_factory=list)
    biz_transactions: list[str] = field(default_factory=list)
    declaration: dict[str, Any] | None = None
    body: dict[str, Any] = field(default_factory=dict)
    context: dict[str, str] = field(default_factory=dict)  # the prefixes its extension fields use


def parse_payload(payload: Any, *, now: dt.datetime, skew: dt.timedelta) -> list[ParsedEvent]:
    """The events of a capture payload, checked, in the order given."""
    events, context = _event_list(payload)
    if len(events) > MAX_EVENTS:
        raise BadEvent(
            f"at most {MAX_EVENTS} events per request, got {len(events)}", index=None, field="eventList"
        )
    return [_event(raw, i, context, now + skew) for i, raw in enumerate(events)]


def _event_list(payload: Any) -> tuple[list[Any], dict[str, str]]:
    if isinstance(payload, list):
        return payload, {}
    if not isinstance(payload, dict):
        raise BadEvent("expected an EPCISDocument, an event list or an event", index=None, field="body")
    context = _context(payload.get("@context"))
    if payload.get("type") == "EPCISDocument":
        body = payload.get("epcisBody")
        events = body.get("eventList") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise BadEvent(
                "an EPCISDocument needs epcisBody.eventList, a list", index=None, field="epcisBody"
            )
        return events, context
    if payload.get("type") in EVENT_TYPES:
        return [payload], context
    raise BadEvent("expected type EPCISDocument or an event type", index=None, field="type")


def _context(value: Any) -> dict[str, str]:
    """Namespace prefixes declared in ``@context`` (JSON-LD), for extension fields."""
    items = value if isinstance(value, list) else [value]
    prefixes: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict):
            prefixes.update({k: v for k, v in item.items() if isinstance(v, str)})
        elif item is not None and not isinstance(item, str):
            raise BadEvent("@context entries are URLs or prefix maps", index=None, field="@context")
    return prefixes


def _event(raw: Any, index: int, context: dict[str, str], latest: dt.datetime) -> ParsedEvent:
    if not isinstance(raw, dict):
        raise BadEvent("an event must be a JSON object", index=index, field="event")
    prefixes = _known_fields(raw, index, context)
    kind = _choice(raw, "type", EVENT_TYPES, index)
    parsed = ParsedEvent(
        index=index,
        event_id="",
        type=kind,
        action=_choice(raw, "action", ACTIONS, index),
        event_time=_time(raw, "eventTime", index, latest),
    )
    offset = _offset(raw, index)
    _vocabulary(raw, parsed)
    _locations(raw, parsed)
    _objects(raw, parsed)
    parsed.biz_transactions = _transactions(raw, index)
    _kept_lists(raw, index)
    parsed.declaration = _declaration(raw, index)
    parsed.event_id = _event_id(raw, index, context)
    parsed.body = {k: v for k, v in raw.items() if k not in ("recordTime", "@context")}
    parsed.body["eventID"] = parsed.event_id
    parsed.body["eventTimeZoneOffset"] = offset
    parsed.context = prefixes
    return parsed


def _known_fields(raw: Mapping[str, Any], index: int, context: dict[str, str]) -> dict[str, str]:
    """Check every field is standard or a declared extension; the prefixes the event uses."""
    used = {}
    for name in raw:
        if name in STANDARD_FIELDS:
            continue
        prefix, sep, _ = name.partition(":")
        if sep and prefix in context:
            used[prefix] = context[prefix]
        elif not sep or not is_uri(name):
            raise BadEvent(
                "not an EPCIS field nor a declared extension (prefix:name)", index=index, field=name
            )
    return used


def _choice(raw: Mapping[str, Any], name: str, allowed: tuple[str, ...], index: int) -> str:
    value = raw.get(name)
    if value not in allowed:
        raise BadEvent(f"must be one of {', '.join(allowed)}", index=index, field=name)
    return str(value)


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 date-time with an offset or ``Z``, else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _time(raw: Mapping[str, Any], name: str, index: int, latest: dt.datetime) -> dt.datetime:
    moment = parse_time(raw.get(name))
    if moment is None:
        raise BadEvent("an ISO 8601 date-time with a time zone is required", index=index, field=name)
    if moment > latest:
        raise BadEvent("is in the future beyond the clock-skew tolerance", index=index, field=name)
    return moment


def _offset(raw: Mapping[str, Any], index: int) -> str:
    """The event's offset; when absent, the one its eventTime was written with."""
    value = raw.get("eventTimeZoneOffset")
    if value is None:
        offset = dt.datetime.fromisoformat(raw["eventTime"]).strftime("%z")
        return f"{offset[:3]}:{offset[3:]}"
    if not isinstance(value, str) or not _OFFSET.match(value):
        raise BadEvent("must look like +01:00", index=index, field="eventTimeZoneOffset")
    return value


def _vocabulary(raw: Mapping[str, Any], parsed: ParsedEvent) -> None:
    for name in ("bizStep", "disposition"):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadEvent("must be a string", index=parsed.index, field=name)
        try:
            normalised = normalise(name, value)
        except VocabularyError as exc:
            raise BadEvent(str(exc), index=parsed.index, field=name) from exc
        if name == "bizStep":
            parsed.biz_step = normalised
        else:
            parsed.disposition = normalised


def _uri(value: Any, index: int, name: str, kinds: tuple[str, ...]) -> str:
    try:
        identifier = parse_identifier(value)
    except IdentifierError as exc:
        raise BadEvent(str(exc), index=index, field=name) from exc
    if identifier.kind not in kinds:
        raise BadEvent(f"a {identifier.kind} identifier is not allowed here", index=index, field=name)
    return identifier.uri


_OBJECT_KINDS = ("work", "crate", "vehicle", "external")


def _locations(raw: Mapping[str, Any], parsed: ParsedEvent) -> None:
    for name in ("readPoint", "bizLocation"):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, dict) or "id" not in value:
            raise BadEvent('must be {"id": URI}', index=parsed.index, field=name)
        uri = _uri(value["id"], parsed.index, f"{name}.id", ("place", "external"))
        if name == "readPoint":
            parsed.read_point = uri
        else:
            parsed.biz_location = uri


def _uri_list(raw: Mapping[str, Any], name: str, index: int) -> list[str]:
    value = raw.get(name, [])
    if not isinstance(value, list):
        raise BadEvent("must be a list of URIs", index=index, field=name)
    return [_uri(item, index, f"{name}[{i}]", _OBJECT_KINDS) for i, item in enumerate(value)]


def _objects(raw: Mapping[str, Any], parsed: ParsedEvent) -> None:
    index = parsed.index
    if parsed.type == "AggregationEvent":
        parsed.epcs = _uri_list(raw, "childEPCs", index)
        if "parentID" in raw:
            parsed.parent = _uri(raw["parentID"], index, "parentID", _OBJECT_KINDS)
        elif parsed.action != "OBSERVE":
            raise BadEvent(f"required for an {parsed.action} aggregation", index=index, field="parentID")
        if parsed.action == "ADD" and not (parsed.epcs or raw.get("childQuantityList")):
            raise BadEvent("an ADD aggregation names its children", index=index, field="childEPCs")
        return
    parsed.epcs = _uri_list(raw, "epcList", index)
    if parsed.type == "TransactionEvent" and "parentID" in raw:
        parsed.parent = _uri(raw["parentID"], index, "parentID", _OBJECT_KINDS)
    ambient = bool(raw.get("sensorElementList")) and bool(parsed.read_point)  # a climate logger's reading
    if not (parsed.epcs or parsed.parent or raw.get("quantityList") or ambient):
        raise BadEvent("an event names at least one object", index=index, field="epcList")


def _transactions(raw: Mapping[str, Any], index: int) -> list[str]:
    value = raw.get("bizTransactionList", [])
    if not isinstance(value, list):
        raise BadEvent("must be a list", index=index, field="bizTransactionList")
    found = []
    for i, item in enumerate(value):
        name = f"bizTransactionList[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("bizTransaction"), str):
            raise BadEvent('items are {"type", "bizTransaction": URI}', index=index, field=name)
        uri = item["bizTransaction"]
        if uri.startswith("urn:cimaise:"):
            _uri(uri, index, f"{name}.bizTransaction", ("convoy",))
        elif not is_uri(uri):
            raise BadEvent("must be a URI", index=index, field=f"{name}.bizTransaction")
        found.append(uri)
    return found


def _kept_lists(raw: Mapping[str, Any], index: int) -> None:
    """Lists stored as given, checked for shape only."""
    for name in ("quantityList", "childQuantityList", "sourceList", "destinationList", "sensorElementList"):
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise BadEvent("must be a list of objects", index=index, field=name)
    for i, element in enumerate(raw.get("sensorElementList", [])):
        if not isinstance(element.get("sensorReport"), list):
            raise BadEvent("needs a sensorReport list", index=index, field=f"sensorElementList[{i}]")


def _declaration(raw: Mapping[str, Any], index: int) -> dict[str, Any] | None:
    value = raw.get("errorDeclaration")
    if value is None:
        return None
    if not isinstance(value, dict) or parse_time(value.get("declarationTime")) is None:
        raise BadEvent("needs a declarationTime", index=index, field="errorDeclaration")
    corrective = value.get("correctiveEventIDs", [])
    if not isinstance(corrective, list) or not all(isinstance(c, str) for c in corrective):
        raise BadEvent(
            "must be a list of event IDs", index=index, field="errorDeclaration.correctiveEventIDs"
        )
    return dict(value)


def _event_id(raw: Mapping[str, Any], index: int, context: dict[str, str]) -> str:
    value = raw.get("eventID")
    if value is None:
        return event_hash(raw, context=context)
    if not isinstance(value, str) or not is_uri(value) or len(value) > 200:
        raise BadEvent("must be a URI of at most 200 characters", index=index, field="eventID")
    return value
