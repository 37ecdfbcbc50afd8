"""Custody of works: the transfer set-up custody refers to (crates, vehicles, convoys, programme
targets) and the EPCIS event store with its projections (current state, containment, presence,
anomalies). Everything here except the set-up tables is rebuilt from ledger facts."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from urllib.parse import quote

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.collection.models import Work
from cimaise.core.models import Institution, Person, Place, Site


def object_uri(kind: str, institution_code: str, key: str) -> str:
    """``urn:cimaise:{kind}:{institution}:{key}``, the key percent-encoded."""
    return f"urn:cimaise:{kind}:{institution_code}:{quote(key, safe='')}"


def _size() -> models.DecimalField[Decimal | None, Decimal | None]:
    return models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )


class Crate(models.Model):
    """A crate that carries works; identified in events as ``urn:cimaise:crate:{inst}:{barcode}``."""

    class Kind(models.TextChoices):
        SHUTTLE = "shuttle", _("Reusable shuttle crate")
        ISOTHERMAL = "isothermal", _("Isothermal crate")
        CUSTOM = "custom", _("Custom crate")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="crates")
    barcode = models.CharField(max_length=64)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SHUTTLE)
    inner_length_cm = _size()
    inner_width_cm = _size()
    inner_height_cm = _size()
    max_load_kg = _size()
    tare_kg = _size()
    shock_threshold_g = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True,
        help_text=_("Shock (in g) its most fragile content tolerates."),
    )  # fmt: skip

    class Meta:
        ordering: ClassVar = ["barcode"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "barcode"], name="crate_barcode_unique")
        ]

    def __str__(self) -> str:
        return self.barcode

    @property
    def uri(self) -> str:
        return object_uri("crate", self.institution.code, self.barcode)


class Vehicle(models.Model):
    """A truck of the transfer fleet (``urn:cimaise:vehicle:{inst}:{plate}``)."""

    class Kind(models.TextChoices):
        SEMI_TRAILER = "semi-trailer", _("Semi-trailer")
        RIGID = "rigid", _("Rigid truck")
        VAN = "van", _("Van")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="vehicles")
    plate = models.CharField(max_length=20)
    description = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SEMI_TRAILER)
    air_suspension = models.BooleanField(default=True)
    climate_unit = models.BooleanField(default=True, help_text=_("Holds 18–20 °C, 50–55 % RH."))
    volume_m3 = _size()
    max_load_kg = _size()

    class Meta:
        ordering: ClassVar = ["plate"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "plate"], name="vehicle_plate_unique")
        ]

    def __str__(self) -> str:
        return self.plate

    @property
    def uri(self) -> str:
        return object_uri("vehicle", self.institution.code, self.plate)


class Programme(models.Model):
    """A transfer programme ("programme de réaffectation des réserves"): works and their targets."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="programmes")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="programme_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """A work's target shelf in a programme ("adressage"), set before it leaves."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="assignments")
    work = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="assignments")
    source = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    target = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["programme", "work"], name="assignment_work_unique")
        ]

    def __str__(self) -> str:
        return f"{self.work_id} → {self.target_id}"


class ConvoyState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    LOADING = "loading", _("Loading")
    SEALED = "sealed", _("Sealed")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED = "arrived", _("Arrived")
    UNLOADED = "unloaded", _("Unloaded")
    CLOSED = "closed", _("Closed")


class Convoy(models.Model):
    """One truck journey; ``urn:cimaise:convoy:{inst}:{code}`` is its EPCIS business transaction."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="convoys")
    code = models.CharField(max_length=32)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, null=True, blank=True)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, null=True, blank=True)
    origin = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    destination = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    planned_departure = models.DateTimeField(null=True, blank=True)
    planned_arrival = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=ConvoyState.choices, default=ConvoyState.PLANNED)
    drivers = models.JSONField(default=list, blank=True, help_text=_("The two drivers' names."))
    escorts = models.ManyToManyField(Person, blank=True, related_name="escorted_convoys")
    seals = models.JSONField(default=list, blank=True, help_text=_("Seal numbers recorded at closing."))
    seals_checked = models.JSONField(default=list, blank=True, help_text=_("Seal numbers read at opening."))
    route = models.JSONField(
        default=list, blank=True, help_text=_("Planned route: [[lat, lon], …] from origin to destination.")
    )
    planned_stops = models.JSONField(
        default=list, blank=True, help_text=_("Planned stops: [{lat, lon, from, until}, …].")
    )

    class Meta:
        ordering: ClassVar = ["-planned_departure", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="convoy_code_unique")
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def uri(self) -> str:
        return object_uri("convoy", self.institution.code, self.code)


class ConvoyItem(models.Model):
    """The manifest: a work expected on a convoy, in a planned crate."""

    convoy = models.ForeignKey(Convoy, on_delete=models.CASCADE, related_name="items")
    work = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="+")
    crate = models.ForeignKey(Crate, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["convoy", "work"], name="convoy_item_work_unique")
        ]

    def __str__(self) -> str:
        return f"{self.convoy_id}: {self.work_id}"


