"""Works of the collection: the registry that custody, moves and reporting refer to."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from urllib.parse import quote

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import Institution, Place


class Department(models.TextChoices):
    """The Louvre's eight curatorial departments, plus the Histoire du Louvre."""

    EGYPTIAN = "AE", _("Egyptian Antiquities")
    NEAR_EASTERN = "AO", _("Near Eastern Antiquities")
    GREEK_ETRUSCAN_ROMAN = "AGER", _("Greek, Etruscan and Roman Antiquities")
    ISLAMIC_ART = "AI", _("Islamic Art")
    PAINTINGS = "PEI", _("Paintings")
    SCULPTURES = "SCU", _("Sculptures")
    DECORATIVE_ARTS = "OA", _("Decorative Arts")
    PRINTS_DRAWINGS = "AG", _("Prints and Drawings")
    HISTORY_OF_LOUVRE = "HL", _("History of the Louvre")


class Fragility(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    EXTREME = "extreme", _("Extreme (travels alone)")


def _dimension() -> models.DecimalField[Decimal | None, Decimal | None]:
    return models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(Decimal("0.1"))]
    )


class Work(models.Model):
    """A work of art or object in the institution's inventory."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="works")
    inventory = models.CharField(max_length=40, help_text=_("Inventory number, e.g. “INV 7523”."))
    title = models.CharField(max_length=300)
    department = models.CharField(max_length=4, choices=Department.choices)
    artist = models.CharField(max_length=200, blank=True, help_text=_("Artist, workshop or culture."))
    date_text = models.CharField(max_length=100, blank=True, help_text=_("As catalogued, e.g. “vers 1503”."))
    materials = models.CharField(max_length=300, blank=True)
    height_cm = _dimension()
    width_cm = _dimension()
    depth_cm = _dimension()
    weight_kg = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    fragility = models.CharField(max_length=8, choices=Fragility.choices, default=Fragility.MEDIUM)
    handling_notes = models.TextField(blank=True)
    hazard_notes = models.TextField(blank=True)
    normal_place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Where the work normally lives (its current place comes from movements)."),
    )
    barcode = models.CharField(max_length=64, null=True, blank=True)
    insurance_value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    insurance_currency = models.CharField(max_length=3, default="EUR")

    class Meta:
        ordering: ClassVar = ["inventory"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "inventory"], name="work_inventory_unique"),
            models.UniqueConstraint(fields=["institution", "barcode"], name="work_barcode_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["institution", "department", "inventory"])]

    def __str__(self) -> str:
        return f"{self.inventory} — {self.title}"

    @property
    def uri(self) -> str:
        return work_uri(self.institution.code, self.inventory)


def work_uri(institution_code: str, inventory: str) -> str:
    """``urn:cimaise:work:{institution}:{inventory}``, the inventory percent-encoded."""
    return f"urn:cimaise:work:{institution_code}:{quote(inventory, safe='')}"
