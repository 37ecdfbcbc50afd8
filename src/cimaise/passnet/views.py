"""Pages of the pass network: the holder's pass (phone page and PDF), the operator's network
dashboard (sites today, sales, fraud signals, settlements), a partner's portal (its sites'
entries, rejections and statements), and statements as PDF and CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from cimaise.core.auth import page_actor
from cimaise.core.errors import NotFound
from cimaise.passnet import documents, fraud, selectors
from cimaise.passnet.decide import PARIS
from cimaise.passnet.documents import pass_qr
from cimaise.passnet.models import PassEntry
from cimaise.passnet.settlement import month_bounds, month_parse, statement_for

SIGNAL_DAYS = 7


def _pass(code_id: str) -> Any:
    try:
        return selectors.pass_by_code_id(code_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


@require_GET
def pass_page(request: HttpRequest, code_id: str) -> HttpResponse:
    found = _pass(code_id)
    return render(request, "passnet/pass.html", {"p": found, "qr": pass_qr(found, size_mm=60)})


@require_GET
def pass_pdf(request: HttpRequest, code_id: str) -> HttpResponse:
    found = _pass(code_id)
    pdf = documents.pass_pdf(found=found, language=translation.get_language() or "en")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="pass-{code_id[:8]}.pdf"'
    return response


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    operator = selectors.access_operator(page_actor(request))
    now = timezone.now()
    today = now.astimezone(PARIS).date()
    start, end = month_bounds(today.replace(day=1))
    signals = fraud.signals_read(operator=operator, start=now - dt.timedelta(days=SIGNAL_DAYS), end=now)
    context = {
        "operator": operator,
        "today": today,
        "sites": selectors.network_day(operator, today),
        "sales": selectors.sales_of_month(operator, start, end),
        "signals": signals[:100],
        "signal_count": len(signals),
        "settlements": selectors.settlements_of(operator),
        "this_month": today.replace(day=1),
    }
    return render(request, "passnet/dashboard.html", context)


@login_required
@require_GET
def portal(request: HttpRequest) -> HttpResponse:
    sites = selectors.access_partner_sites(page_actor(request))
    blocks = [
        {
            "site": site,
            "accepted": selectors.site_entries(site, result=PassEntry.Result.ACCEPTED),
            "rejected": selectors.site_entries(site, result=PassEntry.Result.REJECTED),
            "settlements": selectors.settlements_of(site.operator),
        }
        for site in sites
    ]
    return render(request, "passnet/portal.html", {"blocks": blocks})


def _statement(request: HttpRequest, month: str, site: str) -> tuple[Any, Any]:
    found = selectors.access_statement_site(page_actor(request), site)
    return statement_for(found.operator, month_parse(month)), found


@login_required
@require_GET
def statement_pdf(request: HttpRequest, month: str, site: str) -> HttpResponse:
    statement, found = _statement(request, month, site)
    pdf = documents.statement_pdf(
        statement=statement, site=found, language=translation.get_language() or "en"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{site}-{month}.pdf"'
    return response


@login_required
@require_GET
def statement_csv(request: HttpRequest, month: str, site: str) -> HttpResponse:
    statement, found = _statement(request, month, site)
    response = HttpResponse(documents.statement_csv(statement=statement, site=found), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="statement-{site}-{month}.csv"'
    return response
