"""Signed ticket codes (DESIGN §3): a compact payload signed with Ed25519, read by entrance agents
with public keys alone.

A code is ``CM1:`` followed by the base45 text (RFC 9285) of 105 bytes, all in the QR
alphanumeric alphabet, so it fits a QR code of version 7 at error level M. The bytes, big-endian:

======  =====  ===========================================================================
offset  size   field
======  =====  ===========================================================================
0       1      version, 1
1       4      key tag: the first 4 bytes of SHA-256 of the signing key's id (``kid``)
5       16     code id, random (``Ticket.code_id`` is its hex)
21      4      product id
25      4      entrance id
29      4      valid from: the slot start, in minutes since 1970-01-01 UTC
33      2      window: minutes after that start the code admits its holder
35      4      tariff id
39      1      flags: bit 0 = a proof of free admission must be shown; other bits zero
40      1      party size (1 for a ticket)
41      64     Ed25519 signature of bytes 0–40
======  =====  ===========================================================================

Verification maps the key tag to the published public keys whose kid has that tag (retired keys
stay published, so codes they signed still verify) and rejects anything else as forged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import secrets
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import transaction

from cimaise.core.errors import DomainError
from cimaise.core.keys import private_key, signing_key_create, signing_key_current
from cimaise.core.models import Institution, SigningKey
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.ticketing.facts_tickets import KEYS_ROTATED

PREFIX = "CM1:"
VERSION = 1
KEY_PURPOSE = SigningKey.Purpose.TICKETS.value
CODE_ID_BYTES = 16
SIGNATURE_BYTES = 64
MAX_QR_VERSION = 10
QR_ERROR = "m"
QR_QUIET_ZONE = 4
FLAG_PROOF = 0x01

_BODY = struct.Struct(">B4s16sIIIHIBB")
CODE_BYTES = _BODY.size + SIGNATURE_BYTES
CODE_CHARS = len(PREFIX) + CODE_BYTES // 2 * 3 + CODE_BYTES % 2 * 2  # base45: 3 per 2 bytes, 2 for 1
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# a start no real slot has: far enough from datetime's end that windows and time zones never overflow
LAST_START_MINUTE = (dt.datetime(9000, 1, 1, tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(minutes=1)
_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_INDEX = {char: value for value, char in enumerate(_B45)}
_NOT_B45 = 0xFF
_B45_DIGITS = bytes(_B45_INDEX.get(chr(byte), _NOT_B45) for byte in range(256))  # ASCII → digit


class ForgedCode(DomainError):
    """A code that is not one of ours: bad prefix or text, wrong length, unknown key, or a
    signature that does not match (any changed byte)."""

    status = 422
    code = "forged"


@dataclass(frozen=True)
class CodePayload:
    """What a code says. ``starts_at`` is aware and on a whole minute; the holder may enter from
    it for ``window_minutes``."""

    code_id: str
    product_id: int
    entrance_id: int
    starts_at: dt.datetime
    window_minutes: int
    tariff_id: int
    proof_required: bool = False
    party_size: int = 1


@dataclass(frozen=True)
class SignedCode:
    code: str
    kid: str
    code_id: str


def new_code_id() -> str:
    """A fresh random code id, as hex."""
    return secrets.token_hex(CODE_ID_BYTES)


def key_tag(kid: str) -> bytes:
    """The 4 bytes a code carries to name its key."""
    return hashlib.sha256(kid.encode()).digest()[:4]


# --- base45 (RFC 9285) -------------------------------------------------------------------------


def b45encode(data: bytes) -> str:
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [_B45[n % 45], _B45[n // 45 % 45], _B45[n // 2025]]
    if len(data) % 2:
        out += [_B45[data[-1] % 45], _B45[data[-1] // 45]]
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Bytes of a base45 text; ``ValueError`` for a character outside the alphabet, a dangling
    character or a group out of range. (Slices and ``struct`` do the work: an entrance agent
    decodes every code it is shown.)"""
    if len(text) % 3 == 1:
        raise ValueError("base45 text of a bad length")
    if not text.isascii():
        raise ValueError("not a base45 text")
    digits = text.encode("ascii").translate(_B45_DIGITS)
    if _NOT_B45 in digits:
        raise ValueError("not a base45 text")
    whole = len(digits) - len(digits) % 3
    groups = [
        a + 45 * b + 2025 * c
        for a, b, c in zip(digits[0:whole:3], digits[1:whole:3], digits[2:whole:3], strict=True)
    ]
    if groups and max(groups) > 0xFFFF:
        raise ValueError("base45 group out of range")
    out = struct.pack(f">{len(groups)}H", *groups)
    if whole < len(digits):
        last = digits[whole] + 45 * digits[whole + 1]
        if last > 0xFF:
            raise ValueError("base45 group out of range")
        out += bytes((last,))
    return out


