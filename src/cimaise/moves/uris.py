"""Identifiers in custody events: our URNs, GS1 EPC URNs and GS1 Digital Link URIs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

OWN_KINDS = ("work", "crate", "place", "vehicle", "convoy")
_EXTERNAL_PREFIXES = ("urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:")


class IdentifierError(ValueError):
    """An identifier of a type custody does not know."""


@dataclass(frozen=True)
class Identifier:
    """``kind`` is one of :data:`OWN_KINDS` or ``external``; own identifiers carry their parts."""

    uri: str
    kind: str
    institution: str = ""
    key: str = ""


@lru_cache(maxsize=200_000)
def parse_identifier(uri: str) -> Identifier:
    """Classify an identifier or raise :class:`IdentifierError`."""
    if not isinstance(uri, str) or not uri or uri != uri.strip():
        raise IdentifierError("an identifier must be a non-empty URI without surrounding spaces")
    if uri.startswith("urn:cimaise:"):
        return _own(uri)
    if uri.startswith(_EXTERNAL_PREFIXES) or _is_digital_link(uri):
        return Identifier(uri=uri, kind="external")
    raise IdentifierError(
        f"{uri!r} is not a known identifier type (urn:cimaise:…, urn:epc:…, or a GS1 Digital Link URI)"
    )


def _own(uri: str) -> Identifier:
    parts = uri.split(":")
    if len(parts) != 5 or parts[2] not in OWN_KINDS or not parts[3] or not parts[4]:
        kinds = ", ".join(OWN_KINDS)
        raise IdentifierError(f"{uri!r} must be urn:cimaise:{{{kinds}}}:{{institution}}:{{key}}")
    return Identifier(uri=uri, kind=parts[2], institution=parts[3], key=unquote(parts[4]))


def _is_digital_link(uri: str) -> bool:
    """An http(s) URI whose path holds a GS1 primary key (01 GTIN, 00 SSCC, 414 GLN, 8003 GRAI…)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    segments = [s for s in parts.path.split("/") if s]
    keys = {
        "00",
        "01",
        "253",
        "255",
        "401",
        "402",
        "414",
        "417",
        "8003",
        "8004",
        "8006",
        "8010",
        "8017",
        "8018",
    }
    return any(s in keys and i + 1 < len(segments) for i, s in enumerate(segments))
