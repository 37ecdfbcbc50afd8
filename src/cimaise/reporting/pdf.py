"""The monthly report: the month's totals and key charts and tables, as HTML then PDF
(WeasyPrint, no network fetches)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from cimaise.reporting import queries
from cimaise.reporting.dashboards import ATTENDANCE, FRAUD, SALES, SLOTS, TRANSFERS, Table, table_run
from cimaise.reporting.params import month_parse
from cimaise.reporting.queries import Filters

SECTIONS = (
    (ATTENDANCE, ("by-day", "by-entrance", "free")),
    (SLOTS, ("by-product",)),
    (SALES, ("by-channel", "by-provider")),
    (TRANSFERS, ("by-department", "incidents")),
    (FRAUD, ("by-entrance",)),
)


def _totals(tables: dict[str, Table]) -> dict[str, Any]:
    days = tables["attendance/by-day"].rows
    channels = tables["sales/by-channel"].rows
    return {
        "visitors": sum(r[1] for r in days),
        "year_before": sum(r[2] for r in days),
        "orders": sum(r[1] for r in channels),
        "revenue": sum((r[3] for r in channels), start=queries._zero()),
        "refunds": sum((r[4] for r in channels), start=queries._zero()),
        "refused": sum(r[4] for r in tables["fraud/by-entrance"].rows),
    }


def monthly_context(*, institution: str, month: str, now: dt.datetime | None = None) -> dict[str, Any]:
    first, last = month_parse(month)
    f = Filters(institution, first, last)
    tables: dict[str, Table] = {}
    with queries.connect() as con:
        for dashboard, keys in SECTIONS:
            for key in keys:
                spec = dashboard.table(key)
                assert spec is not None  # noqa: S101  (SECTIONS names existing tables)
                tables[f"{dashboard.key}/{key}"] = table_run(con, spec, f, now or timezone.now())
    return {
        "month": first,
        "institution": institution,
        "tables": list(tables.values()),
        "totals": _totals(tables),
    }


def monthly_html(*, institution: str, month: str, language: str = "en") -> str:
    with translation.override(language):
        return render_to_string(
            "reporting/monthly.html", monthly_context(institution=institution, month=month)
        )


def monthly_pdf(*, institution: str, month: str, language: str = "en") -> bytes:
    """The monthly report of ``month`` (YYYY-MM) as PDF bytes."""
    html = monthly_html(institution=institution, month=month, language=language)
    pdf: bytes = HTML(
        string=html, url_fetcher=URLFetcher(allowed_protocols=()), media_type="print"
    ).write_pdf()
    return pdf
