"""Planning a transfer: the addressing run of a programme (a target shelf for every work, in
batches that can be paused for weeks) and the packing of a convoy's works into crates.

The targets themselves are ``Assignment`` rows and the packing is ``ConvoyItem.crate``; these
tables hold what the planners need to resume and what the packing lists print."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.collection.models import Work
from cimaise.core.models import Institution
from cimaise.moves.models.custody import Convoy, Crate, Programme


class AddressingRun(models.Model):
    """A programme's addressing plan ("adressage"), applied batch after batch.

    ``plan_state`` is what the planner needs to continue exactly where it stopped: the shelves
    dedicated to each department and fragility class, in the order they were opened, and the
    next shelf to look at in each destination zone. Everything else (what each shelf holds) is
    read back from the assignments, so a run paused for weeks resumes without losing anything.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Done")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="addressing_runs")
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    headroom = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.15"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal("0.9"))],
        help_text=_("Share of each shelf's load limit and inner volume left free."),
    )  # fmt: skip
    batch_size = models.PositiveIntegerField(default=5000)
    source_ids = models.JSONField(default=list, help_text=_("Reserves the works leave (place ids)."))
    destination_ids = models.JSONField(
        default=list, help_text=_("Zones of the centre that receive them (place ids), in order.")
    )
    department_zones = models.JSONField(
        default=dict, blank=True, help_text=_("Department code → preferred destination code.")
    )
    plan_state = models.JSONField(default=dict, blank=True)
    batches = models.PositiveIntegerField(default=0)
    assigned = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    started_by = models.CharField(max_length=200)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-started_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["programme"],
                condition=models.Q(state__in=["running", "paused"]),
                name="addressing_run_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.state}"


class AddressingBatch(models.Model):
    """One applied batch of a run; its number makes applying it again a no-op."""

    run = models.ForeignKey(AddressingRun, on_delete=models.CASCADE, related_name="applied_batches")
    number = models.PositiveIntegerField()
    assigned = models.PositiveIntegerField()
    flagged = models.PositiveIntegerField()
    fact_id = models.BigIntegerField()
    applied_at = models.DateTimeField()
    applied_by = models.CharField(max_length=200)

    class Meta:
        ordering: ClassVar = ["run", "number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["run", "number"], name="addressing_batch_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} #{self.number}"


class AddressingFlag(models.Model):
    """A work the planner could not give a shelf; a registrar sets its target by hand."""

    class Reason(models.TextChoices):
        UNMEASURED = "unmeasured", _("Dimensions or weight not recorded")
        FITS_NO_SHELF = "fits_no_shelf", _("Fits no shelf of the destinations")
        NO_ROOM = "no_room", _("No shelf with room left")

    run = models.ForeignKey(AddressingRun, on_delete=models.CASCADE, related_name="flags")
    work = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    batch = models.PositiveIntegerField()

    class Meta:
        ordering: ClassVar = ["run", "batch", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["run", "work"], name="addressing_flag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.work_id}: {self.reason}"


class PackingPlacement(models.Model):
    """Where a work of a convoy sits in its crate (millimetres from the crate's inner corner,
    ``dx`` along its length), or why it travels alone."""

    class Alone(models.TextChoices):
        TRAVELS_ALONE = "travels_alone", _("Extreme fragility: travels alone")
        NEEDS_CUSTOM_CRATE = "needs_custom_crate", _("Fits no crate type: needs a custom crate")
        NO_CRATE_AVAILABLE = "no_crate_available", _("No crate of a fitting type is free")
        VEHICLE_FULL = "vehicle_full", _("The vehicle's load or volume is reached")
        UNMEASURED = "unmeasured", _("Dimensions or weight not recorded")

    convoy = models.ForeignKey(Convoy, on_delete=models.CASCADE, related_name="placements")
    work = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="+")
    crate = models.ForeignKey(Crate, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    x_mm = models.PositiveIntegerField(default=0)
    y_mm = models.PositiveIntegerField(default=0)
    z_mm = models.PositiveIntegerField(default=0)
    dx_mm = models.PositiveIntegerField(default=0)
    dy_mm = models.PositiveIntegerField(default=0)
    dz_mm = models.PositiveIntegerField(default=0)
    alone = models.CharField(max_length=20, choices=Alone.choices, blank=True)

    class Meta:
        ordering: ClassVar = ["convoy", "crate", "z_mm", "y_mm", "x_mm"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["convoy", "work"], name="packing_placement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.work_id} in {self.crate_id}"
