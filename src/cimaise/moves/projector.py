"""The custody fold: replay events in event time and derive each object's state.

Pure and order-independent: given the same events (in any arrival order) and the same set of
objects it produces the same states, containment and presence intervals. Anomalies are reported
only for the events flagged ``new``, judged against the state just before each of them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cimaise.moves.models import Anomaly, Status

#: Faster than any road convoy between sites, slow enough to catch a cloned label.
MAX_SPEED_KMH = 130.0

_STATUS_BY_STEP = {
    "packing": Status.PACKED,
    "loading": Status.LOADED,
    "departing": Status.IN_TRANSIT,
    "transporting": Status.IN_TRANSIT,
    "shipping": Status.IN_TRANSIT,
    "arriving": Status.ARRIVED,
    "unloading": Status.RECEIVED,
    "receiving": Status.RECEIVED,
    "unpacking": Status.RECEIVED,
    "holding": Status.HOLDING,
    "urn:cimaise:bizstep:acclimatising": Status.HOLDING,
    "storing": Status.STORED,
    "stocking": Status.STORED,
}
_TRAVELLING = frozenset({"departing", "transporting", "shipping"})
_ARRIVING = frozenset({"arriving", "unloading", "receiving"})
_COUNTING = frozenset({"cycle_counting", "stock_taking"})


@dataclass(slots=True)
class EventRow:
    """What the fold needs of a stored event."""

    pk: int
    event_id: str
    type: str
    action: str
    biz_step: str
    disposition: str
    event_time: dt.datetime
    place: int | None  # the bizLocation, when it is one of our places
    seen_at: int | None  # the readPoint, else the bizLocation
    has_location: bool
    parent: str
    epcs: tuple[str, ...]
    convoy: str
    who: str
    new: bool = False

    @property
    def key(self) -> tuple[dt.datetime, str]:
        return (self.event_time, self.event_id)


@dataclass(slots=True)
class ObjState:
    uri: str
    status: str = ""
    place: int | None = None
    container: str = ""
    crate: str = ""
    convoy: str = ""
    inspected_at: dt.datetime | None = None
    departed: bool = False
    last_event_time: dt.datetime | None = None
    last_event: int | None = None
    last_seen_at: dt.datetime | None = None
    last_seen_place: int | None = None
    last_seen_by: str = ""
    containment: list[list[Any]] = field(default_factory=list)  # [parent, since, until]
    presence: list[list[Any]] = field(default_factory=list)  # [place, since, until]
    kept: int = 0  # resumed from the database: the first interval of each list is already stored


@dataclass(frozen=True)
class Detected:
    kind: str
    uri: str
    event_id: str
    evidence: dict[str, Any]


@dataclass
class Geography:
    """Per place id: its site and the site's coordinates (for impossible-travel checks)."""

    sites: dict[int, tuple[int, float, float] | None] = field(default_factory=dict)

    def km(self, a: int, b: int) -> float | None:
        here, there = self.sites.get(a), self.sites.get(b)
        if here is None or there is None or here[0] == there[0]:
            return None
        return _haversine(here[1], here[2], there[1], there[2])


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


