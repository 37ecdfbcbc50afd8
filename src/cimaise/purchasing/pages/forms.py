"""Forms of the purchasing pages: the day the register is read on, the CSV upload."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cimaise.purchasing.csv_io import MAX_BYTES
from cimaise.purchasing.models import Need


class DayForm(forms.Form):
    on = forms.DateField(
        label=gettext_lazy("On"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def day(self, default: dt.date) -> dt.date:
        if self.is_bound and self.is_valid() and self.cleaned_data["on"]:
            day: dt.date = self.cleaned_data["on"]
            return day
        return default


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file of contracts"),
        help_text=gettext_lazy("UTF-8, comma or semicolon separated, with the export's columns."),
    )

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        if (upload.size or 0) > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 2**20})
        return upload


class NeedForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=32)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=Need.Category.choices)
    site = forms.ChoiceField(label=gettext_lazy("Site"))
    recurring = forms.BooleanField(label=gettext_lazy("Recurring"), required=False, initial=True)

    def __init__(self, *args: Any, sites: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = sites  # type: ignore[attr-defined]
