"""The pooled purchasing register: needs, the purchasing vehicles the museum joins or runs, the
contracts that cover the needs (with the State's essential data, *données essentielles*, for
contracts of €40,000 or more), and the renewal alerts already sent."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import Institution, Site


class Need(models.Model):
    """Something the museum has to buy, at one site, once or again and again."""

    class Category(models.TextChoices):
        WORKS_TRANSPORT = "works-transport", _("Transport of works")
        ENERGY = "energy", _("Energy and fluids")
        CLEANING = "cleaning", _("Cleaning")
        SECURITY = "security", _("Security and guarding")
        MAINTENANCE = "maintenance", _("Building maintenance")
        IT = "it", _("IT and telecoms")
        SUPPLIES = "supplies", _("Supplies and furniture")
        TRAVEL = "travel", _("Travel")
        CONSERVATION = "conservation", _("Conservation materials")
        OTHER = "other", _("Other")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="purchase_needs")
    code = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=24, choices=Category.choices)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="purchase_needs")
    recurring = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="purchasing_need_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class Vehicle(models.Model):
    """A way of buying (*support d'achat*): a grouping the museum joined, a joint order with a
    partner institution, UGAP, its own framework agreement or a specific contract."""

    class Kind(models.TextChoices):
        STATE_GROUPING = "state-grouping", _("State purchasing-directorate grouping")
        REGIONAL_PLATFORM = "regional-platform", _("Regional purchasing platform")
        JOINT_ORDER = "joint-order", _("Joint order with a partner institution")
        UGAP = "ugap", _("UGAP (central purchasing body)")
        FRAMEWORK = "framework", _("Framework agreement")
        SPECIFIC = "specific", _("Specific contract")

    GROUPINGS: ClassVar[frozenset[str]] = frozenset(
        {"state-grouping", "regional-platform", "joint-order", "ugap"}
    )

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="purchase_vehicles")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    coordinator = models.CharField(max_length=200, blank=True, help_text=_("Who runs the procedure."))
    partner = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="joint_purchase_vehicles"
    )
    joined_on = models.DateField(null=True, blank=True, help_text=_("When the museum joined it."))

    class Meta:
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="purchasing_vehicle_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_grouping(self) -> bool:
        return self.kind in self.GROUPINGS


class Contract(models.Model):
    """A contract (*marché*), framework agreement (*accord-cadre*) or follow-on contract
    (*marché subséquent*, concluded under a framework agreement: ``parent``). Amounts are EUR
    excluding VAT; ``renewal_on`` is the date by which renewal must be decided (the end date
    when empty)."""

    class Nature(models.TextChoices):
        CONTRACT = "contract", _("Contract")
        FRAMEWORK = "framework", _("Framework agreement")
        SUBSEQUENT = "subsequent", _("Follow-on contract")
        PARTNERSHIP = "partnership", _("Partnership contract")

    class Procedure(models.TextChoices):
        ADAPTED = "adapted", _("Adapted procedure")
        OPEN = "open", _("Open call for tenders")
        RESTRICTED = "restricted", _("Restricted call for tenders")
        NEGOTIATED = "negotiated", _("Competitive procedure with negotiation")
        NEGOTIATED_NOTICE = "negotiated-notice", _("Negotiated procedure with prior call for competition")
        NO_NOTICE = "no-notice", _("Negotiated without publicity or competition")
        DIALOGUE = "dialogue", _("Competitive dialogue")

    class PriceForm(models.TextChoices):
        FIRM = "firm", _("Firm")
        FIRM_UPDATABLE = "firm-updatable", _("Firm and updatable")
        REVISABLE = "revisable", _("Revisable")

    class PlaceType(models.TextChoices):
        POSTCODE = "postcode", _("Postcode")
        COMMUNE = "commune", _("Commune code")
        DEPARTMENT = "department", _("Department code")
        REGION = "region", _("Region code")
        COUNTRY = "country", _("Country code")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="purchase_contracts")
    reference = models.CharField(max_length=32, help_text=_("The buyer's identifier of the contract."))
    title = models.CharField(max_length=300)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="contracts")
    nature = models.CharField(max_length=16, choices=Nature.choices, default=Nature.CONTRACT)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ons"
    )
    needs = models.ManyToManyField(Need, blank=True, related_name="contracts")
    currency = models.CharField(max_length=3, default="EUR")
    min_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_amount = models.DecimalField(max_digits=14, decimal_places=2)
    start_on = models.DateField()
    end_on = models.DateField()
    renewal_on = models.DateField(null=True, blank=True)
    launched_on = models.DateField(null=True, blank=True, help_text=_("When the procedure was launched."))
    notified_on = models.DateField(null=True, blank=True)
    # the State's essential data (required from ESSENTIAL_DATA_FROM upwards)
    buyer_siret = models.CharField(max_length=14, blank=True)
    procedure = models.CharField(max_length=20, choices=Procedure.choices, blank=True)
    cpv_code = models.CharField(max_length=10, blank=True)
    place_type = models.CharField(max_length=12, choices=PlaceType.choices, blank=True)
    place_code = models.CharField(max_length=12, blank=True)
    place_name = models.CharField(max_length=100, blank=True)
    price_form = models.CharField(max_length=16, choices=PriceForm.choices, blank=True)

    class Meta:
        ordering: ClassVar = ["reference"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["institution", "reference"], name="purchasing_contract_reference_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    @property
    def supplier(self) -> str:
        return ", ".join(holder.name for holder in self.holders.all())


class Holder(models.Model):
    """A holder (*titulaire*) of a contract: the supplier, or each member of a group of them."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="holders")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    siret = models.CharField(max_length=14, blank=True)

    class Meta:
        ordering: ClassVar = ["contract", "position"]

    def __str__(self) -> str:
        return f"{self.name} ({self.siret})" if self.siret else self.name


class RenewalAlert(models.Model):
    """A renewal alert sent for a contract, ``months`` (6 or 3) before its renewal date; one per
    contract and threshold, so the e-mail goes once."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="renewal_alerts")
    months = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    sent_at = models.DateTimeField()
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["due_on"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["contract", "months"], name="purchasing_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} −{self.months} months"
