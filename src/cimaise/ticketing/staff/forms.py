"""Forms of the ticketing staff pages. They check shapes; the services decide the rest. Field
names follow the services' ``InvalidInput.field`` so an error lands next to its field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cimaise.ticketing.capacity import CapacityEdit, SlotPlan
from cimaise.ticketing.models import Quota, Tariff
from cimaise.ticketing.services import Item

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_CAPACITY = 100_000
LANGUAGES = [("en", "English"), ("fr", "Français"), ("zh-hans", "简体中文")]
Choices = Sequence[tuple[str, str]]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class IdsField(forms.Field):
    """Several integer ids from checkboxes of one name (``request.POST.getlist``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("Choose from the list."), code="invalid") from exc


def set_choices(form: forms.Form, name: str, choices: Sequence[tuple[Any, Any]]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def _date(label: StrOrPromise, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput())


def _capacity(label: StrOrPromise, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=required, min_value=0, max_value=MAX_CAPACITY)


class DayForm(forms.Form):
    """The day shown (today by default) and, on the overview, one product."""

    date = _date(_("Date"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)

    def __init__(self, data: Any = None, *, products: Choices = ()) -> None:
        super().__init__(data)
        set_choices(self, "product", [("", _("All products")), *products])

    def day(self, default: dt.date) -> dt.date:
        if self.is_bound and self.is_valid() and self.cleaned_data["date"]:
            day: dt.date = self.cleaned_data["date"]
            return day
        return default

    def product_code(self) -> str:
        return str(self.cleaned_data.get("product") or "") if self.is_bound and self.is_valid() else ""


class CapacityEditForm(forms.Form):
    kind = forms.ChoiceField(label=_("Quotas of"), choices=Quota.Kind.choices)
    first_day = _date(_("First day"))
    last_day = _date(_("Last day"))
    entrance = forms.ChoiceField(label=_("Entrance"), required=False)
    product = forms.ChoiceField(
        label=_("Product"), required=False, help_text=_("Only the quotas its slots draw on.")
    )
    from_time = forms.TimeField(label=_("From time"), required=False, widget=TimeInput())
    to_time = forms.TimeField(label=_("Until (excluded)"), required=False, widget=TimeInput())
    capacity = _capacity(_("New capacity"))

    def __init__(self, data: Any = None, *, products: Choices, entrances: Choices) -> None:
        super().__init__(data, prefix="edit")
        set_choices(self, "entrance", [("", _("Every entrance")), *entrances])
        set_choices(self, "product", [("", _("Every product")), *products])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("The last day comes after the first."))
        return data

    def edit(self) -> CapacityEdit:
        d = self.cleaned_data
        return CapacityEdit(
            kind=d["kind"], first_day=d["first_day"], last_day=d["last_day"], capacity=d["capacity"],
            entrance=d["entrance"] or None, product=d["product"] or None,
            from_time=d["from_time"], to_time=d["to_time"],
        )  # fmt: skip


class SlotPlanForm(forms.Form):
    product = forms.ChoiceField(label=_("Product"))
    entrances = forms.MultipleChoiceField(label=_("Entrances"), widget=forms.CheckboxSelectMultiple)
    first_day = _date(_("First day"))
    last_day = _date(_("Last day"))
    minutes = forms.TypedChoiceField(
        label=_("Slot length"), coerce=int, initial=30,
        choices=[(15, _("15 minutes")), (20, _("20 minutes")), (30, _("30 minutes")), (60, _("1 hour"))],
    )  # fmt: skip
    slot_capacity = _capacity(_("Places per slot"))
    entrance_capacity = _capacity(_("Places per entrance and half-hour"))
    exhibition_capacity = _capacity(_("Places of the exhibition per half-hour"), required=False)

    def __init__(self, data: Any = None, *, products: Choices, entrances: Choices) -> None:
        super().__init__(data, prefix="open")
        set_choices(self, "product", products)
        set_choices(self, "entrances", entrances)
        self.fields["exhibition_capacity"].help_text = _("For an exhibition product only.")

    def plan(self) -> SlotPlan:
        d = self.cleaned_data
        return SlotPlan(
            product=d["product"], entrances=list(d["entrances"]), first_day=d["first_day"],
            last_day=d["last_day"], slot_capacity=d["slot_capacity"],
            entrance_capacity=d["entrance_capacity"], exhibition_capacity=d["exhibition_capacity"],
            minutes=d["minutes"],
        )  # fmt: skip


class SlotCloseForm(forms.Form):
    """Close the chosen slots to sale, or reopen them; closing needs a reason."""

    date = _date(_("Date"), required=False)
    slots = IdsField(label=_("Slots"), error_messages={"required": _("Choose at least one slot.")})
    action = forms.ChoiceField(choices=[("close", _("Close to sale")), ("reopen", _("Reopen"))])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, data: Any = None) -> None:
        super().__init__(data, prefix="close")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "close" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why these slots are closed."))
        return data


class DeskSaleForm(forms.Form):
    """Quantities per desk tariff, an optional name and e-mail, the tickets' language."""

    sale = forms.CharField(widget=forms.HiddenInput, max_length=64)
    name = forms.CharField(label=_("Name (optional)"), required=False, max_length=120)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    language = forms.ChoiceField(label=_("Tickets in"), choices=LANGUAGES)

    def __init__(
        self, data: Any = None, *, tariffs: Sequence[Tariff], most: int, initial: Any = None
    ) -> None:
        super().__init__(data, initial=initial)
        self.tariffs = list(tariffs)
        for tariff in self.tariffs:
            self.fields[self.field_for(tariff.code)] = forms.IntegerField(
                label=f"{tariff.name} · {tariff.price} {tariff.currency}",
                min_value=0, max_value=most, initial=0, required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )  # fmt: skip

    @staticmethod
    def field_for(tariff_code: str) -> str:
        return f"qty_{tariff_code}"

    def quantity_fields(self) -> list[forms.BoundField]:
        return [self[self.field_for(t.code)] for t in self.tariffs]

    def other_fields(self) -> list[forms.BoundField]:
        return [self["name"], self["email"], self["language"]]

    def items(self) -> list[Item]:
        found = [(t.code, self.cleaned_data.get(self.field_for(t.code)) or 0) for t in self.tariffs]
        return [Item(tariff=code, quantity=qty) for code, qty in found if qty > 0]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not self.items():
            raise ValidationError(_("Choose at least one ticket."), code="empty")
        return data


class OrderSearchForm(forms.Form):
    q = forms.CharField(label=_("Order code, e-mail or name"), required=False, max_length=120)


class CancelForm(forms.Form):
    """Tickets to cancel (or all of them) and why; ``confirm`` marks the second step."""

    tickets = IdsField(label=_("Tickets"), required=False)
    all = forms.BooleanField(label=_("Cancel the whole order"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all") and not data.get("tickets"):
            self.add_error("tickets", _("Choose the tickets to cancel, or the whole order."))
        return data

    def ticket_ids(self) -> list[int] | None:
        """The chosen ids, or None for every ticket still valid."""
        return None if self.cleaned_data["all"] else list(self.cleaned_data["tickets"])
