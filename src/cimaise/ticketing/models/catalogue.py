"""What is sold: products, their tariffs, the free-admission categories and exhibitions."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import CODE_VALIDATOR, Institution
from cimaise.ticketing.models.i18n import localized


class Channel(models.TextChoices):
    WEB = "web", _("Web shop")
    DESK = "desk", _("Ticket desk")
    RESELLER = "reseller", _("Reseller")


def all_channels() -> list[str]:
    return [c.value for c in Channel]


class Named(models.Model):
    """A row with a code and names in several languages."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    names = models.JSONField(
        default=dict, help_text=_('Names per language: {"en": …, "fr": …, "zh-hans": …}')
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name or self.code

    @property
    def name(self) -> str:
        return localized(self.names)


class FreeCategory(Named):
    """A reason for free admission and the proof to show at the gate."""

    proofs = models.JSONField(default=dict, help_text=_("The proof to show, per language."))

    class Meta:
        verbose_name = _("free-admission category")
        verbose_name_plural = _("free-admission categories")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="free_category_code_unique")
        ]

    @property
    def proof(self) -> str:
        return localized(self.proofs)


class Exhibition(Named):
    """A temporary exhibition: its products share one quota per slot time."""

    opens_on = models.DateField()
    closes_on = models.DateField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="exhibition_code_unique"),
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")), name="exhibition_dates"
            ),
        ]


class Product(Named):
    class Kind(models.TextChoices):
        MUSEUM = "museum", _("Museum entry")
        EXHIBITION = "exhibition", _("Exhibition entry")
        COMBINED = "combined", _("Museum and exhibition")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MUSEUM)
    exhibition = models.ForeignKey(
        Exhibition, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    vat_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.0550"), validators=[MinValueValidator(Decimal(0))]
    )
    channels = models.JSONField(default=all_channels)
    max_per_order = models.PositiveSmallIntegerField(default=10, validators=[MinValueValidator(1)])
    age_notes = models.JSONField(default=dict, blank=True, help_text=_("A minimum-age note, per language."))
    sort = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["sort", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="product_code_unique"),
            models.CheckConstraint(
                condition=models.Q(kind="museum") | models.Q(exhibition__isnull=False),
                name="product_exhibition",
            ),
        ]

    @property
    def age_note(self) -> str:
        return localized(self.age_notes) if self.age_notes else ""


class Tariff(models.Model):
    """A price of a product (full, reduced, free for a category)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="tariffs")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    names = models.JSONField(default=dict)
    price = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    currency = models.CharField(max_length=3, default="EUR")
    free_category = models.ForeignKey(
        FreeCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channels = models.JSONField(default=all_channels)
    party_size = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(255)],
        help_text=_("people one ticket of this tariff admits with one code (a group); one place each"),
    )
    sort = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["product_id", "sort", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["product", "code"], name="tariff_code_unique"),
            models.CheckConstraint(
                condition=models.Q(party_size__gte=1, party_size__lte=255), name="tariff_party_size_range"
            ),
            models.CheckConstraint(
                condition=models.Q(free_category__isnull=True) | models.Q(price=0), name="tariff_free_is_free"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code}/{self.code}"

    @property
    def name(self) -> str:
        return localized(self.names) or self.code
