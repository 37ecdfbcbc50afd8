"""The append-only, hash-chained record of facts (see ``docs/ledger.md``)."""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.db import models

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a stored fact."""


class FactQuerySet(models.QuerySet["Fact"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("ledger facts are append-only: update refused")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("ledger facts are append-only: delete refused")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("ledger facts are append-only: update refused")


class Fact(models.Model):
    """One fact. ``id`` is the position in the global chain (1, 2, 3… with no gap);
    ``hash`` = SHA-256 over the previous fact's hash and this fact's canonical form.

    Written only by ``ledger.services.facts_append``; refused UPDATE and DELETE by the ORM here and
    by database triggers (migration 0002).
    """

    id = models.BigIntegerField(primary_key=True)
    type = models.CharField(max_length=80)
    stream = models.CharField(max_length=200)
    seq = models.PositiveIntegerField()
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    institution = models.ForeignKey("core.Institution", on_delete=models.PROTECT, null=True, related_name="+")
    body = models.TextField(help_text="Canonical JSON: sorted keys, no spaces, UTF-8.")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = FactQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["stream", "seq"], name="fact_stream_seq_unique"),
        ]
        permissions: ClassVar = [("verify_ledger", "Can verify the ledger")]

    def __str__(self) -> str:
        return f"#{self.id} {self.type} {self.stream}/{self.seq}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("ledger facts are append-only: update refused")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("ledger facts are append-only: delete refused")


class ChainHead(models.Model):
    """One row: the last fact's id and hash. Locked by every append, so ids have no gaps.

    A projection: ``verify`` checks it against the chain (a truncated tail shows here).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"head #{self.last_id}"


class StreamHead(models.Model):
    """Per stream: the last sequence number and fact. A projection rebuilt from the facts."""

    stream = models.CharField(max_length=200, primary_key=True)
    last_seq = models.PositiveIntegerField()
    last_fact_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.stream}@{self.last_seq}"


class Anchor(models.Model):
    """A signed statement of the chain head at a moment: nothing up to ``fact_id`` can be
    rewritten afterwards without the institution's private key."""

    institution = models.ForeignKey("core.Institution", on_delete=models.PROTECT)
    kid = models.CharField(max_length=64)
    fact_id = models.BigIntegerField()
    fact_hash = models.CharField(max_length=64)
    anchored_at = models.DateTimeField()
    signature = models.CharField(max_length=128)

    class Meta:
        ordering: ClassVar = ["-fact_id"]

    def __str__(self) -> str:
        return f"anchor #{self.fact_id} by {self.kid}"
