"""Forms of the access pages. They check shapes; the services decide the rest (a code of any
shape is an answer, ``forged`` at worst)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cimaise.access.services import MAX_PEOPLE, REASON_MAX_CHARS, REASON_MIN_CHARS

CODE_MAX_CHARS = 2000  # longer is not worth sending: the service would call it forged anyway


def new_nonce() -> str:
    """A fresh nonce for one submission of a handheld form (the service is idempotent by it)."""
    return f"h-{secrets.token_urlsafe(16)}"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class DayForm(forms.Form):
    """The day shown (today by default)."""

    date = forms.DateField(label=_("Date"), required=False, widget=DateInput())

    def day(self, default: dt.date) -> dt.date:
        if self.is_bound and self.is_valid() and self.cleaned_data["date"]:
            day: dt.date = self.cleaned_data["date"]
            return day
        return default


class LaneForm(forms.Form):
    """Where the handheld is: ``ENTRANCE/LANE``."""

    lane = forms.ChoiceField(label=_("Entrance and lane"))

    def __init__(self, data: Any = None, *, lanes: Sequence[tuple[str, str]] = (), initial: str = "") -> None:
        super().__init__(data, initial={"lane": initial})
        cast(forms.ChoiceField, self.fields["lane"]).choices = list(lanes)


class ScanForm(forms.Form):
    code = forms.CharField(label=_("Ticket code"), max_length=CODE_MAX_CHARS, strip=True)
    nonce = forms.CharField(max_length=64, widget=forms.HiddenInput)


class OverrideForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for letting through"), min_length=REASON_MIN_CHARS, max_length=REASON_MAX_CHARS
    )
    people = forms.IntegerField(label=_("People"), min_value=1, max_value=MAX_PEOPLE, initial=1)
    code = forms.CharField(required=False, max_length=CODE_MAX_CHARS, widget=forms.HiddenInput)
    nonce = forms.CharField(max_length=64, widget=forms.HiddenInput)
