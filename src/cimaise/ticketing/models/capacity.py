"""When visitors may come and how many: opening hours, slots and the quotas they draw on.

A slot draws on several quotas at once: its own (capacity of that product at that entrance and
time), the entrance's for that half-hour (shared by every product entering there), and for an
exhibition the exhibition's for that half-hour (shared by every product that includes it). A
place sold takes one unit of each; the slot has as many places left as its tightest quota.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.access.models import Entrance
from cimaise.core.models import Institution
from cimaise.ticketing.models.catalogue import Exhibition, Product


class OpeningHours(models.Model):
    """The weekly pattern: one row per open weekday (0 = Monday); a day without a row is closed."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(choices=[(i, str(i)) for i in range(7)])
    opens = models.TimeField()
    closes = models.TimeField()
    last_entry = models.TimeField(help_text=_("The last slot starts no later than this."))

    class Meta:
        verbose_name_plural = _("opening hours")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "weekday"], name="opening_hours_weekday_unique"),
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="opening_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday}: {self.opens:%H:%M}–{self.closes:%H:%M}"


class OpeningException(models.Model):
    """A day that differs from the pattern: closed (1 May, 25 December) or other hours (a late
    opening)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    closed = models.BooleanField(default=False)
    opens = models.TimeField(null=True, blank=True)
    closes = models.TimeField(null=True, blank=True)
    last_entry = models.TimeField(null=True, blank=True)
    label = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "date"], name="opening_exception_date_unique"),
            models.CheckConstraint(
                condition=models.Q(closed=True)
                | models.Q(opens__isnull=False, closes__isnull=False, last_entry__isnull=False),
                name="opening_exception_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {'closed' if self.closed else self.label}"


class Quota(models.Model):
    """A number of places and how many are taken (held in a cart, awaiting payment, or sold).

    ``taken`` changes only inside a selling transaction holding this row's lock; the database
    refuses ``taken`` above ``capacity`` as a last line of defence.
    """

    class Kind(models.TextChoices):
        SLOT = "slot", _("Slot")
        ENTRANCE = "entrance", _("Entrance")
        EXHIBITION = "exhibition", _("Exhibition")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    key = models.CharField(
        max_length=120, help_text=_("What the quota is for, e.g. entrance:PYR@2019-10-24T09:00")
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    taken = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "key"], name="quota_key_unique"),
            models.CheckConstraint(
                condition=models.Q(taken__lte=models.F("capacity")), name="quota_not_oversold"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.taken}/{self.capacity}"


class Slot(models.Model):
    """A 30-minute entry window of a product at an entrance."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="slots")
    entrance = models.ForeignKey(Entrance, on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    own_quota = models.OneToOneField(Quota, on_delete=models.PROTECT, related_name="own_slot")
    quotas = models.ManyToManyField(Quota, related_name="slots")
    closed = models.BooleanField(
        default=False, help_text=_("Closed to sale (the day is closed or staff closed it).")
    )

    class Meta:
        ordering: ClassVar = ["starts_at", "entrance_id", "product_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["product", "entrance", "starts_at"], name="slot_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["institution", "starts_at"], name="slot_by_time")]

    def __str__(self) -> str:
        return f"{self.product.code} {self.entrance.code} {self.starts_at:%Y-%m-%d %H:%M}"


class QuotaKey:
    """Keys of the shared quotas, one place for their spelling."""

    @staticmethod
    def entrance(entrance: Entrance, starts_at_iso: str) -> str:
        return f"entrance:{entrance.code}@{starts_at_iso}"

    @staticmethod
    def exhibition(exhibition: Exhibition, starts_at_iso: str) -> str:
        return f"exhibition:{exhibition.code}@{starts_at_iso}"

    @staticmethod
    def slot(product: Product, entrance: Entrance, starts_at_iso: str) -> str:
        return f"slot:{product.code}:{entrance.code}@{starts_at_iso}"
