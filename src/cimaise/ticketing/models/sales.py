"""Carts, orders, the places they take (allocations) and the tickets sold."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import Institution
from cimaise.ticketing.models.capacity import Quota, Slot
from cimaise.ticketing.models.catalogue import Channel, Tariff


class Cart(models.Model):
    """Places held for a visitor for a while (30 minutes by default) before ordering."""

    class State(models.TextChoices):
        OPEN = "open", _("Holding places")
        ORDERED = "ordered", _("Ordered")
        RELEASED = "released", _("Released")
        EXPIRED = "expired", _("Expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="carts")
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.WEB)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    quantity = models.PositiveIntegerField()
    total = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    admission = models.CharField(max_length=64, blank=True, help_text=_("The waiting-room admission used."))
    idempotency_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text=_("The client's key: the same key makes no second cart."),
    )

    class Meta:
        indexes: ClassVar = [models.Index(fields=["state", "expires_at"], name="cart_expiry")]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["institution", "idempotency_key"], name="cart_idempotency_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"cart {self.pk} ({self.state})"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.tariff_id}"


class Order(models.Model):
    class State(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        EXPIRED = "expired", _("Expired")

    code = models.CharField(max_length=16, unique=True)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    cart = models.OneToOneField(Cart, on_delete=models.PROTECT, related_name="order")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="orders")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    provider = models.CharField(max_length=16)
    state = models.CharField(max_length=20, choices=State.choices, default=State.AWAITING_PAYMENT)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=8, default="en")
    total = models.DecimalField(max_digits=10, decimal_places=2)
    refunded = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    payment_id = models.CharField(max_length=64, blank=True)
    access_key = models.CharField(max_length=64, help_text=_("The secret in the visitor's order link."))
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Unpaid after this, the order expires.")
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [
            models.Index(fields=["institution", "-created_at"], name="order_recent"),
            models.Index(fields=["state", "expires_at"], name="order_expiry"),
            models.Index(fields=["email"], name="order_email"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def reference(self) -> str:
        """What a ticket shows of its order: the last group only. The whole code reads the order
        and all its tickets (``GET /api/v1/orders/{code}``), so one ticket seen by someone else
        must not give the others away."""
        return f"****-****-{self.code[-4:]}"


class Allocation(models.Model):
    """Places of one quota taken by a cart, then by its order. ``quota.taken`` is the sum of the
    live allocations' quantities; an allocation is released once, under the quota's lock."""

    quota = models.ForeignKey(Quota, on_delete=models.PROTECT, related_name="allocations")
    cart = models.ForeignKey(Cart, on_delete=models.PROTECT, related_name="allocations")
    quantity = models.PositiveIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty once paid."))
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["quota", "expires_at"],
                name="allocation_live",
                condition=models.Q(released_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of quota {self.quota_id} for cart {self.cart_id}"


class Ticket(models.Model):
    """One place of a paid order, with its signed code. A changed or cancelled ticket's code is
    revoked; a changed ticket gets a new code (``replaces``)."""

    class State(models.TextChoices):
        VALID = "valid", _("Valid")
        CANCELLED = "cancelled", _("Cancelled")
        REPLACED = "replaced", _("Replaced")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="tickets")
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="+")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="tickets")
    price = models.DecimalField(max_digits=8, decimal_places=2)
    state = models.CharField(max_length=12, choices=State.choices, default=State.VALID)
    code_id = models.CharField(
        max_length=32, unique=True, help_text=_("The code's id, as revocations name it.")
    )
    kid = models.CharField(max_length=80)
    code = models.TextField(help_text=_("The signed code the QR carries."))
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )

    class Meta:
        ordering: ClassVar = ["order_id", "id"]

    def __str__(self) -> str:
        return self.code_id


class Revocation(models.Model):
    """A revoked code, in the order entrance agents sync them (``id`` is the feed cursor)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code_id = models.CharField(max_length=32, unique=True)
    reason = models.CharField(max_length=32)
    revoked_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.code_id} ({self.reason})"