# --- the payload -------------------------------------------------------------------------------


def _minutes(when: dt.datetime) -> int:
    if when.tzinfo is None or when.second or when.microsecond:
        raise ValueError("starts_at must be aware and on a whole minute")
    minutes = (when - _EPOCH) // dt.timedelta(minutes=1)
    if minutes > LAST_START_MINUTE:
        raise ValueError("starts_at must be before the year 9000")
    return minutes


def pack(payload: CodePayload, tag: bytes) -> bytes:
    """The signed part of a code; ``ValueError`` (a bug of the caller) for a value that does not
    fit its field."""
    code_id = bytes.fromhex(payload.code_id)
    if len(code_id) != CODE_ID_BYTES:
        raise ValueError(f"code id must be {CODE_ID_BYTES} bytes")
    if not 1 <= payload.party_size <= 0xFF:
        raise ValueError("party size must be 1 to 255")
    flags = FLAG_PROOF if payload.proof_required else 0
    try:
        return _BODY.pack(
            VERSION,
            tag,
            code_id,
            payload.product_id,
            payload.entrance_id,
            _minutes(payload.starts_at),
            payload.window_minutes,
            payload.tariff_id,
            flags,
            payload.party_size,
        )
    except struct.error as exc:
        raise ValueError(f"a code field is out of range: {exc}") from exc


def unpack(body: bytes) -> tuple[bytes, CodePayload]:
    """The key tag and payload of a signed part (its signature already checked); ``ForgedCode``
    for anything that is not one: a wrong length, an unknown version or flag, no party, or a
    start past the year 9999 (which only a leaked key could sign)."""
    if len(body) != _BODY.size:
        raise ForgedCode("this code is damaged")
    version, tag, code_id, product, entrance, minutes, window, tariff, flags, party = _BODY.unpack(body)
    if version != VERSION or flags & ~FLAG_PROOF or party == 0 or minutes > LAST_START_MINUTE:
        raise ForgedCode("this code is of an unknown kind")
    payload = CodePayload(
        code_id=code_id.hex(),
        product_id=product,
        entrance_id=entrance,
        starts_at=_EPOCH + dt.timedelta(minutes=minutes),
        window_minutes=window,
        tariff_id=tariff,
        proof_required=bool(flags & FLAG_PROOF),
        party_size=party,
    )
    return tag, payload


# --- signing and verifying ---------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """The institution's current tickets key, loaded once to sign a batch of codes."""

    kid: str
    key: Ed25519PrivateKey

    def sign(self, payload: CodePayload) -> SignedCode:
        body = pack(payload, key_tag(self.kid))
        text = PREFIX + b45encode(body + self.key.sign(body))
        return SignedCode(code=text, kid=self.kid, code_id=payload.code_id)


def ticket_signer(*, institution: Institution) -> Signer:
    """A signer with the institution's current tickets key (made on first use)."""
    key = signing_key_current(institution=institution, purpose=KEY_PURPOSE)
    return Signer(kid=key.kid, key=private_key(key))


def code_sign(*, institution: Institution, payload: CodePayload) -> SignedCode:
    """Sign one payload with the institution's current tickets key."""
    return ticket_signer(institution=institution).sign(payload)


