"""The condition report form ("constat d'état") for staff, on a phone at the dock or a desk:
phase, overall state, alterations zone by zone, photos. The service does the checks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cimaise.collection.access import access_work
from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError
from cimaise.moves.access import access_convoy
from cimaise.moves.condition import Photo, condition_report_record
from cimaise.moves.models import ConditionReport

ZONES = 6


class ConditionForm(forms.Form):
    phase = forms.ChoiceField(label=gettext_lazy("When"), choices=ConditionReport.Phase.choices)
    overall = forms.TypedChoiceField(
        label=gettext_lazy("Overall state"), choices=ConditionReport.Overall.choices, coerce=int
    )
    convoy = forms.CharField(label=gettext_lazy("Convoy"), required=False, max_length=32)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AlterationForm(forms.Form):
    zone = forms.CharField(label=gettext_lazy("Zone"), required=False, max_length=80)
    kind = forms.CharField(label=gettext_lazy("Alteration"), required=False, max_length=80)
    description = forms.CharField(label=gettext_lazy("Description"), required=False, max_length=500)


Alterations = forms.formset_factory(AlterationForm, extra=ZONES, max_num=ZONES)


def _alterations(formset: Any) -> list[dict[str, str]]:
    rows = [f.cleaned_data for f in formset.forms if f.cleaned_data.get("zone") or f.cleaned_data.get("kind")]
    return [
        {"zone": r.get("zone", ""), "kind": r.get("kind", ""), "description": r.get("description", "")}
        for r in rows
    ]


def _record(
    actor: Actor, work: Any, data: dict[str, Any], alterations: list[dict[str, str]], request: HttpRequest
) -> None:
    photos = [
        Photo(f.name or "photo", f.content_type or "", f.read()) for f in request.FILES.getlist("photos")
    ]
    convoy = access_convoy(actor, data["convoy"]) if data["convoy"] else None
    condition_report_record(
        actor=actor, work=work, phase=data["phase"], overall=data["overall"], alterations=alterations,
        notes=data["notes"], convoy=convoy, photos=photos,
    )  # fmt: skip


@login_required
def condition_new(request: HttpRequest, inventory: str) -> HttpResponse:
    """Show the form, or record the report and go back to the work's page."""
    actor = page_actor(request)
    work = access_work(actor, inventory)
    require_permission(actor, "moves.add_conditionreport")
    form = ConditionForm(request.POST or None)
    formset = Alterations(request.POST or None, prefix="alt")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            _record(actor, work, form.cleaned_data, _alterations(formset), request)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Condition report recorded."))
            return redirect("custody:work", inventory=work.inventory)
    context = {"work": work, "form": form, "formset": formset}
    return render(request, "moves/condition_new.html", context, status=400 if form.errors else 200)
