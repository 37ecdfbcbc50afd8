"""The badge handover slip (PDF): who received which badge, for which zones, when, issued by whom,
with boxes for both signatures; printed at the reception desk."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from cimaise.missions.models import BadgeIssue

TEMPLATE = "missions/documents/handover.html"


def handover_html(*, issue: BadgeIssue, language: str) -> str:
    with translation.override(language):
        return render_to_string(TEMPLATE, {"issue": issue, "site": issue.badge.site})


def handover_pdf(*, issue: BadgeIssue, language: str) -> bytes:
    """The slip of one badge issue as PDF bytes (fetches nothing)."""
    document = HTML(
        string=handover_html(issue=issue, language=language),
        url_fetcher=URLFetcher(allowed_protocols=()),
        media_type="print",
    )
    pdf: bytes = document.write_pdf()
    return pdf
