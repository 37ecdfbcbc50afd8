"""Around a convoy: condition reports (constats d'état) before departure and after arrival, and
the registrar's resolution of a reconciliation discrepancy before the convoy can close."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.collection.models import Work
from cimaise.core.models import Institution
from cimaise.moves.models.custody import Convoy


class ConditionReport(models.Model):
    """A condition report ("constat d'état"): the state of a work, zone by zone, with photos."""

    class Phase(models.TextChoices):
        BEFORE = "before", _("Before departure")
        AFTER = "after", _("After arrival")

    class Overall(models.IntegerChoices):
        GOOD = 1, _("Good")
        FAIR = 2, _("Fair")
        POOR = 3, _("Poor")
        CRITICAL = 4, _("Critical")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    work = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="condition_reports")
    convoy = models.ForeignKey(
        Convoy, on_delete=models.PROTECT, null=True, blank=True, related_name="condition_reports"
    )
    phase = models.CharField(max_length=6, choices=Phase.choices)
    overall = models.PositiveSmallIntegerField(choices=Overall.choices)
    alterations = models.JSONField(
        default=list, blank=True, help_text=_("[{zone, kind, description}, …]: what is seen, where.")
    )
    notes = models.TextField(blank=True)
    examiner = models.CharField(max_length=200)
    examined_at = models.DateTimeField()
    event_id = models.CharField(max_length=200, help_text=_("The EPCIS inspecting event it recorded."))
    fact_id = models.BigIntegerField()

    class Meta:
        ordering: ClassVar = ["work", "-examined_at"]
        indexes: ClassVar = [models.Index(fields=["institution", "work", "phase", "examined_at"])]

    def __str__(self) -> str:
        return f"{self.work_id} {self.phase} {self.examined_at:%Y-%m-%d}"


class ConditionPhoto(models.Model):
    """A photo of a condition report, stored under its SHA-256 (so it cannot change unseen)."""

    report = models.ForeignKey(ConditionReport, on_delete=models.CASCADE, related_name="photos")
    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"


class DiscrepancyResolution(models.Model):
    """A registrar's explanation of one reconciliation discrepancy of a convoy."""

    convoy = models.ForeignKey(Convoy, on_delete=models.PROTECT, related_name="resolutions")
    kind = models.CharField(max_length=16)
    step = models.CharField(max_length=16)
    uri = models.CharField(max_length=300)
    comment = models.TextField()
    resolved_by = models.CharField(max_length=200)
    resolved_at = models.DateTimeField()
    fact_id = models.BigIntegerField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["convoy", "kind", "step", "uri"], name="resolution_unique")
        ]

    def __str__(self) -> str:
        return f"{self.convoy_id} {self.kind} {self.uri}"
