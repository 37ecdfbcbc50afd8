"""Entrances of a site. Lanes, entry rules and the validation service come with the access issue;
ticketing already sells slots per entrance."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import CODE_VALIDATOR, Institution, Site


class Entrance(models.Model):
    """A public entrance (Pyramide, Richelieu, Carrousel, Porte des Lions)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="entrances")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="entrances")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["institution_id", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="entrance_code_unique"),
        ]
        verbose_name = _("entrance")

    def __str__(self) -> str:
        return self.name
