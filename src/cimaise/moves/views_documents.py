"""Staff downloads of the transfer documents as PDF, in the requester's language: a crate's
label, a convoy's manifest and its arrival receipt. Objects come through the ``moves.access``
gates: another institution's crate or convoy is a 404, a role without custody a 403."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cimaise.collection.access import access_work
from cimaise.core.access import require_permission
from cimaise.core.auth import page_actor
from cimaise.moves.access import access_convoy, access_crate
from cimaise.moves.documents.condition import (
    Alteration,
    ConditionReportView,
    Examination,
    Overall,
    Phase,
    Photo,
    condition_report_pdf,
    work_identity,
)
from cimaise.moves.documents.labels import crate_label_pdf
from cimaise.moves.documents.manifests import convoy_manifest_pdf
from cimaise.moves.documents.receipts import arrival_receipt_pdf
from cimaise.moves.models import ConditionReport


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(name: str) -> str:
    """A code as a file name part: letters, digits, dot, dash, underscore; anything else a dash."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-" for c in name)


@require_safe
@login_required
@never_cache
def crate_label(request: HttpRequest, barcode: str) -> HttpResponse:
    """The crate's label; ``?convoy=CODE`` prints it for that convoy rather than its current one."""
    actor = page_actor(request)
    crate = access_crate(actor, barcode)
    code = request.GET.get("convoy", "")
    convoy = access_convoy(actor, code) if code else None
    return _pdf(crate_label_pdf(crate, convoy=convoy), f"crate-{_safe(crate.barcode)}-label.pdf")


@require_safe
@login_required
@never_cache
def convoy_manifest(request: HttpRequest, code: str) -> HttpResponse:
    convoy = access_convoy(page_actor(request), code)
    return _pdf(convoy_manifest_pdf(convoy), f"convoy-{_safe(convoy.code)}-manifest.pdf")


@require_safe
@login_required
@never_cache
def arrival_receipt(request: HttpRequest, code: str) -> HttpResponse:
    convoy = access_convoy(page_actor(request), code)
    return _pdf(arrival_receipt_pdf(convoy), f"convoy-{_safe(convoy.code)}-receipt.pdf")


def _examination(report: ConditionReport) -> Examination:
    return Examination(
        phase=Phase(report.phase),
        overall=Overall(report.overall),
        examiner=report.examiner,
        examined_at=report.examined_at,
        notes=report.notes,
        alterations=tuple(
            Alteration(a["zone"], a.get("kind", ""), a.get("description", "")) for a in report.alterations
        ),
        photos=tuple(Photo(p.name, p.sha256) for p in report.photos.all()),
    )


@require_safe
@login_required
@never_cache
def condition_report(request: HttpRequest, inventory: str) -> HttpResponse:
    """The work's latest before-departure and after-arrival reports, side by side."""
    actor = page_actor(request)
    work = access_work(actor, inventory)
    require_permission(actor, "moves.view_conditionreport")
    reports = (
        work.condition_reports.prefetch_related("photos").select_related("convoy").order_by("-examined_at")
    )
    latest = {phase: next((r for r in reports if r.phase == phase), None) for phase in ("before", "after")}
    found = [r for r in (latest["before"], latest["after"]) if r is not None]
    if not found:
        raise Http404("no condition report for this work")
    convoy = next((r.convoy.code for r in reversed(found) if r.convoy), "")
    view = ConditionReportView(
        work=work_identity(work), examinations=[_examination(r) for r in found], convoy_code=convoy
    )
    return _pdf(condition_report_pdf(view), f"condition-{_safe(work.inventory)}.pdf")
