"""Anchors: the chain head signed with an institution's key, to publish outside the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cimaise.core import keys
from cimaise.core.models import Institution, SigningKey
from cimaise.ledger.canonical import timestamp
from cimaise.ledger.models import Anchor, ChainHead
from cimaise.ledger.services import _lock_head, fact_append
from cimaise.ledger.types import ANCHORED

PREFIX = "cimaise-anchor/1"


@dataclass(frozen=True)
class AnchorStatement:
    """What an anchor asserts: fact ``fact_id`` of the chain has hash ``fact_hash``."""

    kid: str
    fact_id: int
    fact_hash: str
    anchored_at: str
    signature: str = ""

    def message(self) -> bytes:
        return f"{PREFIX} {self.kid} {self.fact_id} {self.fact_hash} {self.anchored_at}".encode()

    def line(self) -> str:
        """One printable line, to e-mail, print or store elsewhere."""
        return f"{self.message().decode()} {self.signature}"


def statement_of(anchor: Anchor) -> AnchorStatement:
    return AnchorStatement(
        kid=anchor.kid,
        fact_id=anchor.fact_id,
        fact_hash=anchor.fact_hash,
        anchored_at=timestamp(anchor.anchored_at),
        signature=anchor.signature,
    )


def parse_anchor_line(line: str) -> AnchorStatement:
    """Read a line printed by ``cimaise ledger anchor``; ValueError if it is not one."""
    parts = line.strip().split(" ")
    if len(parts) != 6 or parts[0] != PREFIX or not parts[2].isdigit():
        raise ValueError("not a cimaise anchor line")
    return AnchorStatement(
        kid=parts[1],
        fact_id=int(parts[2]),
        fact_hash=parts[3],
        anchored_at=parts[4],
        signature=parts[5],
    )


@transaction.atomic(durable=True)
def ledger_anchor(*, institution: Institution, actor: str, now: dt.datetime | None = None) -> AnchorStatement:
    """Sign the current chain head with the institution's anchor key and record it."""
    now = now or timezone.now()
    head: ChainHead = _lock_head()
    if head.last_id == 0:
        raise ValueError("the ledger is empty: nothing to anchor")
    key = keys.signing_key_current(institution=institution, purpose=SigningKey.Purpose.LEDGER_ANCHOR)
    statement = AnchorStatement(
        kid=key.kid, fact_id=head.last_id, fact_hash=head.last_hash, anchored_at=timestamp(now)
    )
    signed = AnchorStatement(**{**statement.__dict__, "signature": keys.sign(key, statement.message())})
    Anchor.objects.create(
        institution=institution,
        kid=key.kid,
        fact_id=head.last_id,
        fact_hash=head.last_hash,
        anchored_at=now,
        signature=signed.signature,
    )
    fact_append(
        type=ANCHORED.name,
        stream=f"ledger.anchors:{institution.code}",
        body={"kid": key.kid, "fact_id": head.last_id, "fact_hash": head.last_hash},
        actor=actor,
        institution_id=institution.pk,
        now=now,
    )
    return signed


def anchor_signature_valid(statement: AnchorStatement) -> bool:
    key = SigningKey.objects.filter(kid=statement.kid).first()
    return key is not None and keys.verify(key, statement.message(), statement.signature)
