"""Fuzzing the code parser and the lanes: whatever text a scanner sends (random, truncated, a
character changed, re-signed with an unknown version, huge, empty), ``code_verify`` answers with
the payload of a genuine code or raises ``ForgedCode``, never another exception; and
``POST /api/v1/access/scans`` answers such a code with HTTP 200, ``forged`` (or ``unknown`` for
a genuine signature on a code sold nowhere), never a 5xx."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cimaise.access.tests.conftest import Gate, make_gate, nonce
from cimaise.core.tests.personas import Cast
from cimaise.ticketing.codes import (
    CODE_BYTES,
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
    unpack,
)

B45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
BODY_BYTES = CODE_BYTES - 64
MEGABYTE = 2**20
FAST = settings(max_examples=100, deadline=None)
T0 = dt.datetime(2019, 10, 24, 7, 0, tzinfo=dt.UTC)
KID = "louvre-tickets-20191001-fuzzed"
SIGNER = Signer(kid=KID, key=Ed25519PrivateKey.generate())
KEYS: dict[str, Ed25519PublicKey] = {KID: SIGNER.key.public_key()}


def a_payload(**changes: Any) -> CodePayload:
    base = CodePayload(
        code_id=new_code_id(), product_id=12, entrance_id=3, starts_at=T0, window_minutes=30, tariff_id=41
    )
    return dataclasses.replace(base, **changes)


GENUINE = SIGNER.sign(a_payload()).code


def forged(code: str) -> ForgedCode:
    """The ``ForgedCode`` that verifying ``code`` raises (any other exception fails the test)."""
    with pytest.raises(ForgedCode) as caught:
        code_verify(code, KEYS)
    assert caught.value.code == "forged"
    return caught.value


def signed(body: bytes, key: Ed25519PrivateKey = SIGNER.key) -> str:
    """A code of any body, signed as our key would: what a holder of a leaked key could make."""
    return PREFIX + b45encode(body + key.sign(body))


# --- text that is not a code -------------------------------------------------------------------


@FAST
@given(text=st.text(max_size=400))
@example(text="")
@example(text=PREFIX)
@example(text="\x00" * 162)
def test_any_text_is_forged(text: str) -> None:
    forged(text)
    forged(PREFIX + text)


@FAST
@given(data=st.binary(max_size=400))
def test_any_bytes_read_as_text_are_forged(data: bytes) -> None:
    text = data.decode("latin-1")
    forged(text)
    forged(PREFIX + text)


@FAST
@given(text=st.text(alphabet=B45_ALPHABET, max_size=400))
@example(text="GGW")  # a group above 0xFFFF
@example(text=":::" * 52 + "::")  # the right length, every group out of range
@example(text="0" * (len(GENUINE) - len(PREFIX) - 1))  # a dangling character
def test_any_base45_text_is_forged(text: str) -> None:
    forged(PREFIX + text)


@FAST
@given(raw=st.binary(min_size=CODE_BYTES, max_size=CODE_BYTES))
def test_random_bytes_of_the_right_length_are_forged(raw: bytes) -> None:
    forged(PREFIX + b45encode(raw))
    forged(PREFIX + b45encode(raw[:1] + key_tag(KID) + raw[5:]))  # naming our key, reaching the check


@FAST
@given(
    text=st.text(alphabet=st.characters(exclude_characters=B45_ALPHABET), min_size=1, max_size=5),
    at=st.integers(0, len(GENUINE) - len(PREFIX)),
)
def test_a_character_outside_base45_anywhere_makes_the_code_forged(text: str, at: int) -> None:
    body = GENUINE[len(PREFIX) :]
    forged(PREFIX + body[:at] + text + body[at:])
    forged(PREFIX + body[:at] + text + body[at + len(text) :])


def test_a_huge_text_is_forged_at_once() -> None:
    for huge in (
        PREFIX + "A" * MEGABYTE,
        PREFIX + "0" * 3 * (MEGABYTE // 3),  # a length base45 could decode
        PREFIX + B45_ALPHABET * (MEGABYTE // 45),
        GENUINE * (MEGABYTE // len(GENUINE)),
        "\U0001f3ab" * MEGABYTE,
    ):
        forged(huge)


# --- a genuine code, damaged --------------------------------------------------------------------


@FAST
@given(length=st.integers(0, len(GENUINE) - 1))
def test_a_truncated_code_is_forged(length: int) -> None:
    forged(GENUINE[:length])
    forged(GENUINE[len(GENUINE) - length :])


@FAST
@given(at=st.integers(0, len(GENUINE) - 1), char=st.characters())
def test_a_code_with_a_changed_character_is_forged(at: int, char: str) -> None:
    changed = GENUINE[:at] + char + GENUINE[at + 1 :]
    if changed == GENUINE:
        return
    forged(changed)


@FAST
@given(at=st.integers(0, CODE_BYTES - 1), mask=st.integers(1, 255))
def test_a_code_with_a_flipped_bit_is_forged(at: int, mask: int) -> None:
    raw = bytearray(b45decode(GENUINE[len(PREFIX) :]))
    raw[at] ^= mask
    forged(PREFIX + b45encode(bytes(raw)))


@FAST
@given(suffix=st.text(min_size=1, max_size=20))
def test_a_code_with_anything_appended_is_forged(suffix: str) -> None:
    forged(GENUINE + suffix)


def test_the_genuine_code_itself_verifies() -> None:
    assert code_verify(GENUINE, KEYS).entrance_id == 3


# --- re-signed: the signature matches, the body is not one of ours -------------------------------


def _body(**fields: int) -> bytes:
    good = pack(a_payload(), key_tag(KID))
    values = dict(zip(("version", "flags", "party"), (good[0], good[39], good[40]), strict=True))
    values.update(fields)
    return bytes([values["version"]]) + good[1:39] + bytes([values["flags"], values["party"]])


@FAST
@given(version=st.integers(0, 255).filter(lambda v: v != 1))
def test_a_wrong_version_is_forged_signed_or_not(version: int) -> None:
    body = _body(version=version)
    forged(signed(body))
    raw = bytearray(b45decode(GENUINE[len(PREFIX) :]))
    raw[0] = version
    forged(PREFIX + b45encode(bytes(raw)))


@FAST
@given(flags=st.integers(2, 255), party=st.integers(0, 255))
def test_unknown_flags_or_no_party_are_forged_even_signed(flags: int, party: int) -> None:
    forged(signed(_body(flags=flags)))
    forged(signed(_body(party=0)))
    assert code_verify(signed(_body(party=max(1, party))), KEYS).party_size == max(1, party)


@FAST
@given(
    version=st.integers(0, 255),
    fields=st.binary(min_size=34, max_size=34),  # code id, product, entrance, start, window, tariff
    flags=st.integers(0, 255),
    party=st.integers(0, 255),
)
@example(version=1, fields=bytes(24) + b"\xff" * 4 + bytes(6), flags=0, party=1)  # the year 10136
@example(version=1, fields=b"\xff" * 34, flags=1, party=255)
def test_any_signed_body_verifies_to_a_payload_or_is_forged(
    version: int, fields: bytes, flags: int, party: int
) -> None:
    body = bytes([version]) + key_tag(KID) + fields + bytes([flags, party])
    try:
        payload = code_verify(signed(body), KEYS)
    except ForgedCode:
        return
    assert payload.starts_at.tzinfo is not None and payload.party_size == party >= 1
    assert SIGNER.sign(payload).code == signed(body)  # nothing read that the signer would not write


@FAST
@given(body=st.binary(max_size=200) | st.binary(min_size=BODY_BYTES, max_size=BODY_BYTES))
def test_unpack_reads_a_payload_or_refuses_it_as_forged(body: bytes) -> None:
    try:
        tag, payload = unpack(body)
    except ForgedCode:
        return
    assert len(body) == BODY_BYTES and tag == body[1:5]
    assert pack(payload, tag) == body


# --- base45, the layer below ---------------------------------------------------------------------


@FAST
@given(text=st.text(alphabet=B45_ALPHABET + "abc_\x00é", max_size=60))
def test_base45_decodes_canonical_text_back_or_says_value_error(text: str) -> None:
    try:
        data = b45decode(text)
    except ValueError:
        return
    assert b45encode(data) == text


# --- through the lanes -----------------------------------------------------------------------------

URL = "/api/v1/access/scans"
codes_sent = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=B45_ALPHABET, max_size=300).map(lambda t: PREFIX + t),
    st.binary(min_size=CODE_BYTES, max_size=CODE_BYTES).map(lambda b: PREFIX + b45encode(b)),
    st.integers(0, len(GENUINE) - 1).map(lambda n: GENUINE[:n]),
    st.tuples(st.integers(0, len(GENUINE) - 1), st.characters()).map(
        lambda t: GENUINE[: t[0]] + t[1] + GENUINE[t[0] + 1 :]
    ),
    st.sampled_from(["", "CM1:", "A" * MEGABYTE, PREFIX + "A" * MEGABYTE, GENUINE * 3000]),
)


def scan(cast: Cast, code: str) -> dict[str, Any]:
    data = {
        "code": code,
        "entrance": "PYR",
        "lane": "L1",
        "direction": "in",
        "nonce": nonce(),
        "scanned_at": timezone.now().isoformat(),
    }
    response = cast.gate_agent_a.client().post(URL, data, content_type="application/json")
    assert response.status_code == 200, response.content[:500]
    answer: dict[str, Any] = response.json()
    return answer


@pytest.fixture
def gate(cast: Cast) -> Gate:
    return make_gate(cast)


@given(code=codes_sent)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_code_sent_to_a_lane_makes_a_server_error(cast: Cast, gate: Gate, code: str) -> None:
    answer = scan(cast, code)
    assert (answer["result"], answer["reason"], answer["ticket"]) == ("rejected", "forged", None)


def test_damaged_and_strange_codes_at_a_lane_are_forged_or_unknown(cast: Cast, gate: Gate) -> None:
    genuine = gate.ticket.code
    raw = b45decode(genuine[len(PREFIX) :])
    strange = {
        "truncated": genuine[:-1],
        "a character changed": genuine[:10] + ("A" if genuine[10] != "A" else "B") + genuine[11:],
        "a bit flipped": PREFIX + b45encode(raw[:30] + bytes([raw[30] ^ 1]) + raw[31:]),
        "huge": PREFIX + "0" * MEGABYTE,
        "lower case": genuine.lower(),
        "empty": "",
    }
    for what, code in strange.items():
        assert scan(cast, code)["reason"] == "forged", what
    unsold = code_sign(institution=cast.institution_a, payload=a_payload()).code  # our key, no ticket
    assert scan(cast, unsold)["reason"] == "unknown"
    assert scan(cast, genuine)["reason"] == "expired"  # the real one, of 2019, still reads as a ticket
