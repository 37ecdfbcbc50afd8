"""Finance pages under /payments/reconciliation/: the runs with the upload form, one run with
its totals and differences, and its differences as CSV. Thin: authorize, read, call the
service, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError, InvalidInput
from cimaise.payments import reconciliation as rec
from cimaise.payments.statements import MAX_BYTES

PROVIDER_NAMES = {"alipay": "Alipay", "wechatpay": "WeChat Pay", "sandbox": gettext_lazy("Sandbox")}


class StatementForm(forms.Form):
    provider = forms.ChoiceField(label=gettext_lazy("Provider"), choices=list(PROVIDER_NAMES.items()))
    day = forms.DateField(
        label=gettext_lazy("Day of the statement"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Alipay and WeChat Pay cut their statements at midnight, Beijing time."),
    )
    statement = forms.FileField(
        label=gettext_lazy("Statement file"),
        help_text=gettext_lazy("Alipay trade bill (CSV or its zip), WeChat Pay trade bill, or sandbox CSV."),
    )

    def clean_statement(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["statement"]
        if (upload.size or 0) > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 2**20})
        return upload


def _attach(form: StatementForm, exc: DomainError) -> None:
    """The service's refusal next to the field it names, with the line for a bad file."""
    field = exc.field if exc.field in form.fields else None
    message = exc.message
    if isinstance(exc, InvalidInput) and isinstance(exc.details, dict) and "line" in exc.details:
        message = _("Line %(line)s: %(message)s") % {
            "line": exc.details["line"],
            "message": message.split(": ", 1)[-1],
        }
    form.add_error(field, message)


def _yesterday() -> dt.date:
    """A day's statement is ready the next morning: yesterday's is the one usually reconciled."""
    return timezone.localdate() - dt.timedelta(days=1)


def _list_context(request: HttpRequest, form: StatementForm | None) -> dict[str, Any]:
    actor = page_actor(request)
    institution = own_institution(actor)
    can_add = actor.can(rec.ADD)
    return {
        "runs": rec.reconciliation_runs(institution=institution),
        "form": form or (StatementForm(initial={"day": _yesterday()}) if can_add else None),
        "can_add": can_add,
        "providers": PROVIDER_NAMES,
    }


@login_required
@require_http_methods(["GET", "POST"])
def reconciliation(request: HttpRequest) -> HttpResponse:
    """The latest runs and, for those who may reconcile, the upload form (POST: run it)."""
    actor = page_actor(request)
    require_permission(actor, rec.VIEW)
    if request.method != "POST":
        return render(request, "payments/reconciliation.html", _list_context(request, None))
    require_permission(actor, rec.ADD)
    form = StatementForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["statement"]
        try:
            run = rec.reconciliation_run(
                actor=actor,
                provider=form.cleaned_data["provider"],
                day=form.cleaned_data["day"],
                statement=upload.read(),
                filename=upload.name or "",
            )
        except DomainError as exc:
            _attach(form, exc)
        else:
            text = ngettext("%(n)s difference found.", "%(n)s differences found.", run.differences)
            messages.success(request, text % {"n": run.differences})
            return redirect("payments:reconciliation-run", run_id=run.pk)
    return render(request, "payments/reconciliation.html", _list_context(request, form), status=422)


@login_required
def reconciliation_run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run: the statement, the counts and totals on both sides, and every difference."""
    run = rec.access_reconciliation_run(page_actor(request), run_id)
    context = {
        "run": run,
        "provider_name": PROVIDER_NAMES.get(run.provider, run.provider),
        "totals": rec.reconciliation_totals(run=run),
        "lines": rec.reconciliation_lines(run=run),
    }
    return render(request, "payments/reconciliation_run.html", context)


@login_required
def reconciliation_run_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's differences as a CSV file."""
    run = rec.access_reconciliation_run(page_actor(request), run_id)
    response = HttpResponse(rec.reconciliation_csv(run=run), content_type="text/csv; charset=utf-8")
    name = f"reconciliation-{run.provider}-{run.day.isoformat()}-{run.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
