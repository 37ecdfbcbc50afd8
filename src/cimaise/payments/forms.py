"""The sandbox gateway's fake card form: formats are checked as a card page would, with errors
that name the field; any number passing the Luhn check is accepted."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TEST_CARD = "4242 4242 4242 4242"
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])\s*/\s*(\d{2})$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


class CardForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Card number"), max_length=23, initial=TEST_CARD)
    expiry = forms.CharField(label=gettext_lazy("Expiry (MM/YY)"), max_length=7)
    cvc = forms.CharField(label=gettext_lazy("CVC"), max_length=4, initial="123")

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["expiry"].initial = f"12/{(today.year + 3) % 100:02d}"
        attrs = {
            "number": {"inputmode": "numeric", "autocomplete": "cc-number"},
            "expiry": {"inputmode": "numeric", "autocomplete": "cc-exp", "placeholder": "MM/YY"},
            "cvc": {"inputmode": "numeric", "autocomplete": "cc-csc"},
        }
        for name, extra in attrs.items():
            self.fields[name].widget.attrs.update(extra)

    def clean_number(self) -> str:
        digits = re.sub(r"[ -]", "", str(self.cleaned_data["number"]))
        if not (digits.isdigit() and 12 <= len(digits) <= 19):
            raise forms.ValidationError(_("Card number: enter 12 to 19 digits."))
        if not luhn_valid(digits):
            raise forms.ValidationError(_("Card number: this number is not valid; check the digits."))
        return digits

    def clean_expiry(self) -> str:
        match = _EXPIRY.match(str(self.cleaned_data["expiry"]).strip())
        if match is None:
            raise forms.ValidationError(_("Expiry: enter the month and the year as MM/YY."))
        month, year = int(match.group(1)), 2000 + int(match.group(2))
        if (year, month) < (self.today.year, self.today.month):
            raise forms.ValidationError(_("Expiry: this card has expired."))
        return f"{month:02d}/{year % 100:02d}"

    def clean_cvc(self) -> str:
        cvc = str(self.cleaned_data["cvc"]).strip()
        if not re.fullmatch(r"\d{3,4}", cvc):
            raise forms.ValidationError(_("CVC: enter the 3 or 4 digits on the back of the card."))
        return cvc
