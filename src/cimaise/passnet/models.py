"""The pass network: the operator's products, reseller batches and passes; the partner sites
that accept them and their API keys; the entries the sites record (every accepted entry is a
zero-price sale line at the site, the basis of settlement); monthly settlements and their lines.

The operator is an ``Institution`` of kind ``pass-operator``; a partner site belongs to an
institution (a museum or monument) and to one operator's network.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import CODE_VALIDATOR, Institution


class PassProduct(models.Model):
    """A pass of 2, 4 or 6 days, valid from its first accepted scan for ``validity_hours``
    (mode ``hours``) or until the end of its ``days``-th Paris calendar day (mode ``calendar``)."""

    class Mode(models.TextChoices):
        HOURS = "hours", _("hours from the first scan")
        CALENDAR = "calendar", _("consecutive calendar days")

    operator = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="pass_products")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=120)
    days = models.PositiveSmallIntegerField()
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.HOURS)
    validity_hours = models.PositiveSmallIntegerField(help_text=_("hours mode: 48, 96 or 144"))
    price = models.DecimalField(max_digits=9, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["operator_id", "days", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["operator", "code"], name="pass_product_code_unique"),
            models.CheckConstraint(condition=models.Q(days__gte=1), name="pass_product_days_positive"),
        ]
        verbose_name = _("pass product")

    def __str__(self) -> str:
        return self.name


class ResellerBatch(models.Model):
    """Passes issued in bulk to a reseller; withdrawing the batch revokes all its passes."""

    operator = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="reseller_batches")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    reseller = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["operator", "code"], name="reseller_batch_code_unique"),
        ]
        verbose_name = _("reseller batch")

    def __str__(self) -> str:
        return self.code


class Pass(models.Model):
    """One pass: its signed code, who sold it and for how much; once scanned, where and when it
    was activated and when it expires."""

    class Channel(models.TextChoices):
        WEB = "web", _("web shop")
        DESK = "desk", _("desk")
        RESELLER = "reseller", _("reseller")
        PARTNER = "partner", _("partner site desk")

    class State(models.TextChoices):
        VALID = "valid", _("valid")
        REVOKED = "revoked", _("revoked")

    class RevokeReason(models.TextChoices):
        LOST = "lost", _("lost")
        REFUNDED = "refunded", _("refunded")
        BATCH_WITHDRAWN = "batch_withdrawn", _("reseller batch withdrawn")

    operator = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="passes")
    code_id = models.CharField(max_length=32, unique=True)
    code = models.CharField(max_length=200)
    product = models.ForeignKey(PassProduct, on_delete=models.PROTECT, related_name="passes")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    batch = models.ForeignKey(
        ResellerBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="passes"
    )
    holder_name = models.CharField(max_length=200, blank=True)
    price = models.DecimalField(max_digits=9, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    issued_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.VALID)
    revoked_reason = models.CharField(max_length=20, choices=RevokeReason.choices, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_site = models.ForeignKey(
        "PartnerSite", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["id"]
        indexes: ClassVar = [models.Index(fields=["operator", "issued_at"], name="pass_operator_issued")]
        verbose_name = _("pass")
        verbose_name_plural = _("passes")

    def __str__(self) -> str:
        return self.code_id


class PassRevocation(models.Model):
    """A revoked pass, in order (agents follow revocations by id)."""

    operator = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    pass_ref = models.ForeignKey(Pass, on_delete=models.PROTECT, related_name="revocations")
    code_id = models.CharField(max_length=32)
    reason = models.CharField(max_length=20, choices=Pass.RevokeReason.choices)
    revoked_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.code_id} {self.reason}"


class PartnerSite(models.Model):
    """A museum or monument of the network, where passes are scanned.

    ``opening_hours``: ``{"0": ["09:00", "18:00"], …}`` by ISO weekday - 1 (Monday = "0"), Paris
    time; a missing day is closed; empty means always open. ``excluded_areas``: area codes (such
    as temporary exhibitions) a pass does not admit to. ``entrance_code``: the museum's own
    access entrance that validates passes here (empty for partners)."""

    operator = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="network_sites")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="partner_sites")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    products = models.ManyToManyField(PassProduct, related_name="sites", blank=True)
    entries_per_pass = models.PositiveSmallIntegerField(default=1)
    excluded_areas = models.JSONField(default=list, blank=True)
    opening_hours = models.JSONField(default=dict, blank=True)
    entrance_code = models.CharField(max_length=32, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["operator_id", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["operator", "code"], name="partner_site_code_unique"),
        ]
        verbose_name = _("partner site")

    def __str__(self) -> str:
        return self.name


class PartnerKey(models.Model):
    """An API key of one partner site, shown once, stored as a SHA-256 digest (256 random bits)."""

    site = models.ForeignKey(PartnerSite, on_delete=models.PROTECT, related_name="keys")
    label = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        verbose_name = _("partner key")

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"


class PassEntry(models.Model):
    """One pass scan answered at a site, idempotent by ``nonce`` per operator."""

    class Result(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    class Source(models.TextChoices):
        ONLINE = "online", _("decided by the central service")
        OFFLINE = "offline", _("decided offline by an entrance agent")

    operator = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(PartnerSite, on_delete=models.PROTECT, related_name="entries")
    pass_ref = models.ForeignKey(
        Pass, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    code_id = models.CharField(max_length=32, blank=True)
    lane = models.CharField(max_length=32)
    area = models.CharField(max_length=32, blank=True)
    direction = models.CharField(max_length=4)
    nonce = models.CharField(max_length=64)
    scanned_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    operator_label = models.CharField(max_length=200)
    result = models.CharField(max_length=8, choices=Result.choices)
    reason = models.CharField(max_length=32)
    activated = models.BooleanField(default=False, help_text=_("this entry activated the pass"))
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ONLINE)
    central_reason = models.CharField(max_length=32, blank=True)
    price = models.DecimalField(
        max_digits=9, decimal_places=2, default=Decimal("0.00"), help_text=_("a zero-price sale line")
    )

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["operator", "nonce"], name="pass_entry_nonce_unique"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["pass_ref", "recorded_at"], name="pass_entry_pass_time"),
            models.Index(fields=["site", "recorded_at"], name="pass_entry_site_time"),
            models.Index(fields=["operator", "recorded_at"], name="pass_entry_operator_time"),
        ]
        verbose_name = _("pass entry")
        verbose_name_plural = _("pass entries")

    def __str__(self) -> str:
        return f"{self.code_id or '?'} {self.result} {self.reason}"


class SettlementRule(models.Model):
    """How an operator shares its revenue: ``pro_rata`` (pass revenue of the month net of the
    operator's costs, shared in proportion to visits) or ``per_visit`` (a fixed amount a visit)."""

    class Formula(models.TextChoices):
        PRO_RATA = "pro_rata", _("net revenue shared pro rata to visits")
        PER_VISIT = "per_visit", _("fixed amount per visit")

    operator = models.OneToOneField(Institution, on_delete=models.PROTECT, related_name="settlement_rule")
    formula = models.CharField(max_length=10, choices=Formula.choices, default=Formula.PRO_RATA)
    cost_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.1500"), help_text=_("share of revenue kept")
    )
    fixed_costs = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    per_visit_amount = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0.00"))

    def __str__(self) -> str:
        return f"{self.operator_id} {self.formula}"


