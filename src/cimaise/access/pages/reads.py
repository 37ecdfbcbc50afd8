"""What the handheld page reads: the lanes an agent may stand at, and an answer shaped for the
screen (the ticket's product, tariff and slot, the party, the proof a free ticket requires)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cimaise.access.models import Entry, Lane
from cimaise.access.services import ScanResult
from cimaise.core.models import Institution


def lane_key(lane: Lane) -> str:
    """How the session and the lane form name a lane: ``PYR/L1``."""
    return f"{lane.entrance.code}/{lane.code}"


def lane_choices(institution: Institution) -> list[tuple[str, str]]:
    """The institution's active lanes, as ``(PYR/L1, "Pyramide · L1 (turnstile, in)")``."""
    lanes = (
        Lane.objects.filter(entrance__institution=institution, entrance__active=True, active=True)
        .select_related("entrance")
        .order_by("entrance__code", "code")
    )
    return [
        (
            lane_key(lane),
            f"{lane.entrance.name} · {lane.code} ({lane.get_kind_display()}, {lane.get_direction_display()})",
        )
        for lane in lanes
    ]


def scan_direction(lane: Lane) -> str:
    """A handheld checks people going in, unless its lane is a way out."""
    return Entry.Direction.OUT if lane.direction == Lane.Direction.OUT else Entry.Direction.IN


@dataclass(frozen=True)
class Answer:
    """A scan's answer as the handheld shows it."""

    result: str
    reason: str
    text: str
    people: int
    replayed: bool = False
    product: str = ""
    tariff: str = ""
    slot_start: dt.datetime | None = None
    proof_required: bool = False
    proof: str = ""
    code: str = ""  # what was scanned, for the override form

    @property
    def accepted(self) -> bool:
        return self.result == Entry.Result.ACCEPTED


def answer_for(result: ScanResult, *, code: str = "") -> Answer:
    """The answer, with the names of the entry's ticket in the active language."""
    entry = (
        Entry.objects.select_related("ticket__tariff__free_category", "ticket__slot__product")
        .filter(pk=result.entry_id)
        .first()
    )
    ticket = entry.ticket if entry is not None else None
    category = ticket.tariff.free_category if ticket is not None else None
    return Answer(
        result=result.result,
        reason=result.reason,
        text=result.text,
        people=result.people,
        replayed=result.replayed,
        product=ticket.slot.product.name if ticket else "",
        tariff=ticket.tariff.name if ticket else "",
        slot_start=ticket.slot.starts_at if ticket else None,
        proof_required=category is not None,
        proof=category.proof if category is not None else "",
        code=code,
    )