def _raw(code: str) -> bytes:
    if not code.startswith(PREFIX):
        raise ForgedCode("this is not a ticket code")
    if len(code) != CODE_CHARS:  # before decoding: a huge text costs nothing to refuse
        raise ForgedCode("this code is damaged")
    try:
        raw = b45decode(code[len(PREFIX) :])
    except ValueError as exc:
        raise ForgedCode("this code is damaged") from exc
    if len(raw) != CODE_BYTES:
        raise ForgedCode("this code is damaged")
    return raw


def code_verify(code: str, keys: Mapping[str, Ed25519PublicKey]) -> CodePayload:
    """The payload of a code signed by one of ``keys`` (kid → public key, retired ones
    included); ``ForgedCode`` for anything else."""
    raw = _raw(code)
    body, signature = raw[: _BODY.size], raw[_BODY.size :]
    tag = body[1:5]
    for kid, public in keys.items():
        if key_tag(kid) != tag:
            continue
        try:
            public.verify(signature, body)
        except InvalidSignature:
            continue
        return unpack(body)[1]
    raise ForgedCode("this code's signature does not match a known key")


# --- keys --------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def ticket_keys_rotate(*, institution: Institution, now: dt.datetime, actor: str = "system") -> SigningKey:
    """Retire the institution's tickets keys and make a new one. Retired keys stay published,
    so the codes they signed still verify; new codes are signed with the new key."""
    retired = list(
        SigningKey.objects.select_for_update()
        .filter(institution=institution, purpose=KEY_PURPOSE, retired_at__isnull=True)
        .values_list("kid", flat=True)
    )
    SigningKey.objects.filter(kid__in=retired).update(retired_at=now)
    key = signing_key_create(institution=institution, purpose=KEY_PURPOSE, now=now)
    body = {"retired": retired, "kid": key.kid, "public_key": key.public_key}
    draft = FactDraft(
        type=KEYS_ROTATED.name,
        stream=f"ticketing.keys:{institution.code}",
        body=body,
        actor=actor,
        institution_id=institution.pk,
        occurred_at=now,
    )
    facts_append([draft], now=now)
    return key


# --- QR ----------------------------------------------------------------------------------------


def qr(code: str) -> segno.QRCode:
    """The QR code of a code (never Micro QR), refused above version 10."""
    symbol = segno.make_qr(code, error=QR_ERROR, boost_error=False)
    if not isinstance(symbol.version, int) or symbol.version > MAX_QR_VERSION:
        raise ValueError(f"a code needs QR version {symbol.version}, more than {MAX_QR_VERSION}")
    return symbol


def _dark_runs(row: Iterable[int]) -> Iterator[tuple[int, int]]:
    """``(start, length)`` of each run of dark modules in a row."""
    start = 0
    for dark, group in itertools.groupby(bool(module) for module in row):
        length = len(list(group))
        if dark:
            yield start, length
        start += length


def qr_svg(code: str, *, size_mm: float = 45) -> str:
    """The QR code as an inline SVG element, ``size_mm`` wide with its quiet zone."""
    symbol = qr(code)
    width = len(symbol.matrix) + 2 * QR_QUIET_ZONE
    path = "".join(
        f"M{QR_QUIET_ZONE + start} {QR_QUIET_ZONE + y}h{length}v1h-{length}z"
        for y, row in enumerate(symbol.matrix)
        for start, length in _dark_runs(row)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img" width="{size_mm:g}mm"'
        f' height="{size_mm:g}mm" viewBox="0 0 {width} {width}" shape-rendering="crispEdges">'
        f'<rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="{path}"/></svg>'
    )


def qr_png(code: str, *, scale: int = 6) -> bytes:
    """The QR code as a PNG image (``scale`` pixels a module, quiet zone included)."""
    buffer = io.BytesIO()
    qr(code).save(buffer, kind="png", scale=scale, border=QR_QUIET_ZONE)
    return buffer.getvalue()