class Settlement(models.Model):
    """A month's issued statement: frozen once issued (a later correction is a line of the next).
    It counts the entries up to ``last_entry``: those of its month recorded later are corrections."""

    operator = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="settlements")
    month = models.DateField(help_text=_("first day of the month"))
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=200)
    formula = models.CharField(max_length=10)
    revenue = models.DecimalField(max_digits=14, decimal_places=2)
    costs = models.DecimalField(max_digits=14, decimal_places=2)
    distributable = models.DecimalField(max_digits=14, decimal_places=2)
    visits = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    last_entry = models.BigIntegerField(
        default=0, help_text=_("the last entry id counted (ids follow commit order: see passnet.scans)")
    )

    class Meta:
        ordering: ClassVar = ["-month"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["operator", "month"], name="settlement_month_unique"),
        ]
        verbose_name = _("settlement")

    def __str__(self) -> str:
        return f"{self.operator_id} {self.month:%Y-%m}"


class SettlementLine(models.Model):
    """What a site is due in a statement: its visits of the month, or a correction for visits of
    an earlier month recorded after that month's statement was issued."""

    class Kind(models.TextChoices):
        VISITS = "visits", _("visits of the month")
        CORRECTION = "correction", _("correction for an earlier month")

    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="lines")
    site = models.ForeignKey(PartnerSite, on_delete=models.PROTECT, related_name="settlement_lines")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.VISITS)
    for_month = models.DateField()
    visits = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering: ClassVar = ["settlement_id", "site_id", "kind", "for_month"]
        verbose_name = _("settlement line")

    def __str__(self) -> str:
        return f"{self.site_id} {self.kind} {self.amount}"
