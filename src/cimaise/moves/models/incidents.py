"""Incidents of a transfer: a climate or shock excursion, a door or seal event, an unplanned stop,
a route deviation, damage found at a condition check. One excursion is one incident."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.collection.models import Work
from cimaise.core.models import Institution
from cimaise.moves.models.custody import Convoy


class Incident(models.Model):
    """Opened by a rule (telemetry, condition checks, seals) as a fact; closed when the excursion
    ends; resolved by a registrar with a comment (another fact)."""

    class Kind(models.TextChoices):
        TEMPERATURE = "temperature", _("Temperature outside 18–20 °C ± 2 °C")
        HUMIDITY = "humidity", _("Relative humidity outside 50–55 % ± 5 %")
        SHOCK = "shock", _("Shock above the most fragile crate's threshold")
        DOOR = "door", _("Door opened outside a planned stop")
        UNPLANNED_STOP = "unplanned_stop", _("Unplanned stop")
        ROUTE_DEVIATION = "route_deviation", _("Off the planned route")
        SEAL_MISMATCH = "seal_mismatch", _("Seals at opening differ from those at closing")
        DAMAGE = "damage", _("New damage found at a condition check")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    convoy = models.ForeignKey(
        Convoy, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    work = models.ForeignKey(Work, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(default=dict)
    fact_id = models.BigIntegerField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["-started_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["institution", "resolved_at", "kind"]),
            models.Index(fields=["convoy", "kind", "ended_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def open(self) -> bool:
        return self.ended_at is None
