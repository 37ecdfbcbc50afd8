"""The waiting room for on-sale peaks: visitors queue, and are admitted at a set rate."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import CODE_VALIDATOR, Institution


class WaitingRoom(models.Model):
    """A queue in front of the shop. ``admitted`` is how many visitors (by rank) may hold places
    by now; it grows at ``rate_per_minute`` and never jumps more than ``burst`` at once.
    ``admitted_at`` is the time the admissions so far were earned up to (see
    docs/waiting-room.md). At most one room of an institution is active: the shop's."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32, validators=[CODE_VALIDATOR])
    active = models.BooleanField(default=False)
    opens_at = models.DateTimeField(help_text=_("The announced opening: those who came before are shuffled."))
    rate_per_minute = models.PositiveIntegerField(default=600, validators=[MinValueValidator(1)])
    burst = models.PositiveIntegerField(default=100, validators=[MinValueValidator(1)])
    session_minutes = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)])
    admitted = models.PositiveIntegerField(default=0)
    admitted_at = models.DateTimeField(null=True, blank=True)
    arrivals = models.PositiveIntegerField(default=0)
    early_ranked = models.BooleanField(default=False, help_text=_("Those who came early have their ranks."))

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="waiting_room_code_unique"),
            models.UniqueConstraint(
                fields=["institution"], condition=models.Q(active=True), name="waiting_room_one_active"
            ),
            models.CheckConstraint(
                condition=models.Q(admitted__lte=models.F("arrivals")), name="waiting_room_admitted_arrived"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class QueueEntry(models.Model):
    """A visitor in the queue: ``seq`` is the arrival order, ``rank`` the place in the queue."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    room = models.ForeignKey(WaitingRoom, on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveIntegerField()
    arrived_at = models.DateTimeField()
    early = models.BooleanField(default=False)
    shuffle = models.BigIntegerField(default=0, help_text=_("Random order among the early ones."))
    rank = models.PositiveIntegerField(null=True, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["room", "seq"], name="queue_seq_unique"),
            models.UniqueConstraint(fields=["room", "rank"], name="queue_rank_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["room", "early", "shuffle"], name="queue_early")]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq}"
