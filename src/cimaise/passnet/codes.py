"""Signed pass codes (DESIGN §3), verified with the operator's public keys alone.

A code is ``CP1:`` followed by the base45 text (RFC 9285, shared with ticket codes) of 105 bytes,
so it fits a QR code of version 7 at level M. The bytes, big-endian:

======  =====  ===========================================================================
offset  size   field
======  =====  ===========================================================================
0       1      version, 1
1       4      key tag: first 4 bytes of SHA-256 of the operator's passes key id
5       4      network: the operator institution's id
9       16     pass id, random (``Pass.code_id`` is its hex)
25      4      product id
29      1      days (2, 4, 6)
30      1      validity mode: 0 = hours from the first scan, 1 = consecutive calendar days
31      2      validity hours (hours mode)
33      8      holder: first 8 bytes of SHA-256 of the normalised holder name, or zeros
41      64     Ed25519 signature of bytes 0–40
======  =====  ===========================================================================

A well-formed code of another network (its network field is not ours) is ``UnknownNetwork``:
we cannot check another operator's signature, and the pass is simply not one of ours. Anything
else that does not verify is ``ForgedCode``.
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cimaise.core.errors import DomainError
from cimaise.core.keys import private_key, public_key, signing_key_current
from cimaise.core.models import Institution, SigningKey
from cimaise.ticketing.codes import ForgedCode, b45decode, b45encode, key_tag

PREFIX = "CP1:"
VERSION = 1
KEY_PURPOSE = SigningKey.Purpose.PASSES.value
MODE_HOURS = 0
MODE_CALENDAR = 1
_BODY = struct.Struct(">B4sI16sIBBH8s")
SIGNATURE_BYTES = 64
CODE_BYTES = _BODY.size + SIGNATURE_BYTES
CODE_CHARS = len(PREFIX) + CODE_BYTES // 2 * 3 + CODE_BYTES % 2 * 2
NO_HOLDER = bytes(8)

__all__ = ["ForgedCode", "PassPayload", "UnknownNetwork", "pass_verify"]


class UnknownNetwork(DomainError):
    """A well-formed pass code of another operator's network."""

    status = 422
    code = "unknown"


@dataclass(frozen=True)
class PassPayload:
    """What a pass code says."""

    network: int
    code_id: str
    product_id: int
    days: int
    calendar_days: bool
    validity_hours: int
    holder_hash: bytes = NO_HOLDER


def holder_hash(name: str) -> bytes:
    """8 bytes naming the holder without carrying the name (case, accents and spaces ignored)."""
    if not name.strip():
        return NO_HOLDER
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return hashlib.sha256(" ".join(folded.split()).encode()).digest()[:8]


def pack(payload: PassPayload, tag: bytes) -> bytes:
    try:
        return _BODY.pack(
            VERSION,
            tag,
            payload.network,
            bytes.fromhex(payload.code_id),
            payload.product_id,
            payload.days,
            MODE_CALENDAR if payload.calendar_days else MODE_HOURS,
            payload.validity_hours,
            payload.holder_hash,
        )
    except (struct.error, ValueError) as exc:
        raise ValueError(f"a pass code field is out of range: {exc}") from exc


def unpack(body: bytes) -> PassPayload:
    version, _tag, network, code_id, product, days, mode, hours, holder = _BODY.unpack(body)
    if version != VERSION or mode not in (MODE_HOURS, MODE_CALENDAR) or days == 0:
        raise ForgedCode("this pass code is of an unknown kind")
    return PassPayload(network, code_id.hex(), product, days, mode == MODE_CALENDAR, hours, holder)


@dataclass(frozen=True)
class PassSigner:
    kid: str
    key: Ed25519PrivateKey

    def sign(self, payload: PassPayload) -> str:
        body = pack(payload, key_tag(self.kid))
        return PREFIX + b45encode(body + self.key.sign(body))


def pass_signer(*, operator: Institution) -> PassSigner:
    """A signer with the operator's current passes key (made on first use)."""
    key = signing_key_current(institution=operator, purpose=KEY_PURPOSE)
    return PassSigner(kid=key.kid, key=private_key(key))


def operator_keys(*, operator: Institution) -> dict[str, Ed25519PublicKey]:
    """The operator's passes public keys, retired ones included."""
    rows = SigningKey.objects.filter(institution=operator, purpose=KEY_PURPOSE)
    return {row.kid: public_key(row) for row in rows}


def _raw(code: str) -> bytes:
    if not isinstance(code, str) or not code.startswith(PREFIX):
        raise ForgedCode("this is not a pass code")
    if len(code) != CODE_CHARS:
        raise ForgedCode("this pass code is damaged")
    try:
        raw = b45decode(code[len(PREFIX) :])
    except ValueError as exc:
        raise ForgedCode("this pass code is damaged") from exc
    if len(raw) != CODE_BYTES:
        raise ForgedCode("this pass code is damaged")
    return raw


def pass_verify(code: str, *, network: int, keys: Mapping[str, Ed25519PublicKey]) -> PassPayload:
    """The payload of a pass code of ``network`` signed by one of ``keys``; ``UnknownNetwork``
    for a well-formed code of another network; ``ForgedCode`` for anything else."""
    raw = _raw(code)
    body, signature = raw[: _BODY.size], raw[_BODY.size :]
    if struct.unpack_from(">I", body, 5)[0] != network:
        raise UnknownNetwork("this pass is not of this network")
    tag = body[1:5]
    for kid, public in keys.items():
        if key_tag(kid) != tag:
            continue
        try:
            public.verify(signature, body)
        except InvalidSignature:
            continue
        return unpack(body)
    raise ForgedCode("this pass code's signature does not match a known key")
