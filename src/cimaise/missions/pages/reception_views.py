"""The reception team's page at a site (the conservation centre by default): who is expected on
a day with their host and zones, lunches for catering, a week's chart against the capacity,
badges out, and the forms to issue and take back badges and to write the access register."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cimaise.core.auth import page_actor
from cimaise.core.errors import InvalidInput, NotFound
from cimaise.core.models import Site
from cimaise.missions import reception
from cimaise.missions.documents import handover_pdf
from cimaise.missions.models import BadgeIssue
from cimaise.missions.pages import charts
from cimaise.missions.pages.forms import BadgeIssueForm, BadgeReturnForm, ReceptionForm, RegisterForm
from cimaise.missions.roles import RECEIVE

DEFAULT_SITE = "CCL"


def _default_site(request: HttpRequest) -> str:
    actor = page_actor(request)
    home = actor.person.home_site if actor.person else None
    if home is not None and home.kind == Site.Kind.CONSERVATION_CENTRE:
        return home.code
    centre = Site.objects.filter(institution=actor.institution, kind=Site.Kind.CONSERVATION_CENTRE).first()
    return centre.code if centre else DEFAULT_SITE


@login_required
@require_GET
def reception_page(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    form = ReceptionForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound and valid else {}
    site = reception.access_reception_site(actor, data.get("site") or _default_site(request))
    day = data.get("date") or timezone.localdate()
    expected = reception.expected_day(site=site, day=day)
    week = [reception.expected_day(site=site, day=day + dt.timedelta(days=n)) for n in range(7)]
    context = {
        "form": form,
        "site": site,
        "day": expected,
        "date": day,
        "chart": charts.week_chart(
            week, _("People expected at %(site)s over the week") % {"site": site.name}
        ),
        "warnings": [d for d in week if d.over_capacity],
        "badges_out": reception.badges_out(site),
        "register": reception.register_day(site, day),
        "issue_form": BadgeIssueForm(initial={"site": site.code}),
        "return_form": BadgeReturnForm(initial={"site": site.code}),
        "register_form": RegisterForm(initial={"site": site.code}),
    }
    return render(request, "missions/reception.html", context, status=200 if valid else 400)


def _back(site: str) -> HttpResponse:
    return redirect(f"{reverse('missions:reception')}?site={site}")


def _valid(form: BadgeIssueForm | BadgeReturnForm | RegisterForm) -> dict[str, Any]:
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise InvalidInput(f"{name}: {errors[0]}", field=name)
    return dict(form.cleaned_data)


@login_required
@require_POST
def badge_issue(request: HttpRequest) -> HttpResponse:
    data = _valid(BadgeIssueForm(request.POST))
    issue = reception.badge_issue(actor=page_actor(request), **data)
    messages.success(
        request, _("Badge %(badge)s issued to %(holder)s.") % {"badge": data["badge"], "holder": issue.holder}
    )
    return _back(data["site"])


@login_required
@require_POST
def badge_return(request: HttpRequest) -> HttpResponse:
    data = _valid(BadgeReturnForm(request.POST))
    reception.badge_return(actor=page_actor(request), **data)
    messages.success(request, _("Badge %(badge)s is back.") % {"badge": data["badge"]})
    return _back(data["site"])


@login_required
@require_POST
def register_write(request: HttpRequest) -> HttpResponse:
    data = _valid(RegisterForm(request.POST))
    reception.access_record(actor=page_actor(request), **data)
    return _back(data["site"])


@login_required
@require_GET
def badge_slip(request: HttpRequest, issue_id: int) -> HttpResponse:
    """The handover slip of a badge issue, as PDF."""
    actor = page_actor(request)
    issue = (
        BadgeIssue.objects.select_related("badge__site", "holder__user", "issued_by__user", "order")
        .filter(pk=issue_id, badge__site__institution=actor.institution)
        .first()
    )
    if issue is None or not actor.can(RECEIVE):
        raise NotFound("no such badge issue", field="issue")
    pdf = handover_pdf(issue=issue, language=request.LANGUAGE_CODE)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="badge-{issue.badge.number}-{issue.pk}.pdf"'
    return response
