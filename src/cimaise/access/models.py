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


class Lane(models.Model):
    """One turnstile or handheld of an entrance."""

    class Kind(models.TextChoices):
        TURNSTILE = "turnstile", _("turnstile")
        HANDHELD = "handheld", _("handheld")

    class Direction(models.TextChoices):
        IN = "in", _("in")
        OUT = "out", _("out")
        BOTH = "both", _("both")

    entrance = models.ForeignKey(Entrance, on_delete=models.PROTECT, related_name="lanes")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TURNSTILE)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.BOTH)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["entrance_id", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["entrance", "code"], name="lane_code_unique"),
        ]
        verbose_name = _("lane")

    def __str__(self) -> str:
        return f"{self.entrance.code}/{self.code}"


class EntryRule(models.Model):
    """How an entrance admits codes, for one product or (``product`` empty) for every product.

    A code admits its holder from ``tolerance_before_minutes`` before its slot start until the
    end of its own window (the signed ``window_minutes``, by default 30 minutes after the start).
    """

    entrance = models.ForeignKey(Entrance, on_delete=models.CASCADE, related_name="rules")
    product = models.ForeignKey(
        "ticketing.Product", on_delete=models.CASCADE, null=True, blank=True, related_name="entry_rules"
    )
    tolerance_before_minutes = models.PositiveIntegerField(default=0)
    entries_per_day = models.PositiveIntegerField(default=1)
    reentry_after_exit = models.BooleanField(
        default=False, help_text=_("a visitor who scanned out may come in again the same day")
    )
    reentry_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("a code may enter again this long after its last entry")
    )
    admits_other_entrances = models.BooleanField(
        default=False, help_text=_("codes of this product sold for another entrance are admitted here")
    )

    class Meta:
        ordering: ClassVar = ["entrance_id", "product_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["entrance", "product"],
                condition=models.Q(product__isnull=False),
                name="entry_rule_product_unique",
            ),
            models.UniqueConstraint(
                fields=["entrance"],
                condition=models.Q(product__isnull=True),
                name="entry_rule_default_unique",
            ),
        ]
        verbose_name = _("entry rule")

    def __str__(self) -> str:
        return f"{self.entrance.code} {self.product_id or '*'}"


class Entry(models.Model):
    """One scan the central service answered (accepted or rejected), idempotent by ``nonce``."""

    class Result(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    class Direction(models.TextChoices):
        IN = "in", _("in")
        OUT = "out", _("out")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="entries")
    entrance = models.ForeignKey(Entrance, on_delete=models.PROTECT, related_name="entries")
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="entries")
    code_id = models.CharField(max_length=32, blank=True, db_index=True)
    ticket = models.ForeignKey(
        "ticketing.Ticket", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    direction = models.CharField(max_length=4, choices=Direction.choices)
    nonce = models.CharField(max_length=64)
    scanned_at = models.DateTimeField(help_text=_("the device's clock"))
    recorded_at = models.DateTimeField(help_text=_("the server's clock, which decides"))
    operator = models.CharField(max_length=200)
    result = models.CharField(max_length=8, choices=Result.choices)
    reason = models.CharField(max_length=32)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "nonce"], name="entry_nonce_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["code_id", "recorded_at"], name="entry_code_time")]
        verbose_name = _("entry")
        verbose_name_plural = _("entries")

    def __str__(self) -> str:
        return f"{self.code_id or '?'} {self.direction} {self.result}"
