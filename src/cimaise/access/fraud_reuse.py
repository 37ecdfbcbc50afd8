"""Fraud signal 1: a code let in at two entrances (see :mod:`cimaise.access.fraud`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Count
from django.utils.translation import gettext as _

from cimaise.access import decide as d
from cimaise.access.fraud_base import (
    CROSS_ENTRANCE,
    ENTRY_FIELDS,
    HIGH,
    REPLAYED_CODES_MAX,
    SIGNALS_PER_KIND,
    Row,
    Signal,
    _accepted_in,
    _entries,
    _evidence,
    _short,
)
from cimaise.access.models import Entrance, Entry
from cimaise.access.services import rules_of
from cimaise.core.models import Institution
from cimaise.ticketing.codes import CodePayload

# --- 1. the same code at two entrances ---------------------------------------------------------


def cross_entrance_signals(*, institution: Institution, day: dt.date) -> list[Signal]:
    """Codes let in at two entrances (see the module docstring)."""
    found = _offline_reuse(institution, day)
    reported = {s.code_id for s in found}  # the same outage, seen from the online entry's side
    return found + [s for s in _beyond_rule(institution, day) if s.code_id not in reported]


def _offline_reuse(institution: Institution, day: dt.date) -> list[Signal]:
    flagged = list(
        _entries(institution, day)
        .filter(source=Entry.Source.OFFLINE, result=Entry.Result.ACCEPTED, central_reason=d.ALREADY_USED)
        .order_by("recorded_at", "id")
        .values(*ENTRY_FIELDS)[:SIGNALS_PER_KIND]
    )
    codes = {row["code_id"] for row in flagged if row["code_id"]}
    others: dict[str, list[Row]] = defaultdict(list)
    rows = _accepted_in(institution, day).filter(code_id__in=codes).order_by("recorded_at", "id")
    for row in rows.values(*ENTRY_FIELDS):
        others[row["code_id"]].append(row)
    return [_offline_signal(row, others[row["code_id"]]) for row in flagged]


def _offline_signal(row: Row, others: Sequence[Row]) -> Signal:
    """The offline entry, and the entry it clashed with: another entrance's first, else any."""
    candidates = [o for o in others if o["id"] != row["id"]]
    elsewhere = [o for o in candidates if o["entrance_id"] != row["entrance_id"]] or candidates
    earlier = elsewhere[:1]
    where = earlier[0]["entrance__code"] if earlier else "?"
    return Signal(
        kind=CROSS_ENTRANCE,
        severity=HIGH,
        when=row["recorded_at"],
        summary=_(
            "Code %(code)s let in offline at %(entrance)s; the central service had it used already "
            "(at %(other)s)"
        )
        % {"code": _short(row["code_id"]), "entrance": row["entrance__code"], "other": where},
        entrance=row["entrance__code"],
        lane=row["lane__code"],
        operator=row["operator"],
        code_id=row["code_id"],
        count=1 + len(earlier),
        evidence=tuple(
            [_evidence(o) for o in earlier] + [_evidence(row, _("offline, central answer: already_used"))]
        ),
    )


def _beyond_rule(institution: Institution, day: dt.date) -> list[Signal]:
    """Codes accepted "in" at two entrances or more, replayed against the entrances' rules."""
    codes = list(
        _accepted_in(institution, day)
        .exclude(code_id="")
        .values("code_id")
        .annotate(entrances=Count("entrance_id", distinct=True))
        .filter(entrances__gte=2)
        .order_by("code_id")
        .values_list("code_id", flat=True)[:REPLAYED_CODES_MAX]
    )
    if not codes:
        return []
    rows = _entries(institution, day).filter(
        code_id__in=codes, result=Entry.Result.ACCEPTED, cancelled_at__isnull=True
    )
    by_code: dict[str, list[Row]] = defaultdict(list)
    columns = (*ENTRY_FIELDS, "ticket__slot__product_id", "ticket__slot__entrance_id")
    for row in rows.order_by("recorded_at", "id").values(*columns):
        by_code[row["code_id"]].append(row)
    rules = {e.pk: rules_of(e) for e in Entrance.objects.filter(institution=institution)}
    return [s for code in codes for s in _replay(by_code[code], rules)][:SIGNALS_PER_KIND]


def _replay(rows: Sequence[Row], rules: dict[int, dict[int | None, d.Rule]]) -> list[Signal]:
    """Each "in" entry after an entry at another entrance, decided again as the central service
    would with everything known now; one that would be refused is a signal."""
    signals = []
    for index, row in enumerate(rows):
        before = rows[:index]
        if row["direction"] != Entry.Direction.IN or row["source"] == Entry.Source.OVERRIDE:
            continue
        elsewhere = [b for b in before if b["direction"] == "in" and b["entrance_id"] != row["entrance_id"]]
        if not elsewhere:
            continue
        reason = _decide_again(row, before, rules)
        if not d.is_accepted(reason):
            signals.append(_beyond_signal(row, elsewhere[-1], reason))
    return signals


def _decide_again(row: Row, before: Sequence[Row], rules: dict[int, dict[int | None, d.Rule]]) -> str:
    product_id = row["ticket__slot__product_id"] or 0
    payload = CodePayload(
        code_id=row["code_id"],
        product_id=product_id,
        entrance_id=row["ticket__slot__entrance_id"] or row["entrance_id"],
        starts_at=row["recorded_at"],  # not read: a code seen before is never judged on its window
        window_minutes=0,
        tariff_id=0,
    )
    return d.code_decide(
        payload,
        entrance_id=row["entrance_id"],
        direction=Entry.Direction.IN,
        rule=d.rule_pick(rules.get(row["entrance_id"], {}), product_id),
        previous=[d.Seen(direction=b["direction"], at=b["recorded_at"]) for b in before],
        now=row["recorded_at"],
    )


def _beyond_signal(row: Row, earlier: Row, reason: str) -> Signal:
    return Signal(
        kind=CROSS_ENTRANCE,
        severity=HIGH,
        when=row["recorded_at"],
        summary=_("Code %(code)s let in at %(entrance)s after %(other)s; its rule says %(reason)s")
        % {
            "code": _short(row["code_id"]),
            "entrance": row["entrance__code"],
            "other": earlier["entrance__code"],
            "reason": reason,
        },
        entrance=row["entrance__code"],
        lane=row["lane__code"],
        operator=row["operator"],
        code_id=row["code_id"],
        count=2,
        evidence=(_evidence(earlier), _evidence(row, f"{row['source']} {row['reason']}, rule: {reason}")),
    )
