"""The purchasing pages, under /purchasing/ (namespace ``purchasing``): the register (coverage
with its gaps, renewals ahead, contracts, vehicles, yearly indicators), a contract, and the CSV
import and export. Purchasing officers and administrators only; anyone else gets 403."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError, NotFound
from cimaise.core.models import Institution, Site
from cimaise.purchasing import csv_io, selectors, services
from cimaise.purchasing.pages import charts
from cimaise.purchasing.pages.forms import DayForm, ImportForm, NeedForm
from cimaise.purchasing.roles import CHANGE, VIEW
from cimaise.purchasing.rules import duration_months, essential_data_required


def _officer(request: HttpRequest, permission: str = VIEW) -> tuple[Actor, Institution]:
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, permission)
    return actor, institution


@login_required
@require_GET
def register_page(request: HttpRequest) -> HttpResponse:
    """The register on a day (today by default): coverage, renewals, contracts, indicators."""
    actor, institution = _officer(request)
    form = DayForm(request.GET or None)
    day = form.day(selectors.today())
    rows = selectors.coverage(institution, on=day)
    years = selectors.indicators(institution)
    context: dict[str, Any] = {
        "form": form,
        "day": day,
        "coverage": rows,
        "gaps": sum(1 for row in rows if row.status == selectors.GAP),
        "renewals": selectors.renewals_ahead(institution, on=day),
        "contracts": selectors.contracts_of(institution),
        "vehicles": selectors.vehicles_of(institution),
        "years": years,
        "chart": charts.indicators_chart(
            years, _("Procedures launched and notified, groupings joined, per year")
        ),
        "can_change": actor.can(CHANGE),
    }
    return render(request, "purchasing/register.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def contract_page(request: HttpRequest, reference: str) -> HttpResponse:
    """A contract with its holders, needs, follow-on contracts, essential data and alerts."""
    _actor, institution = _officer(request)
    contract = selectors.contract_by_reference(institution, reference)
    if contract is None:
        raise NotFound(f"no contract {reference!r}", field="reference")
    context = {
        "contract": contract,
        "renewal_on": selectors.contract_renewal(contract),
        "months": duration_months(contract.start_on, contract.end_on),
        "essential": essential_data_required(csv_io.contract_spec(contract)),
        "follow_ons": contract.follow_ons.order_by("reference"),
    }
    return render(request, "purchasing/contract.html", context)


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """Every contract as CSV, in the import's format."""
    _actor, institution = _officer(request)
    text = csv_io.contracts_csv(selectors.contracts_of(institution))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contracts.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """The upload form; POST imports the file, all rows or none, else shows every row's problem."""
    actor, _institution = _officer(request, CHANGE)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = csv_io.contracts_import(actor=actor, data=upload.read(), filename=upload.name or "")
        except DomainError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            errors = list(details.get("errors", []))
            if not errors:
                form.add_error("file", exc.message)
        else:
            text = _(
                "%(rows)s rows read: %(created)s contracts created, %(changed)s changed, %(same)s unchanged."
            )
            messages.success(
                request,
                text
                % {
                    "rows": result.rows,
                    "created": len(result.created),
                    "changed": len(result.changed),
                    "same": len(result.unchanged),
                },  # fmt: skip
            )
            return redirect("purchasing:register")
    status = 422 if (errors or form.errors) else 200
    return render(request, "purchasing/import.html", {"form": form, "errors": errors}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def need_new(request: HttpRequest) -> HttpResponse:
    """Record a need at one of the institution's sites."""
    actor, institution = _officer(request, CHANGE)
    sites = [(site.code, site.name) for site in Site.objects.filter(institution=institution)]
    form = NeedForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            need = services.need_create(actor=actor, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Need %(code)s recorded.") % {"code": need.code})
            return redirect("purchasing:register")
    return render(request, "purchasing/need_new.html", {"form": form}, status=422 if form.errors else 200)
