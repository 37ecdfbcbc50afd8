"""Fact types of access control: every scan the central service answers is a fact (one stream
per entrance: ``access.entrance:<institution>:<entrance>``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from cimaise.access.models import Entrance
from cimaise.ledger.services import FactDraft
from cimaise.ledger.types import register


def stream(entrance: Entrance) -> str:
    return f"access.entrance:{entrance.institution.code}:{entrance.code}"


def draft(
    entrance: Entrance, kind: str, body: Mapping[str, object], who: str, when: dt.datetime
) -> FactDraft:
    return FactDraft(
        type=kind,
        stream=stream(entrance),
        body=body,
        actor=who,
        institution_id=entrance.institution_id,
        occurred_at=when,
    )


ENTRY_ACCEPTED = register(
    "access.entry.accepted",
    "A code was accepted at a lane (code id, entrance, lane, direction, nonce, device and server "
    "times, people, reason ok, reentry, exit or override with the operator's reason; source online, "
    "offline (decided by the entrance agent, with the central service's own answer) or override).",
)
ENTRY_REJECTED = register(
    "access.entry.rejected",
    "A code was refused at a lane, with the machine reason (forged, revoked, unknown, unpaid, "
    "too_early, too_late, expired, wrong_entrance, already_used).",
)
ENTRY_CANCELLED = register(
    "access.entry.cancelled",
    "A lane reported that the visitor of an accepted entry did not pass: the entry no longer "
    "counts (entry, nonce, lane, operator).",
)
PASSAGES_COUNTED = register(
    "access.passages.counted",
    "A turnstile's count of people who went through a lane in one direction during a period.",
)
