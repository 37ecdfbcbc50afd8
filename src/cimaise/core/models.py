"""Institutions, their sites and places, the people who work there, API tokens, signing keys."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from urllib.parse import quote

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    _("Use letters, digits, dots, dashes and underscores."),
)


class Institution(models.Model):
    """A museum, monument or operator that owns data here (the Louvre, a partner museum…)."""

    class Kind(models.TextChoices):
        MUSEUM = "museum", _("Museum")
        MONUMENT = "monument", _("Monument")
        PASS_OPERATOR = "pass-operator", _("Pass operator")
        OTHER = "other", _("Other")

    code = models.SlugField(max_length=32, unique=True, help_text=_("Short code used in URIs."))
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MUSEUM)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="FR")
    website = models.URLField(blank=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A physical site of an institution: a palace, a conservation centre, a reserve building."""

    class Kind(models.TextChoices):
        MUSEUM = "museum", _("Museum")
        CONSERVATION_CENTRE = "conservation-centre", _("Conservation centre")
        RESERVE = "reserve", _("Reserve")
        MONUMENT = "monument", _("Monument")
        OFFICE = "office", _("Office")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.MUSEUM)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    open_to_public = models.BooleanField(default=True)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("People allowed on site at once.")
    )

    class Meta:
        ordering: ClassVar = ["institution__name", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="site_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Place(models.Model):
    """A node of the place tree: site → building → level → room → storage unit → shelf.

    Precise enough to find a work (Spectrum 5.1). ``path`` holds the codes from the top of the
    tree down to this place, so a subtree is one indexed prefix query.
    """

    class Kind(models.TextChoices):
        BUILDING = "building", _("Building")
        LEVEL = "level", _("Level")
        ROOM = "room", _("Room")
        UNIT = "unit", _("Storage unit")
        SHELF = "shelf", _("Shelf")

    DEPTH: ClassVar[dict[str, int]] = {
        "building": 1,
        "level": 2,
        "room": 3,
        "unit": 4,
        "shelf": 5,
    }

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="places")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="places")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    code = models.CharField(max_length=64, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=400, db_index=True, editable=False)
    barcode = models.CharField(max_length=64, null=True, blank=True)
    inner_width_cm = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    inner_depth_cm = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    inner_height_cm = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    load_limit_kg = models.DecimalField(
        max_digits=9, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["path"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="place_code_unique"),
            models.UniqueConstraint(fields=["institution", "barcode"], name="place_barcode_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def uri(self) -> str:
        return place_uri(self.institution.code, self.code)

    @property
    def volume_litres(self) -> Decimal | None:
        dims = (self.inner_width_cm, self.inner_depth_cm, self.inner_height_cm)
        if any(d is None for d in dims):
            return None
        w, d, h = (Decimal(x) for x in dims if x is not None)
        return (w * d * h / Decimal(1000)).quantize(Decimal("0.1"))


def place_uri(institution_code: str, place_code: str) -> str:
    """``urn:cimaise:place:{institution}:{code}`` with the code percent-encoded."""
    return f"urn:cimaise:place:{institution_code}:{quote(place_code, safe='')}"


class Person(models.Model):
    """A member of staff (or of a partner), linked to their login."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="people")
    job_title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    home_site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True)
    line_manager = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    preferred_language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="fr")

    class Meta:
        ordering: ClassVar = ["user__last_name", "user__first_name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class ApiToken(models.Model):
    """A bearer token for a machine acting as ``user``: shown once, stored as a SHA-256 digest.

    Tokens carry 256 bits of randomness, so a fast digest is enough (no password hashing).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    label = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"


class SigningKey(models.Model):
    """An Ed25519 key of an institution. The public half lives here; the private half is a file
    under ``settings.KEY_DIR``, outside the database, so that database access alone cannot sign.
    """

    class Purpose(models.TextChoices):
        LEDGER_ANCHOR = "ledger-anchor", _("Ledger anchors")
        TICKETS = "tickets", _("Tickets")
        PASSES = "passes", _("Passes")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="keys")
    kid = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    public_key = models.CharField(max_length=64, help_text=_("Raw public key, base64url."))
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return self.kid


class DemoLoad(models.Model):
    """A demo loader that has run at a scale, so ``cimaise demo`` run twice adds nothing."""

    loader = models.CharField(max_length=100)
    scale = models.CharField(max_length=10)
    loaded_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["loader", "scale"], name="demo_load_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.loader} ({self.scale})"


class Installation(models.Model):
    """One row: what this database is. A demo database is marked so demo logins stay in it."""

    is_demo = models.BooleanField(default=False)
    demo_scale = models.CharField(max_length=10, blank=True)
    demo_loaded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "demo installation" if self.is_demo else "installation"
