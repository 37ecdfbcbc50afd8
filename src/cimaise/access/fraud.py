"""Fraud signals of one day at an institution's entrances (issue 7 item 5): reads only.

Five kinds, each a :class:`Signal` with its evidence (the entries or turnstile counts behind it):

- ``cross_entrance``: a code let in at two entrances. Either an entry decided offline by an
  entrance agent that the central service, at resync, found already used (``central_reason``
  ``already_used``: the same code at two entrances during an outage), or a code with accepted
  "in" entries at two entrances the same day that its entrance's rule would not have allowed
  (say, an entry decided offline at one entrance, uploaded after the same code was let in
  online at another).
- ``repeated_rejections``: one code refused :data:`REPEATED_REJECTIONS_AT` times or more.
- ``forged_burst``: :data:`FORGED_PER_HOUR_AT` forged codes or more at one entrance in one hour.
- ``overrides``: visitors let through by staff, per operator (a person, whatever token they
  used): every operator is listed; above :data:`OVERRIDES_PER_DAY` the signal is flagged.
- ``passages_without_scans``: per turnstile lane and hour, people the turnstile counted going
  in beyond the people of its accepted, not cancelled "in" entries (tailgating, groups waved
  through), held against the operator on duty (the one whose passages counted most).

Counting is done by the database (grouped aggregates); Python only reads the few rows that
make a signal and their evidence, so a day of 50,000 entries costs a handful of queries. The
server's clock (``recorded_at``; for an offline entry, the agent's corrected clock) places an
entry in its day and hour, Europe/Paris. A visitor scanned at 10:59:59 who passes the turnstile
at 11:00:01 lands in two hours: gaps of one at an hour's edge are that noise, not fraud.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _

from cimaise.access import decide as d
from cimaise.access.fraud_base import (
    CROSS_ENTRANCE,
    ENTRY_FIELDS,
    EVIDENCE_PER_SIGNAL,
    FORGED_BURST,
    FORGED_PER_HOUR_AT,
    HIGH,
    INFO,
    KINDS,
    MEDIUM,
    OVERRIDES,
    OVERRIDES_PER_DAY,
    PARIS,
    PASSAGES_WITHOUT_SCANS,
    REPEATED_REJECTIONS,
    REPEATED_REJECTIONS_AT,
    REPLAYED_CODES_MAX,
    SEVERITIES,
    SIGNALS_PER_KIND,
    TAILGATING_HIGH_AT,
    Evidence,
    Row,
    Signal,
    _accepted_in,
    _entries,
    _evidence,
    _short,
    day_range,
    operator_person,
    today,
)
from cimaise.access.fraud_reuse import cross_entrance_signals

__all__ = [
    "CROSS_ENTRANCE",
    "ENTRY_FIELDS",
    "EVIDENCE_PER_SIGNAL",
    "Evidence",
    "FORGED_BURST",
    "FORGED_PER_HOUR_AT",
    "HIGH",
    "INFO",
    "KINDS",
    "MEDIUM",
    "OVERRIDES",
    "OVERRIDES_PER_DAY",
    "PARIS",
    "PASSAGES_WITHOUT_SCANS",
    "REPEATED_REJECTIONS",
    "REPEATED_REJECTIONS_AT",
    "REPLAYED_CODES_MAX",
    "SEVERITIES",
    "SIGNALS_PER_KIND",
    "Signal",
    "TAILGATING_HIGH_AT",
    "cross_entrance_signals",
    "day_range",
    "forged_burst_signals",
    "fraud_signals",
    "operator_person",
    "override_signals",
    "passage_gap_signals",
    "repeated_rejection_signals",
    "signals_by_kind",
    "today",
]
from cimaise.access.models import Entry, Lane, Passage
from cimaise.core.models import Institution

# --- 2. one code refused again and again -------------------------------------------------------


def repeated_rejection_signals(*, institution: Institution, day: dt.date) -> list[Signal]:
    """Codes refused :data:`REPEATED_REJECTIONS_AT` times or more in the day (forged codes have
    no readable id and are counted by :func:`forged_burst_signals` instead)."""
    counts = list(
        _entries(institution, day)
        .filter(result=Entry.Result.REJECTED)
        .exclude(code_id="")
        .values("code_id")
        .annotate(n=Count("id"), first=Min("recorded_at"))
        .filter(n__gte=REPEATED_REJECTIONS_AT)
        .order_by("-n", "code_id")[:SIGNALS_PER_KIND]
    )
    if not counts:
        return []
    rows: dict[str, list[Row]] = defaultdict(list)
    rejected = _entries(institution, day).filter(
        result=Entry.Result.REJECTED, code_id__in=[c["code_id"] for c in counts]
    )
    for row in rejected.order_by("recorded_at", "id").values(*ENTRY_FIELDS):
        rows[row["code_id"]].append(row)
    return [_rejections_signal(c["code_id"], c["n"], c["first"], rows[c["code_id"]]) for c in counts]


def _rejections_signal(code_id: str, n: int, first: dt.datetime, rows: Sequence[Row]) -> Signal:
    reasons = Counter(r["reason"] for r in rows)
    entrances = sorted({r["entrance__code"] for r in rows})
    return Signal(
        kind=REPEATED_REJECTIONS,
        severity=HIGH if n >= 2 * REPEATED_REJECTIONS_AT else MEDIUM,
        when=first,
        summary=_("Code %(code)s refused %(n)s times (%(reasons)s)")
        % {"code": _short(code_id), "n": n, "reasons": _counted(reasons)},
        entrance=", ".join(entrances),
        code_id=code_id,
        count=n,
        evidence=tuple(_evidence(r, f"{r['reason']} ({operator_person(r['operator'])})") for r in rows)[
            :EVIDENCE_PER_SIGNAL
        ],
    )


def _counted(counter: Counter[str]) -> str:
    return ", ".join(f"{key} ×{n}" for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


# --- 3. forged codes -----------------------------------------------------------------------------


def forged_burst_signals(*, institution: Institution, day: dt.date) -> list[Signal]:
    """Entrances and hours with :data:`FORGED_PER_HOUR_AT` forged codes or more."""
    bursts = list(
        _entries(institution, day)
        .filter(reason=d.FORGED)
        .annotate(hour=TruncHour("recorded_at", tzinfo=PARIS))
        .values("entrance_id", "entrance__code", "hour")
        .annotate(n=Count("id"))
        .filter(n__gte=FORGED_PER_HOUR_AT)
        .order_by("hour", "entrance__code")[:SIGNALS_PER_KIND]
    )
    return [_burst_signal(institution, burst) for burst in bursts]


def _burst_signal(institution: Institution, burst: Row) -> Signal:
    hour: dt.datetime = burst["hour"]
    rows = list(
        Entry.objects.filter(
            institution=institution,
            entrance_id=burst["entrance_id"],
            reason=d.FORGED,
            recorded_at__gte=hour,
            recorded_at__lt=hour + dt.timedelta(hours=1),
        )
        .order_by("recorded_at", "id")
        .values(*ENTRY_FIELDS)[:EVIDENCE_PER_SIGNAL]
    )
    lanes = Counter(r["lane__code"] for r in rows)
    n = burst["n"]
    return Signal(
        kind=FORGED_BURST,
        severity=HIGH if n >= 2 * FORGED_PER_HOUR_AT else MEDIUM,
        when=hour,
        summary=_("%(n)s forged codes at %(entrance)s between %(start)s and %(end)s (lanes: %(lanes)s)")
        % {
            "n": n,
            "entrance": burst["entrance__code"],
            "start": _hm(hour),
            "end": _hm(hour + dt.timedelta(hours=1)),
            "lanes": _counted(lanes),
        },
        entrance=burst["entrance__code"],
        count=n,
        evidence=tuple(_evidence(r, f"forged ({operator_person(r['operator'])})") for r in rows),
    )


def _hm(when: dt.datetime) -> str:
    return timezone.localtime(when, PARIS).strftime("%H:%M")


# --- 4. overrides --------------------------------------------------------------------------------


def override_signals(*, institution: Institution, day: dt.date) -> list[Signal]:
    """Every operator who let visitors through by override, most overrides first; flagged
    above :data:`OVERRIDES_PER_DAY`. The evidence: each override's reason."""
    per_label = (
        _entries(institution, day)
        .filter(source=Entry.Source.OVERRIDE)
        .values("operator")
        .annotate(n=Count("id"), people=Sum("people"), first=Min("recorded_at"), last=Max("recorded_at"))
    )
    totals: dict[str, list[Any]] = {}
    for row in per_label:  # one row per actor label: merged per person here (a handful)
        person = operator_person(row["operator"])
        n, people, first = totals.get(person, [0, 0, row["first"]])
        totals[person] = [n + row["n"], people + (row["people"] or 0), min(first, row["first"])]
    if not totals:
        return []
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))[:SIGNALS_PER_KIND]
    reasons = _override_rows(institution, day, len(ranked) * EVIDENCE_PER_SIGNAL)
    return [
        _override_signal(person, n, people, first, reasons[person]) for person, (n, people, first) in ranked
    ]