class CustodyEvent(models.Model):
    """One captured EPCIS event (a projection of its ``moves.custody.captured`` fact).

    ``body`` is the event as captured, with its ``eventID``. An error declaration is stored as its
    own row (``is_declaration``) and marks the event it retracts with ``retracted``.
    """

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=200)
    is_declaration = models.BooleanField(default=False)
    retracted = models.BooleanField(default=False)
    event_type = models.CharField(max_length=24)
    action = models.CharField(max_length=8, blank=True)
    biz_step = models.CharField(max_length=200, blank=True)
    disposition = models.CharField(max_length=200, blank=True)
    event_time = models.DateTimeField()
    record_time = models.DateTimeField()
    read_point = models.CharField(max_length=300, blank=True)
    biz_location = models.CharField(max_length=300, blank=True)
    biz_transaction = models.CharField(max_length=300, blank=True, help_text=_("The first one."))
    place = models.ForeignKey(
        Place, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False,
        help_text=_("The bizLocation, when it is one of our places."),
    )  # fmt: skip
    seen_place = models.ForeignKey(
        Place, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False,
        help_text=_("The readPoint, else the bizLocation, when it is one of our places."),
    )  # fmt: skip
    who = models.CharField(max_length=200)
    body = models.JSONField()
    context = models.JSONField(default=dict, help_text=_("JSON-LD prefixes of its extension fields."))
    fact_id = models.BigIntegerField()

    class Meta:
        ordering: ClassVar = ["event_time", "event_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["institution", "event_id", "is_declaration"], name="custody_event_id_unique"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["institution", "event_time"]),
            models.Index(fields=["institution", "biz_step", "event_time"]),
            models.Index(fields=["institution", "biz_location", "event_time"]),
            models.Index(fields=["institution", "biz_transaction"]),
        ]

    def __str__(self) -> str:
        return self.event_id


class EventObject(models.Model):
    """An object an event names directly, with its role (the index behind ``MATCH_epc``)."""

    class Role(models.TextChoices):
        EPC = "epc", _("Object")
        PARENT = "parent", _("Parent (container)")
        CHILD = "child", _("Child (contained)")
        TRANSACTION = "bizTx", _("Business transaction")

    event = models.ForeignKey(CustodyEvent, on_delete=models.CASCADE, related_name="named")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    uri = models.CharField(max_length=300)
    role = models.CharField(max_length=6, choices=Role.choices)
    event_time = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["institution", "uri", "event_time"])]

    def __str__(self) -> str:
        return f"{self.uri} ({self.role})"


class Status(models.TextChoices):
    IN_STORAGE = "in_storage", _("In storage")
    PACKED = "packed", _("Packed")
    LOADED = "loaded", _("Loaded")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED = "arrived", _("Arrived")
    RECEIVED = "received", _("Received")
    HOLDING = "holding", _("Holding (acclimatising)")
    STORED = "stored", _("Stored")


class ObjectState(models.Model):
    """Where an object (work, crate, vehicle…) is now, derived from its events in event time."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    uri = models.CharField(max_length=300)
    kind = models.CharField(max_length=12)
    work = models.ForeignKey(
        Work, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    place = models.ForeignKey(
        Place, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    container = models.CharField(max_length=300, blank=True)
    crate = models.CharField(max_length=300, blank=True, help_text=_("The last crate it was packed in."))
    convoy = models.CharField(max_length=300, blank=True, help_text=_("The last convoy it travelled with."))
    inspected_at = models.DateTimeField(null=True)
    departed = models.BooleanField(default=False, help_text=_("Has left since it was last stored."))
    last_event_time = models.DateTimeField()
    last_event = models.ForeignKey(
        CustodyEvent, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    last_seen_at = models.DateTimeField(null=True)
    last_seen_place = models.ForeignKey(
        Place, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    last_seen_by = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "uri"], name="object_state_uri_unique")
        ]
        indexes: ClassVar = [
            models.Index(fields=["institution", "place"]),
            models.Index(fields=["institution", "container"]),
            models.Index(fields=["institution", "convoy"]),
            models.Index(fields=["work"]),
        ]

    def __str__(self) -> str:
        return f"{self.uri}: {self.status}"


class Containment(models.Model):
    """An interval during which ``child`` was inside ``parent`` (``until`` null: still is)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    child = models.CharField(max_length=300)
    parent = models.CharField(max_length=300)
    since = models.DateTimeField()
    until = models.DateTimeField(null=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["institution", "child"]),
            models.Index(fields=["institution", "parent"]),
        ]

    def __str__(self) -> str:
        return f"{self.child} in {self.parent}"


class Presence(models.Model):
    """An interval during which an object was at a place (``until`` null: still is)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    uri = models.CharField(max_length=300)
    place = models.ForeignKey(Place, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    since = models.DateTimeField()
    until = models.DateTimeField(null=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["institution", "uri"]),
            models.Index(fields=["place", "since"]),
        ]

    def __str__(self) -> str:
        return f"{self.uri} at {self.place_id}"


class Anomaly(models.Model):
    """Something custody events say that should not happen; resolved by a registrar (a fact)."""

    class Kind(models.TextChoices):
        NOT_IN_CONTAINER = "not_in_container", _("Unpacked from a container it was not in")
        NEVER_DEPARTED = "never_departed", _("Received without having departed")
        IMPOSSIBLE_TRAVEL = "impossible_travel", _("Seen in two places too close in time")
        SHELF_OVERLOAD = "shelf_overload", _("Shelf over its load or volume")
        NO_TARGET = "no_target", _("Left without a target shelf")
        NO_CONDITION_CHECK = "no_condition_check", _("Left without a condition check")
        UNKNOWN_IDENTIFIER = "unknown_identifier", _("Unknown identifier")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    uri = models.CharField(max_length=300)
    event_id = models.CharField(max_length=200)
    evidence = models.JSONField()
    detected_at = models.DateTimeField()
    fact_id = models.BigIntegerField()
    resolved_at = models.DateTimeField(null=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["-detected_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "kind", "uri", "event_id"], name="anomaly_unique")
        ]
        indexes: ClassVar = [models.Index(fields=["institution", "resolved_at", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.uri}"

    @property
    def open(self) -> bool:
        return self.resolved_at is None
