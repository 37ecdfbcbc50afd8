"""Printable documents of the pass network, rendered by WeasyPrint from HTML templates (fetching
nothing: the QR is inline SVG, fonts are the system's): a pass (A6-ish card on A4) and a partner's
monthly statement (PDF and CSV)."""

from __future__ import annotations

import csv
import io

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from cimaise.passnet.models import PartnerSite, Pass
from cimaise.passnet.settlement import Statement
from cimaise.ticketing.codes import qr_svg

QR_MM = 50
CSV_COLUMNS = ("month", "site", "site_name", "kind", "for_month", "visits", "amount", "currency")


def pass_qr(found: Pass, *, size_mm: float = QR_MM) -> SafeString:
    return mark_safe(qr_svg(found.code, size_mm=size_mm))  # noqa: S308 - SVG drawn from the code's modules


def _pdf(html: str) -> bytes:
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=()), media_type="print")
    pdf: bytes = document.write_pdf()
    return pdf


def pass_pdf(*, found: Pass, language: str) -> bytes:
    """The printable pass in ``language``."""
    with translation.override(language):
        html = render_to_string("passnet/documents/pass.html", {"p": found, "qr": pass_qr(found)})
    return _pdf(html)


def statement_lines(statement: Statement, site: PartnerSite) -> list[object]:
    return [line for line in statement.lines if line.site.pk == site.pk]


def statement_pdf(*, statement: Statement, site: PartnerSite, language: str) -> bytes:
    """A partner site's statement for the month, in ``language``."""
    lines = statement_lines(statement, site)
    total = sum((line.amount for line in lines), start=0)  # type: ignore[attr-defined]
    with translation.override(language):
        html = render_to_string(
            "passnet/documents/statement.html",
            {"s": statement, "site": site, "lines": lines, "total": total},
        )
    return _pdf(html)


def statement_csv(*, statement: Statement, site: PartnerSite) -> str:
    """A partner site's statement lines as CSV (amounts with a dot, in EUR)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in statement.lines:
        if line.site.pk != site.pk:
            continue
        writer.writerow(
            (
                f"{statement.month:%Y-%m}",
                site.code,
                site.name,
                line.kind,
                f"{line.for_month:%Y-%m}",
                line.visits,
                f"{line.amount:.2f}",
                statement.currency,
            )
        )
    return out.getvalue()
