"""Supervisors' pages: the live monitor (its panel refreshes itself through htmx every
``BOARD_REFRESH_SECONDS``) and the day's fraud signals, with their CSV export. Each needs the
permission to view entries; anyone else gets 403."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cimaise.access import fraud, monitor
from cimaise.access.decide import PARIS
from cimaise.access.pages import charts
from cimaise.access.pages.forms import DayForm
from cimaise.access.roles import VIEW
from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import page_actor
from cimaise.core.conf import setting
from cimaise.core.csvcells import spreadsheet_safe
from cimaise.core.models import Institution

KIND_TITLES = {
    fraud.CROSS_ENTRANCE: gettext_lazy("One code at two entrances"),
    fraud.REPEATED_REJECTIONS: gettext_lazy("One code refused again and again"),
    fraud.FORGED_BURST: gettext_lazy("Forged codes"),
    fraud.OVERRIDES: gettext_lazy("Overrides per operator"),
    fraud.PASSAGES_WITHOUT_SCANS: gettext_lazy("Passages without scans"),
}
KIND_HELP = {
    fraud.CROSS_ENTRANCE: gettext_lazy(
        "Let in at two entrances: during an outage (found when the agents resynced), or beyond "
        "what the entrance's rule allows."
    ),
    fraud.REPEATED_REJECTIONS: gettext_lazy("Refused %(n)s times or more in the day."),
    fraud.FORGED_BURST: gettext_lazy("%(n)s forged codes or more at one entrance in one hour."),
    fraud.OVERRIDES: gettext_lazy("Every operator who let visitors through; flagged above %(n)s a day."),
    fraud.PASSAGES_WITHOUT_SCANS: gettext_lazy(
        "People a turnstile counted beyond the people it admitted, per lane and hour, with the "
        "operator on duty."
    ),
}
THRESHOLDS = {
    fraud.REPEATED_REJECTIONS: fraud.REPEATED_REJECTIONS_AT,
    fraud.FORGED_BURST: fraud.FORGED_PER_HOUR_AT,
    fraud.OVERRIDES: fraud.OVERRIDES_PER_DAY,
}
CSV_COLUMNS = (
    "kind", "severity", "flagged", "when", "entrance", "lane", "operator", "code_id", "count",
    "summary", "evidence",
)  # fmt: skip


def _supervised(request: HttpRequest) -> Institution:
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, VIEW)
    return institution


# --- the monitor ---------------------------------------------------------------------------------


def _monitor_context(institution: Institution) -> dict[str, Any]:
    now = monitor.monitor_read(institution=institution)
    entrances = [
        {
            "e": e,
            "lanes": [
                {
                    "s": lane,
                    "chart": charts.lane_chart(
                        lane.buckets,
                        _("Scans per 5 minutes at %(entrance)s, lane %(lane)s")
                        % {"entrance": e.name, "lane": lane.code},
                    ),
                }
                for lane in e.lanes
            ],
        }
        for e in now.entrances
    ]
    return {
        "monitor": now,
        "entrances": entrances,
        "online_seconds": int(monitor.ONLINE_WITHIN.total_seconds()),
        "refresh_seconds": int(setting("BOARD_REFRESH_SECONDS")),
    }


@login_required
@require_GET
def monitor_page(request: HttpRequest) -> HttpResponse:
    """The whole page; its panel refreshes itself."""
    return render(request, "access/monitor.html", _monitor_context(_supervised(request)))


@login_required
@require_GET
def monitor_panel(request: HttpRequest) -> HttpResponse:
    """The panel alone (what the page polls)."""
    return render(request, "access/_monitor_panel.html", _monitor_context(_supervised(request)))


# --- fraud signals -------------------------------------------------------------------------------


@login_required
@require_GET
def fraud_page(request: HttpRequest) -> HttpResponse:
    """The day's signals grouped by kind, each with its evidence."""
    institution = _supervised(request)
    form = DayForm(request.GET or None)
    day = form.day(fraud.today())
    grouped = fraud.signals_by_kind(fraud.fraud_signals(institution=institution, day=day))
    groups = [
        {
            "kind": kind,
            "title": KIND_TITLES[kind],
            "help": str(KIND_HELP[kind]) % {"n": THRESHOLDS.get(kind, "")},
            "signals": signals,
        }
        for kind, signals in grouped.items()
    ]
    flagged = sum(1 for signals in grouped.values() for s in signals if s.flagged)
    context = {"form": form, "day": day, "groups": groups, "flagged": flagged}
    return render(request, "access/fraud.html", context, status=400 if form.errors else 200)


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return spreadsheet_safe(value)


def _csv_row(signal: fraud.Signal) -> list[str]:
    when = timezone.localtime(signal.when, PARIS).isoformat()
    evidence = " | ".join(e.text() for e in signal.evidence)
    values = (
        signal.kind, signal.severity, "yes" if signal.flagged else "no", when, signal.entrance, signal.lane,
        signal.operator, signal.code_id, signal.count, signal.summary, evidence,
    )  # fmt: skip
    return [_cell(v) for v in values]


@login_required
@require_GET
def fraud_export(request: HttpRequest) -> HttpResponse:
    """The day's signals as CSV: one row per signal, its evidence in the last column."""
    institution = _supervised(request)
    day = DayForm(request.GET or None).day(fraud.today())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="fraud-signals-{day.isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for signal in fraud.fraud_signals(institution=institution, day=day):
        writer.writerow(_csv_row(signal))
    return response
