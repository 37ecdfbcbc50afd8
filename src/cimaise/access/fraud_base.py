"""What the fraud signals share: their kinds, thresholds, the ``Signal`` and ``Evidence`` records,
and the day's entry querysets (see :mod:`cimaise.access.fraud`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from cimaise.access import decide as d
from cimaise.access.models import Entry
from cimaise.core.models import Institution

PARIS = d.PARIS
CROSS_ENTRANCE = "cross_entrance"
REPEATED_REJECTIONS = "repeated_rejections"
FORGED_BURST = "forged_burst"
OVERRIDES = "overrides"
PASSAGES_WITHOUT_SCANS = "passages_without_scans"
KINDS = (CROSS_ENTRANCE, REPEATED_REJECTIONS, FORGED_BURST, OVERRIDES, PASSAGES_WITHOUT_SCANS)

HIGH, MEDIUM, INFO = "high", "medium", "info"
SEVERITIES = (HIGH, MEDIUM, INFO)

REPEATED_REJECTIONS_AT = 3  # rejections of one code in a day
FORGED_PER_HOUR_AT = 5  # forged codes at one entrance in one hour
OVERRIDES_PER_DAY = 5  # overrides by one operator in a day; more is flagged
TAILGATING_HIGH_AT = 10  # people through a lane in an hour without a scan: high severity from here
SIGNALS_PER_KIND = 200  # the page and the exports show at most this many signals of each kind
EVIDENCE_PER_SIGNAL = 50  # and at most this many pieces of evidence for each
REPLAYED_CODES_MAX = 2000  # codes let in at two entrances that are decided again against the rules

ENTRY_FIELDS = (
    "id", "nonce", "code_id", "recorded_at", "entrance_id", "entrance__code", "lane__code", "direction",
    "result", "reason", "people", "operator", "source", "override_reason", "central_reason",
)  # fmt: skip
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Evidence:
    """One fact behind a signal: an entry (its id and nonce) or a turnstile count (its nonce)."""

    at: dt.datetime
    entrance: str
    lane: str
    note: str
    entry: int | None = None
    nonce: str = ""

    def text(self) -> str:
        """One line: ``#12 n-7 10:05:03 PYR/L1 accepted ok``."""
        ref = f"#{self.entry} " if self.entry is not None else ""
        when = timezone.localtime(self.at, PARIS).strftime("%H:%M:%S")
        return f"{ref}{self.nonce} {when} {self.entrance}/{self.lane} {self.note}".replace("  ", " ").strip()

    def as_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "at": self.at.isoformat()}


@dataclass(frozen=True)
class Signal:
    """Something the security office should look at: its kind and severity, when it happened,
    where and who (any of them may be blank), a one-line summary and the evidence.
    ``flagged`` is false for a line listed for completeness (an operator's few overrides)."""

    kind: str
    severity: str
    when: dt.datetime
    summary: str
    entrance: str = ""
    lane: str = ""
    operator: str = ""
    code_id: str = ""
    count: int = 0
    flagged: bool = True
    evidence: tuple[Evidence, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**data, "when": self.when.isoformat(), "evidence": [e.as_dict() for e in self.evidence]}


# --- days and rows -----------------------------------------------------------------------------


def today(now: dt.datetime | None = None) -> dt.date:
    """The current day in Paris."""
    return timezone.localtime(now or timezone.now(), PARIS).date()


def day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The Paris day as aware start and end (a day of 23 or 25 hours at a clock change)."""
    return d.day_bounds(dt.datetime.combine(day, dt.time(12), tzinfo=PARIS))


def _entries(institution: Institution, day: dt.date) -> QuerySet[Entry]:
    start, end = day_range(day)
    return Entry.objects.filter(institution=institution, recorded_at__gte=start, recorded_at__lt=end)


def _accepted_in(institution: Institution, day: dt.date) -> QuerySet[Entry]:
    return _entries(institution, day).filter(
        result=Entry.Result.ACCEPTED, direction=Entry.Direction.IN, cancelled_at__isnull=True
    )


def _evidence(row: Row, note: str | None = None) -> Evidence:
    return Evidence(
        at=row["recorded_at"],
        entrance=row["entrance__code"],
        lane=row["lane__code"],
        note=note if note is not None else f"{row['result']} {row['reason']}",
        entry=row["id"],
        nonce=row["nonce"],
    )


def _short(code_id: str) -> str:
    return code_id[:12]


def operator_person(label: str) -> str:
    """The person behind an actor label (``user:alice token:ab12`` → ``user:alice``)."""
    return label.split(" token:", 1)[0]