def _override_rows(institution: Institution, day: dt.date, limit: int) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = defaultdict(list)
    overrides = _entries(institution, day).filter(source=Entry.Source.OVERRIDE).order_by("recorded_at", "id")
    for row in overrides.values(*ENTRY_FIELDS)[:limit]:
        rows[operator_person(row["operator"])].append(row)
    return rows


def _override_signal(person: str, n: int, people: int, first: dt.datetime, rows: Sequence[Row]) -> Signal:
    flagged = n > OVERRIDES_PER_DAY
    severity = HIGH if n > 2 * OVERRIDES_PER_DAY else MEDIUM if flagged else INFO
    entrances = sorted({r["entrance__code"] for r in rows})
    return Signal(
        kind=OVERRIDES,
        severity=severity,
        when=first,
        summary=_("%(operator)s let %(people)s people through by %(n)s overrides")
        % {"operator": person, "people": people, "n": n},
        entrance=", ".join(entrances),
        operator=person,
        count=n,
        flagged=flagged,
        evidence=tuple(
            _evidence(r, f"{r['people']} × «{r['override_reason']}»") for r in rows[:EVIDENCE_PER_SIGNAL]
        ),
    )


# --- 5. passages without scans -------------------------------------------------------------------


def passage_gap_signals(*, institution: Institution, day: dt.date) -> list[Signal]:
    """Per turnstile lane and hour: people counted going in minus the people of accepted, not
    cancelled "in" entries at that lane, when more than zero."""
    start, end = day_range(day)
    counted = (
        Passage.objects.filter(
            lane__entrance__institution=institution,
            direction=Entry.Direction.IN,
            period_start__gte=start,
            period_start__lt=end,
        )
        .annotate(hour=TruncHour("period_start", tzinfo=PARIS))
        .values("lane_id", "hour", "operator")
        .annotate(n=Sum("count"))
    )
    passed: dict[tuple[int, dt.datetime], Counter[str]] = defaultdict(Counter)
    for row in counted:
        passed[row["lane_id"], row["hour"]][row["operator"]] += row["n"]
    if not passed:
        return []
    admitted = _admitted(institution, day, {lane for lane, _hour in passed})
    gaps = [
        (key, sum(ops.values()) - admitted.get(key, 0), ops)
        for key, ops in sorted(passed.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    lanes = Lane.objects.select_related("entrance").in_bulk({key[0] for key, gap, _ops in gaps if gap > 0})
    found = [(key, gap, ops) for key, gap, ops in gaps if gap > 0][:SIGNALS_PER_KIND]
    return [_gap_signal(lanes[key[0]], key[1], gap, ops, admitted.get(key, 0)) for key, gap, ops in found]


def _admitted(institution: Institution, day: dt.date, lane_ids: Iterable[int]) -> dict[tuple[int, Any], int]:
    rows = (
        _accepted_in(institution, day)
        .filter(lane_id__in=list(lane_ids))
        .annotate(hour=TruncHour("recorded_at", tzinfo=PARIS))
        .values("lane_id", "hour")
        .annotate(people=Sum("people"))
    )
    return {(row["lane_id"], row["hour"]): row["people"] or 0 for row in rows}


def _gap_signal(lane: Lane, hour: dt.datetime, gap: int, ops: Counter[str], admitted: int) -> Signal:
    on_duty = sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    passages = list(
        Passage.objects.filter(
            lane=lane,
            direction=Entry.Direction.IN,
            period_start__gte=hour,
            period_start__lt=hour + dt.timedelta(hours=1),
        ).order_by("period_start", "id")[:EVIDENCE_PER_SIGNAL]
    )
    total = sum(ops.values())
    evidence = [
        Evidence(
            at=p.period_start,
            entrance=lane.entrance.code,
            lane=lane.code,
            note=_("%(count)s counted until %(end)s by %(operator)s")
            % {"count": p.count, "end": _hm(p.period_end), "operator": p.operator or "?"},
            nonce=p.nonce,
        )
        for p in passages
    ]
    return Signal(
        kind=PASSAGES_WITHOUT_SCANS,
        severity=HIGH if gap >= TAILGATING_HIGH_AT else MEDIUM,
        when=hour,
        summary=_(
            "%(gap)s people through %(lane)s between %(start)s and %(end)s without a scan "
            "(%(passed)s counted, %(admitted)s admitted); on duty: %(operator)s"
        )
        % {
            "gap": gap,
            "lane": str(lane),
            "start": _hm(hour),
            "end": _hm(hour + dt.timedelta(hours=1)),
            "passed": total,
            "admitted": admitted,
            "operator": on_duty or "?",
        },
        entrance=lane.entrance.code,
        lane=lane.code,
        operator=on_duty,
        count=gap,
        evidence=tuple(evidence),
    )


# --- all of them ---------------------------------------------------------------------------------


def fraud_signals(*, institution: Institution, day: dt.date | None = None) -> list[Signal]:
    """Every signal of the day (today in Paris by default), kind by kind in :data:`KINDS` order."""
    day = day or today()
    return [
        *cross_entrance_signals(institution=institution, day=day),
        *repeated_rejection_signals(institution=institution, day=day),
        *forged_burst_signals(institution=institution, day=day),
        *override_signals(institution=institution, day=day),
        *passage_gap_signals(institution=institution, day=day),
    ]


def signals_by_kind(signals: Iterable[Signal]) -> dict[str, list[Signal]]:
    """The signals grouped by kind, every kind present (empty lists too), in :data:`KINDS` order."""
    grouped: dict[str, list[Signal]] = {kind: [] for kind in KINDS}
    for signal in signals:
        grouped[signal.kind].append(signal)
    return grouped
