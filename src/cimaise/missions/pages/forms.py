"""Forms of the missions pages: they check shapes; the services decide the rest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import Person, Site
from cimaise.missions.models import Purpose, Transport
from cimaise.missions.orders import OrderRequest


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class OrderForm(forms.Form):
    """A mission order as an agent fills it in (times in Paris time)."""

    travellers = forms.ModelMultipleChoiceField(label=_("Travellers"), queryset=Person.objects.none())
    destination = forms.ModelChoiceField(
        label=_("Destination"), queryset=Site.objects.none(), to_field_name="code"
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    description = forms.CharField(label=_("What for"), max_length=300)
    convoy = forms.CharField(label=_("Convoy code (if any)"), max_length=32, required=False)
    starts_at = forms.DateTimeField(label=_("Leaves"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Returns"), widget=DateTimeInput())
    transport = forms.ChoiceField(label=_("Transport"), choices=Transport.choices)
    car_authorisation = forms.CharField(
        label=_("Car authorisation reference"), max_length=100, required=False
    )
    lodging = forms.BooleanField(label=_("Hotel needed"), required=False)
    host = forms.ModelChoiceField(label=_("Host on site"), queryset=Person.objects.none(), required=False)
    zones = forms.CharField(label=_("Zones needed (comma-separated)"), max_length=300, required=False)
    permanent = forms.BooleanField(label=_("Permanent order (recurring trips)"), required=False)
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DateInput())
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DateInput())

    def __init__(self, *args: Any, institution_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = Person.objects.filter(institution_id=institution_id).select_related("user")
        travellers: Any = self.fields["travellers"]
        travellers.queryset = people
        host: Any = self.fields["host"]
        host.queryset = people
        destination: Any = self.fields["destination"]
        destination.queryset = Site.objects.filter(institution_id=institution_id)

    def order_request(self) -> OrderRequest:
        data = self.cleaned_data
        zones = [z.strip() for z in str(data.get("zones") or "").split(",") if z.strip()]
        host: Person | None = data.get("host")
        valid_from: dt.date | None = data.get("valid_from")
        return OrderRequest(
            travellers=[p.user.get_username() for p in data["travellers"]],
            destination=data["destination"].code,
            purpose=data["purpose"],
            description=data["description"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            transport=data["transport"],
            convoy=data.get("convoy") or "",
            car_authorisation=data.get("car_authorisation") or "",
            lodging=bool(data.get("lodging")),
            host=host.user.get_username() if host else "",
            zones=zones,
            permanent=bool(data.get("permanent")),
            valid_from=valid_from,
            valid_until=data.get("valid_until"),
        )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea({"rows": 3})
    )


class ReceptionForm(forms.Form):
    site = forms.CharField(label=_("Site"), max_length=32, required=False)
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput())


class BadgeIssueForm(forms.Form):
    site = forms.CharField(max_length=32)
    badge = forms.CharField(label=_("Badge"), max_length=32)
    holder = forms.CharField(label=_("Holder (user name)"), max_length=150)
    order = forms.CharField(label=_("Mission order"), max_length=32, required=False)


class BadgeReturnForm(forms.Form):
    site = forms.CharField(max_length=32)
    badge = forms.CharField(label=_("Badge"), max_length=32)


class RegisterForm(forms.Form):
    site = forms.CharField(max_length=32)
    person = forms.CharField(label=_("Person (user name)"), max_length=150)
    direction = forms.ChoiceField(label=_("Direction"), choices=[("in", _("In")), ("out", _("Out"))])


class ExpenseForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("transport", _("Transport")), ("hotel", _("Hotel")), ("other", _("Other"))]
    )
    label = forms.CharField(label=_("Description"), max_length=200)
    amount = forms.DecimalField(label=_("Amount (€)"), max_digits=10, decimal_places=2, min_value=0)
    receipt = forms.FileField(label=_("Receipt (PDF, JPEG, PNG)"), required=False)
