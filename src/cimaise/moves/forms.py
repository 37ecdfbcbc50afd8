"""Forms of the custody pages: the filters of the lists, the date-time picker, the resolve form."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from cimaise.collection.models import Department
from cimaise.moves.models import Anomaly, Status


class WorkSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Inventory number, barcode, title or artist"), max_length=100, required=False, strip=True
    )
    department = forms.ChoiceField(
        label=_("Department"), choices=[("", _("All departments")), *Department.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Custody status"), choices=[("", _("Any status")), *Status.choices], required=False
    )
    place = forms.CharField(
        label=_("Now on place (code)"),
        max_length=64,
        required=False,
        help_text=_("The place or anything below it."),
    )


class PlaceAtForm(forms.Form):
    at = forms.DateTimeField(
        label=_("At this moment (Paris time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def moment(self) -> dt.datetime | None:
        """The chosen moment, aware, or None (none chosen or not a valid date-time)."""
        if not self.is_bound or not self.is_valid():
            return None
        at: dt.datetime | None = self.cleaned_data["at"]
        return at


class AnomalyFilterForm(forms.Form):
    OPEN_CHOICES = (("1", _("Open only")), ("0", _("All, resolved included")))

    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Every kind")), *Anomaly.Kind.choices], required=False
    )
    open = forms.ChoiceField(label=_("Show"), choices=OPEN_CHOICES, required=False)

    def filters(self) -> tuple[bool, str]:
        """``(open_only, kind)``; open anomalies of every kind unless the form says otherwise."""
        if not self.is_bound or not self.is_valid():
            return True, ""
        return self.cleaned_data["open"] != "0", self.cleaned_data["kind"]


class ResolveForm(forms.Form):
    comment = forms.CharField(
        label=_("How was it resolved?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say how the anomaly was resolved.")},
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)
