"""The shop's forms: how many tickets of each tariff, and the visitor's details with the payment
method. Each can take a sales service's error and show it next to the field it names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cimaise.core.errors import DomainError
from cimaise.ticketing.models import Tariff
from cimaise.ticketing.services import Item
from cimaise.ticketing.shop.errors import error_field, error_message, item_index

PAYMENT_LABELS = {
    "sandbox": gettext_lazy("Bank card"),
    "alipay": gettext_lazy("Alipay"),
    "wechatpay": gettext_lazy("WeChat Pay"),
}


def quantity_field(tariff: Tariff) -> str:
    return f"qty_{tariff.code}"


class TicketsForm(forms.Form):
    """One quantity per tariff (a menu from 0 to the product's maximum per order)."""

    def __init__(self, *args: Any, tariffs: Sequence[Tariff], max_per_order: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tariffs = list(tariffs)
        self.max_per_order = max_per_order
        choices = [(n, str(n)) for n in range(max_per_order + 1)]
        for tariff in self.tariffs:
            self.fields[quantity_field(tariff)] = forms.TypedChoiceField(
                label=tariff.name, choices=choices, coerce=int, initial=0, required=False, empty_value="0"
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not any(cleaned.get(quantity_field(t)) for t in self.tariffs):
            raise forms.ValidationError(_("Choose at least one ticket."), code="empty")
        return cleaned

    def items(self) -> list[Item]:
        """What was chosen, in the service's terms (tariffs with a quantity of 0 left out)."""
        chosen = ((t, int(self.cleaned_data.get(quantity_field(t)) or 0)) for t in self.tariffs)
        return [Item(tariff.code, quantity) for tariff, quantity in chosen if quantity > 0]

    def service_error(self, error: DomainError, items: Sequence[Item]) -> None:
        """Show a ``cart_create`` error next to the quantity it names, else above the tickets."""
        message = error_message(error, max_per_order=self.max_per_order)
        index = item_index(error_field(error))
        if index is not None and index[0] < len(items):
            self.add_error(f"qty_{items[index[0]].tariff}", message)
        else:
            self.add_error(None, message)


class DetailsForm(forms.Form):
    """Where to send the tickets, a name for them, and how to pay."""

    email = forms.EmailField(
        label=gettext_lazy("E-mail address"),
        help_text=gettext_lazy("We send your tickets to this address."),
        max_length=254,
    )
    name = forms.CharField(
        label=gettext_lazy("Name (optional)"),
        help_text=gettext_lazy("Printed on the tickets."),
        max_length=120,
        required=False,
    )
    provider = forms.ChoiceField(label=gettext_lazy("Payment method"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, providers: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["provider"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared just above
        field.choices = [(name, PAYMENT_LABELS.get(name, name)) for name in providers]
        if providers:
            field.initial = providers[0]
        attrs = {"email": {"autocomplete": "email", "inputmode": "email"}, "name": {"autocomplete": "name"}}
        for name, extra in attrs.items():
            self.fields[name].widget.attrs.update(extra)

    def service_error(self, error: DomainError) -> None:
        """Show an ``order_create`` error next to the field it names, else at the top."""
        field = error_field(error)
        message = error_message(error)
        self.add_error(field if field in self.fields else None, message)
