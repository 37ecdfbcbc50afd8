"""Models of the missions app: mission orders (ordre de mission) and their validation steps,
allowance rates, expense claims and their receipts, bookings and the shuttle's seats, and the
reception at a site (badges, their issues, the append-only access register, calendar tokens)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import Institution, Person, Site
from cimaise.moves.models import Convoy


class Purpose(models.TextChoices):
    CONVOY = "convoy", _("Convoy of works")
    CONDITION_CHECK = "condition-check", _("Condition-check campaign")
    INVENTORY = "inventory", _("Inventory")
    LOAN = "loan", _("Loan")
    OTHER = "other", _("Other")


class Transport(models.TextChoices):
    TRAIN = "train", _("Train")
    SHUTTLE = "shuttle", _("Museum shuttle")
    CAR = "car", _("Personal car")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting the line manager")
    MANAGER_APPROVED = "manager-approved", _("Awaiting the budget manager")
    APPROVED = "approved", _("Validated")
    RETURNED = "returned", _("Returned to the agent")
    CANCELLED = "cancelled", _("Cancelled")


class MissionOrder(models.Model):
    """A mission order (*ordre de mission*): the authorisation for one or more agents to travel,
    for a purpose, between two instants. A permanent order (``permanent``) covers the recurring
    trips of one traveller between ``valid_from`` and ``valid_until``; each trip under it is an
    order of its own, with ``parent`` set, validated by the permanent order."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32)
    agent = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="mission_orders")
    travellers = models.ManyToManyField(Person, related_name="missions")
    destination = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    description = models.CharField(max_length=300)
    convoy = models.ForeignKey(Convoy, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    transport = models.CharField(max_length=10, choices=Transport.choices)
    car_authorisation = models.CharField(max_length=100, blank=True)
    lodging = models.BooleanField(default=False)
    host = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    zones = models.JSONField(default=list, blank=True)
    permanent = models.BooleanField(default=False)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="trips")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    created_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["-starts_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="mission_order_code_unique"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="mission_order_ends_after"),
        ]
        permissions: ClassVar = [
            ("approve_missionorder", "Can approve mission orders as a line manager"),
            ("budget_missionorder", "Can approve mission orders as the budget manager"),
        ]

    def __str__(self) -> str:
        return self.code


class OrderStep(models.Model):
    """One step of an order's life (filed, submitted, approved or refused at a level), with its
    comment; the same step is a fact in the ledger."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        MANAGER_APPROVED = "manager-approved", _("Approved by the line manager")
        BUDGET_APPROVED = "budget-approved", _("Approved by the budget manager")
        REFUSED = "refused", _("Refused")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(MissionOrder, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.kind}"


class AllowanceRate(models.Model):
    """A flat rate of the mission allowances (decree 2006-781), valid from a date until the next
    rate of the same kind and area. ``area`` is ``paris`` for a night in Paris, else ``base``."""

    class Kind(models.TextChoices):
        MEAL = "meal", _("Meal")
        NIGHT = "night", _("Night")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    area = models.CharField(max_length=8, default="base")
    valid_from = models.DateField()
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")

    class Meta:
        ordering: ClassVar = ["kind", "area", "-valid_from"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["kind", "area", "valid_from"], name="allowance_rate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.area} {self.valid_from}: {self.amount} {self.currency}"


class ExpenseClaim(models.Model):
    """A traveller's claim for one validated order: the allowances computed from the rules plus
    the expenses they paid (each with its receipt). Payable only when every receipt is in."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SUBMITTED = "submitted", _("Submitted")
        PAID = "paid", _("Paid")

    order = models.ForeignKey(MissionOrder, on_delete=models.PROTECT, related_name="claims")
    traveller = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    meals = models.PositiveIntegerField(default=0)
    nights = models.PositiveIntegerField(default=0)
    allowances = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["order", "traveller"], name="expense_claim_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.traveller_id}"


class Expense(models.Model):
    """One expense of a claim (a ticket, a hotel night, a taxi…); ``receipt`` is the scan."""

    class Kind(models.TextChoices):
        TRANSPORT = "transport", _("Transport")
        HOTEL = "hotel", _("Hotel")
        OTHER = "other", _("Other")

    claim = models.ForeignKey(ExpenseClaim, on_delete=models.CASCADE, related_name="expenses")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    label = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    receipt = models.FileField(upload_to="missions/receipts/%Y/%m/", blank=True)

    class Meta:
        ordering: ClassVar = ["pk"]

    def __str__(self) -> str:
        return f"{self.label} {self.amount}"


class Shuttle(models.Model):
    """A run of the museum's shuttle between two sites; ``seats_taken`` never exceeds ``seats``
    (the row is locked while a seat is booked)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32)
    origin = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    departs_at = models.DateTimeField()
    seats = models.PositiveIntegerField()
    seats_taken = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["departs_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="shuttle_code_unique"),
            models.CheckConstraint(condition=Q(seats_taken__lte=F("seats")), name="shuttle_not_overbooked"),
        ]

    def __str__(self) -> str:
        return self.code


class Booking(models.Model):
    """A request for a train or shuttle seat or hotel nights for one traveller of an order."""

    class Kind(models.TextChoices):
        TRAIN = "train", _("Train seat")
        SHUTTLE = "shuttle", _("Shuttle seat")
        HOTEL = "hotel", _("Hotel nights")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(MissionOrder, on_delete=models.PROTECT, related_name="bookings")
    traveller = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    shuttle = models.ForeignKey(
        Shuttle, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    first_day = models.DateField()
    nights = models.PositiveIntegerField(default=0)
    details = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)

    class Meta:
        ordering: ClassVar = ["first_day", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["shuttle", "traveller"],
                condition=Q(shuttle__isnull=False) & ~Q(status="cancelled"),
                name="booking_one_shuttle_seat_each",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.first_day}"


class Badge(models.Model):
    """A named access badge of a site, lent to a visitor for the day."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["site", "number"], name="badge_number_unique"),
        ]

    def __str__(self) -> str:
        return self.number


class BadgeIssue(models.Model):
    """A badge handed to a named person; open until ``returned_at``. The partial unique
    constraint means a badge is never out twice at once, whatever the concurrency."""

    badge = models.ForeignKey(Badge, on_delete=models.PROTECT, related_name="issues")
    holder = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(MissionOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    zones = models.JSONField(default=list, blank=True)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-issued_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["badge"], condition=Q(returned_at__isnull=True), name="badge_issued_once_at_a_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.badge_id} → {self.holder_id}"


class AccessRecord(models.Model):
    """A line of a site's access register: someone came in or went out. Append-only (database
    triggers refuse UPDATE and DELETE); a mistake is corrected by a new line."""

    class Direction(models.TextChoices):
        IN = "in", _("In")
        OUT = "out", _("Out")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    at = models.DateTimeField()
    badge = models.ForeignKey(Badge, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering: ClassVar = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.direction} {self.at}"


class CalendarToken(models.Model):
    """The secret in a person's calendar-feed URL, kept as a SHA-256 digest."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"calendar of {self.person_id}"
