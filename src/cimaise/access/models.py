"""Entrances, lanes and entry rules; the entries the lanes record (accepted, refused, overridden,
decided offline by an entrance agent), what turnstiles count, and each agent's last contact."""

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
    """One scan answered (accepted or rejected), idempotent by ``nonce``: by the central service
    (``online``), by an entrance agent while the central service was out of reach (``offline``,
    uploaded later; ``recorded_at`` is then the agent's clock, corrected by its last known offset),
    or a visitor let through by staff with a reason (``override``)."""

    class Result(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    class Direction(models.TextChoices):
        IN = "in", _("in")
        OUT = "out", _("out")

    class Source(models.TextChoices):
        ONLINE = "online", _("decided by the central service")
        OFFLINE = "offline", _("decided offline by the entrance agent")
        OVERRIDE = "override", _("let through by staff")

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
    people = models.PositiveSmallIntegerField(
        default=1, help_text=_("how many people this entry admits (a group code admits its party)")
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ONLINE)
    override_reason = models.CharField(max_length=500, blank=True)
    central_reason = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("offline entries: what the central service would have answered"),
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, help_text=_("the visitor did not pass"))
    uploaded_at = models.DateTimeField(
        null=True, blank=True, help_text=_("for an entry decided offline: when the agent uploaded it")
    )

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "nonce"], name="entry_nonce_unique"),
            models.CheckConstraint(condition=models.Q(people__gte=1), name="entry_people_positive"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["code_id", "recorded_at"], name="entry_code_time"),
            models.Index(fields=["entrance", "recorded_at"], name="entry_entrance_time"),
        ]
        permissions: ClassVar = [("override_entry", "Can let a visitor through with a reason")]
        verbose_name = _("entry")
        verbose_name_plural = _("entries")

    def __str__(self) -> str:
        return f"{self.code_id or '?'} {self.direction} {self.result}"


class EntryCancellation(models.Model):
    """A lane reported that the visitor of an accepted entry did not pass: the entry no longer
    counts, and the code may be used again. Its own row, so that agents follow them by id."""

    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="cancellation")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=32, default="not_passed")
    operator = models.CharField(max_length=200)
    cancelled_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["id"]
        verbose_name = _("entry cancellation")

    def __str__(self) -> str:
        return f"{self.entry_id} {self.reason}"


class Passage(models.Model):
    """What a turnstile counted: people who went through a lane in one direction during a period.
    Idempotent by ``nonce`` per lane. More passages than accepted entries is a fraud signal."""

    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="passages")
    direction = models.CharField(max_length=4, choices=Entry.Direction.choices)
    count = models.PositiveIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    operator = models.CharField(max_length=200, blank=True, help_text=_("the agent on duty at the lane"))
    nonce = models.CharField(max_length=64)
    reported_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["lane_id", "period_start"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["lane", "nonce"], name="passage_nonce_unique"),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")), name="passage_period_positive"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["lane", "period_start"], name="passage_lane_time")]
        verbose_name = _("turnstile passage count")

    def __str__(self) -> str:
        return f"{self.lane_id} {self.direction} {self.count}"


class AgentContact(models.Model):
    """An entrance agent's last contact with the central service (feed or upload)."""

    entrance = models.OneToOneField(Entrance, on_delete=models.CASCADE, related_name="agent")
    last_seen_at = models.DateTimeField()
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_upload_at = models.DateTimeField(null=True, blank=True)
    queued = models.PositiveIntegerField(default=0, help_text=_("entries waiting on the agent to upload"))
    operator = models.CharField(max_length=200)

    class Meta:
        verbose_name = _("entrance agent contact")

    def __str__(self) -> str:
        return f"{self.entrance_id} {self.last_seen_at:%H:%M:%S}"
