"""Telemetry of a transfer: the trackers fitted to trucks and the readings they post for a convoy
(positions, temperature, relative humidity, shocks, door)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import Institution
from cimaise.moves.models.custody import Convoy, Vehicle


class TrackerDevice(models.Model):
    """A truck's tracker. It authenticates with its own bearer token (``cimdev_…``), shown once and
    stored as a SHA-256 digest, and may post readings only for convoys of its vehicle. Rotating the
    token keeps the device (and the idempotency of its reading ids); revoking it stops it at once."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="trackers")
    label = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["vehicle", "label"]

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"

    @property
    def actor_label(self) -> str:
        """What the ledger records as the sender of this device's readings."""
        return f"tracker:{self.pk}"


class TelemetryReading(models.Model):
    """One reading a tracker posted for a convoy, kept whether accepted or rejected (``rejection``
    holds the reason code), so that a resend is answered exactly as the first time.

    Units: ``value`` is °C (temperature), % RH (humidity) or g (shock); ``speed`` is km/h.
    The rows are a projection of the ``moves.telemetry.received`` facts.
    """

    class Kind(models.TextChoices):
        POSITION = "position", _("Position")
        TEMPERATURE = "temperature", _("Temperature")
        HUMIDITY = "humidity", _("Relative humidity")
        SHOCK = "shock", _("Shock")
        DOOR = "door", _("Door")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(TrackerDevice, on_delete=models.PROTECT, related_name="readings")
    convoy = models.ForeignKey(Convoy, on_delete=models.PROTECT, related_name="readings")
    reading_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, blank=True)
    time = models.DateTimeField(null=True)
    value = models.FloatField(null=True)
    lat = models.FloatField(null=True)
    lon = models.FloatField(null=True)
    speed = models.FloatField(null=True)
    door_open = models.BooleanField(null=True)
    rejection = models.CharField(max_length=32, blank=True)
    rejection_field = models.CharField(max_length=32, blank=True)
    rejection_message = models.CharField(max_length=300, blank=True)
    fact_id = models.BigIntegerField()

    class Meta:
        ordering: ClassVar = ["time", "reading_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["device", "reading_id"], name="reading_id_unique_per_device")
        ]
        indexes: ClassVar = [
            models.Index(fields=["convoy", "time"]),
            models.Index(fields=["convoy", "kind", "time"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reading_id}"
