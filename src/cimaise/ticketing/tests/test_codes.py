"""Signed ticket codes: what they carry, that any change makes them forged, that only the
institution's published keys verify them (retired ones included), and that they fit a QR code of
version 10 or less that a scanner reads back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
import zxingcpp  # a dev dependency: decodes the QR the way a scanner would
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from cimaise.core.errors import DomainError
from cimaise.core.models import SigningKey
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.ticketing.codes import (
    CODE_BYTES,
    LAST_START_MINUTE,
    MAX_QR_VERSION,
    PREFIX,
    CodePayload,
    ForgedCode,
    Signer,
    b45decode,
    b45encode,
    code_sign,
    code_verify,
    key_tag,
    new_code_id,
    pack,
    qr,
    qr_png,
    qr_svg,
    ticket_keys_rotate,
)
from cimaise.ticketing.tickets import public_keys

T0 = dt.datetime(2019, 10, 24, 7, 0, tzinfo=dt.UTC)
U32 = 2**32 - 1
LAST_MINUTE = LAST_START_MINUTE
B45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def payload(**changes: Any) -> CodePayload:
    base = CodePayload(
        code_id=new_code_id(),
        product_id=12,
        entrance_id=3,
        starts_at=T0,
        window_minutes=30,
        tariff_id=41,
        proof_required=True,
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer(kid="louvre-tickets-20191001-abcdef", key=Ed25519PrivateKey.generate())


def keys_of(signer: Signer) -> dict[str, Ed25519PublicKey]:
    return {signer.kid: signer.key.public_key()}


def test_a_code_is_prefixed_base45_of_a_fixed_length_and_carries_its_payload(signer: Signer) -> None:
    original = payload()
    signed = signer.sign(original)
    assert signed.code.startswith(PREFIX) and signed.kid == signer.kid and signed.code_id == original.code_id
    assert len(b45decode(signed.code[len(PREFIX) :])) == CODE_BYTES == 105
    assert set(signed.code[len(PREFIX) :]) <= set(B45_ALPHABET)
    assert code_verify(signed.code, keys_of(signer)) == original


payloads = st.builds(
    CodePayload,
    code_id=st.binary(min_size=16, max_size=16).map(bytes.hex),
    product_id=st.integers(0, U32),
    entrance_id=st.integers(0, U32),
    starts_at=st.integers(0, LAST_MINUTE).map(
        lambda m: dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=m)
    ),
    window_minutes=st.integers(0, 2**16 - 1),
    tariff_id=st.integers(0, U32),
    proof_required=st.booleans(),
    party_size=st.integers(1, 255),
)


@given(original=payloads)
def test_any_payload_round_trips_through_sign_and_verify(signer: Signer, original: CodePayload) -> None:
    assert code_verify(signer.sign(original).code, keys_of(signer)) == original


@given(data=st.binary(max_size=200))
def test_base45_round_trips_any_bytes(data: bytes) -> None:
    assert b45decode(b45encode(data)) == data


def test_base45_follows_rfc_9285() -> None:
    assert b45encode(b"AB") == "BB8"
    assert b45encode(b"Hello!!") == "%69 VD92EX0"
    assert b45encode(b"base-45") == "UJCLQE7W581"
    assert b45decode("QED8WEX0") == b"ietf!"
    assert b45decode("FGW") == b"\xff\xff" and b45decode("U5") == b"\xff"
    for bad in ("GGW", ":::", "::", "A", "ab8", "BB8_"):
        with pytest.raises(ValueError):
            b45decode(bad)


def test_a_changed_byte_anywhere_makes_the_code_forged(signer: Signer) -> None:
    code = signer.sign(payload()).code
    raw = b45decode(code[len(PREFIX) :])
    for index in range(len(raw)):
        for mask in (0x01, 0x80, 0xFF):
            changed = bytearray(raw)
            changed[index] ^= mask
            with pytest.raises(ForgedCode):
                code_verify(PREFIX + b45encode(bytes(changed)), keys_of(signer))


def test_a_changed_character_anywhere_makes_the_code_forged(signer: Signer) -> None:
    code = signer.sign(payload()).code
    for index, char in enumerate(code):
        other = B45_ALPHABET[(B45_ALPHABET.index(char) + 1) % 45] if char in B45_ALPHABET else "X"
        with pytest.raises(ForgedCode):
            code_verify(code[:index] + other + code[index + 1 :], keys_of(signer))


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c[len(PREFIX) :],
        lambda c: "CM2:" + c[len(PREFIX) :],
        lambda c: c.lower(),
        lambda c: c[:-3],
        lambda c: c + "000",
        lambda c: c[:-1],
        lambda c: c.replace(c[10], "_"),
        lambda c: "",
    ],
    ids=["no prefix", "other prefix", "lower case", "short", "long", "dangling", "bad char", "empty"],
)
def test_a_damaged_code_is_forged_never_a_crash(signer: Signer, damage: Callable[[str], str]) -> None:
    code = signer.sign(payload()).code
    with pytest.raises(ForgedCode) as caught:
        code_verify(damage(code), keys_of(signer))
    assert isinstance(caught.value, DomainError) and caught.value.code == "forged"


def test_a_code_signed_by_an_unknown_key_is_forged(signer: Signer) -> None:
    code = signer.sign(payload()).code
    impostor = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(ForgedCode):
        code_verify(code, {})
    with pytest.raises(ForgedCode):
        code_verify(code, {signer.kid: impostor})  # same key id, another key
    with pytest.raises(ForgedCode):
        code_verify(code, {"another-kid": signer.key.public_key()})  # the tag names another key


def test_a_payload_that_does_not_fit_is_refused_when_signing(signer: Signer) -> None:
    for bad in (
        payload(starts_at=dt.datetime(2019, 10, 24, 9, 0)),  # noqa: DTZ001 - naive on purpose
        payload(starts_at=T0 + dt.timedelta(seconds=30)),
        payload(starts_at=dt.datetime(1969, 12, 31, tzinfo=dt.UTC)),
        payload(party_size=0),
        payload(window_minutes=2**16),
        payload(product_id=-1),
        payload(code_id="abcd"),
    ):
        with pytest.raises(ValueError):
            pack(bad, key_tag(signer.kid))


# --- with the institution's keys ---------------------------------------------------------------


def test_a_code_signed_for_an_institution_verifies_with_its_published_keys_only(cast: Cast) -> None:
    signed = code_sign(institution=cast.institution_a, payload=payload())
    key = SigningKey.objects.get(kid=signed.kid)
    assert key.institution == cast.institution_a and key.purpose == "tickets"
    assert code_verify(signed.code, public_keys(institution=cast.institution_a)).code_id == signed.code_id
    code_sign(institution=cast.institution_b, payload=payload())  # B has a tickets key too
    with pytest.raises(ForgedCode):
        code_verify(signed.code, public_keys(institution=cast.institution_b))


def test_another_institutions_code_is_forged_here(cast: Cast) -> None:
    code_sign(institution=cast.institution_a, payload=payload())
    theirs = code_sign(institution=cast.institution_b, payload=payload())
    with pytest.raises(ForgedCode):
        code_verify(theirs.code, public_keys(institution=cast.institution_a))


def test_after_a_rotation_new_codes_use_the_new_key_and_old_codes_still_verify(cast: Cast) -> None:
    before = code_sign(institution=cast.institution_a, payload=payload())
    new_key = ticket_keys_rotate(institution=cast.institution_a, now=T0, actor="user:admin-a")
    old_key = SigningKey.objects.get(kid=before.kid)
    assert old_key.retired_at == T0 and new_key.retired_at is None and new_key.kid != old_key.kid
    after = code_sign(institution=cast.institution_a, payload=payload())
    assert after.kid == new_key.kid
    keys = public_keys(institution=cast.institution_a)
    assert set(keys) == {old_key.kid, new_key.kid}
    assert code_verify(before.code, keys).code_id == before.code_id
    assert code_verify(after.code, keys).code_id == after.code_id
    fact = Fact.objects.get(type="ticketing.keys.rotated")
    assert fact.actor == "user:admin-a" and old_key.kid in fact.body and new_key.kid in fact.body


def test_a_rotation_without_a_key_makes_the_first_one(cast: Cast) -> None:
    key = ticket_keys_rotate(institution=cast.institution_b, now=T0)
    assert list(SigningKey.objects.filter(institution=cast.institution_b)) == [key]


# --- QR ----------------------------------------------------------------------------------------


def test_the_longest_code_fits_a_qr_code_of_version_10_or_less_and_decodes(signer: Signer) -> None:
    largest = payload(
        product_id=U32, entrance_id=U32, tariff_id=U32, window_minutes=2**16 - 1, party_size=255
    )
    code = signer.sign(largest).code
    symbol = qr(code)
    assert isinstance(symbol.version, int) and symbol.version <= MAX_QR_VERSION
    assert symbol.version == 7 and not symbol.is_micro and symbol.mode == "alphanumeric"
    with Image.open(io.BytesIO(qr_png(code))) as image:
        found = zxingcpp.read_barcodes(image)
    assert [(f.format.name, f.text) for f in found] == [("QRCode", code)]
    assert code_verify(found[0].text, keys_of(signer)) == largest


def test_the_qr_svg_is_an_inline_svg_of_the_requested_size(signer: Signer) -> None:
    svg = qr_svg(signer.sign(payload()).code, size_mm=40)
    assert svg.startswith("<svg") and 'width="40mm"' in svg and "<path" in svg and "<script" not in svg