class Fold:
    """Replays events over a closed set of objects (see ``projection.closure``)."""

    def __init__(
        self,
        objects: Iterable[str],
        *,
        geography: Geography,
        targeted: set[str],
        resume: Iterable[ObjState] = (),
    ) -> None:
        self.states = {uri: ObjState(uri) for uri in objects}
        self.contents: dict[str, set[str]] = defaultdict(set)
        for state in resume:  # the incremental path starts from the stored states
            self.states[state.uri] = state
            if state.container:
                self.contents[state.container].add(state.uri)
        self.geography = geography
        self.targeted = targeted
        self.detected: list[Detected] = []

    def run(self, events: Iterable[EventRow]) -> None:
        for event in sorted(events, key=lambda e: e.key):
            self.apply(event)

    def apply(self, event: EventRow) -> None:
        for uri in self._direct(event):
            self._seen(self.states[uri], event)
        if event.type == "AggregationEvent" and event.action == "ADD":
            self._add(event)
        elif event.type == "AggregationEvent" and event.action == "DELETE":
            self._delete(event)
        else:
            for uri in self._direct(event):
                self._effect(uri, event)

    def _direct(self, event: EventRow) -> list[str]:
        named = ([event.parent] if event.parent else []) + list(event.epcs)
        return [uri for uri in named if uri in self.states]

    def _add(self, event: EventRow) -> None:
        parent = self.states.get(event.parent)
        if parent is not None:
            self._touch(parent, event, event.place if event.has_location else parent.place)
        for uri in event.epcs:
            child = self.states.get(uri)
            if child is None:
                continue
            self._enter(child, event.parent, event.event_time)
            if event.biz_step == "packing":
                child.crate = event.parent
            self._effect(uri, event, place=parent.place if parent and not event.has_location else None)

    def _delete(self, event: EventRow) -> None:
        parent = self.states.get(event.parent)
        children = list(event.epcs) or sorted(self.contents.get(event.parent, ()))
        if parent is not None:
            self._touch(parent, event, event.place if event.has_location else parent.place)
        for uri in children:
            child = self.states.get(uri)
            if child is None:
                continue
            if child.container != event.parent:
                self._flag(Anomaly.Kind.NOT_IN_CONTAINER, child, event, container=child.container or None)
            else:
                self._leave(child, event.event_time)
            self._effect(uri, event, place=parent.place if parent and not event.has_location else None)

    def _enter(self, child: ObjState, parent: str, when: dt.datetime) -> None:
        if child.container:
            self._leave(child, when)
        child.container = parent
        self.contents[parent].add(child.uri)
        child.containment.append([parent, when, None])

    def _leave(self, child: ObjState, when: dt.datetime) -> None:
        self.contents[child.container].discard(child.uri)
        if child.containment and child.containment[-1][2] is None:
            child.containment[-1][2] = when
        child.container = ""

    def _subtree(self, uri: str) -> list[ObjState]:
        found, stack = [], [uri]
        while stack:
            current = stack.pop()
            found.append(self.states[current])
            stack.extend(sorted(self.contents.get(current, ()), reverse=True))
        return found

    def _effect(self, uri: str, event: EventRow, *, place: int | None = None) -> None:
        """Status, place and convoy of the object and everything inside it."""
        root = self.states[uri]
        if event.biz_step == "inspecting":
            root.inspected_at = event.event_time
        new_place = self._place_after(root, event, place)
        status = self._status_after(root, event)
        self._check_arrival(root, event)
        for state in self._subtree(uri):
            if status == Status.IN_TRANSIT and event.biz_step in _TRAVELLING:
                self._check_departure(state, event)
                state.departed = True
            if status:
                state.status = status
            if status == Status.STORED:
                state.departed = False
            if event.convoy:
                state.convoy = event.convoy
            self._touch(state, event, new_place)

    def _place_after(self, state: ObjState, event: EventRow, inherited: int | None) -> int | None:
        if event.has_location:
            return event.place
        if inherited is not None:
            return inherited
        if event.biz_step in _TRAVELLING or event.disposition == "in_transit":
            return None
        return state.place

    def _status_after(self, state: ObjState, event: EventRow) -> str:
        status = _STATUS_BY_STEP.get(event.biz_step, "")
        if event.biz_step == "unpacking" and state.status == Status.HOLDING:
            return Status.HOLDING
        if not status and event.disposition == "in_transit":
            return Status.IN_TRANSIT
        if not status and event.biz_step in _COUNTING and not state.status:
            return Status.IN_STORAGE
        return status

    def _touch(self, state: ObjState, event: EventRow, place: int | None) -> None:
        if place != state.place:
            if state.presence and state.presence[-1][2] is None:
                state.presence[-1][2] = event.event_time
            if place is not None:
                state.presence.append([place, event.event_time, None])
            state.place = place
        state.last_event_time, state.last_event = event.event_time, event.pk

    def _seen(self, state: ObjState, event: EventRow) -> None:
        if event.seen_at is not None and state.last_seen_place is not None and state.last_seen_at is not None:
            self._check_travel(state, event, state.last_seen_place, state.last_seen_at)
        state.last_seen_at, state.last_seen_by = event.event_time, event.who
        if event.seen_at is not None:
            state.last_seen_place = event.seen_at

    def _check_travel(self, state: ObjState, event: EventRow, before: int, when: dt.datetime) -> None:
        assert event.seen_at is not None  # noqa: S101  (checked by the caller)
        km = self.geography.km(before, event.seen_at)
        if km is None:
            return
        hours = max((event.event_time - when).total_seconds(), 1.0) / 3600
        if km / hours > MAX_SPEED_KMH:
            evidence: dict[str, Any] = {"from_place": before, "to_place": event.seen_at, "km": round(km, 1)}
            evidence |= {"since": when.isoformat(), "hours": round(hours, 3)}
            self._flag(Anomaly.Kind.IMPOSSIBLE_TRAVEL, state, event, **evidence)

    def _check_departure(self, state: ObjState, event: EventRow) -> None:
        if not state.uri.startswith("urn:cimaise:work:"):
            return
        if state.inspected_at is None:
            self._flag(Anomaly.Kind.NO_CONDITION_CHECK, state, event)
        if state.uri not in self.targeted:
            self._flag(Anomaly.Kind.NO_TARGET, state, event)

    def _check_arrival(self, state: ObjState, event: EventRow) -> None:
        if event.biz_step in _ARRIVING and not state.departed:
            self._flag(Anomaly.Kind.NEVER_DEPARTED, state, event, status=state.status or None)

    def _flag(self, kind: str, state: ObjState, event: EventRow, **evidence: Any) -> None:
        if event.new:
            body = {"eventID": event.event_id, "bizStep": event.biz_step, **evidence}
            self.detected.append(Detected(kind=kind, uri=state.uri, event_id=event.event_id, evidence=body))
