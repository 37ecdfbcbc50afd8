"""The EPCIS event hash ID of GS1 CBV 2.0, section 8.9: ``ni:///sha-256;<hex>?ver=CBV2.0``.

The hash is taken over a *pre-hash string*: the event's fields in a canonical order, each value
canonicalised (timestamps in UTC to the millisecond, numbers without trailing zeros, CBV values
as web URIs, GS1 keys as constrained canonical GS1 Digital Link URIs, lists sorted, CURIEs and
extension names expanded with their namespaces), concatenated without separators. ``eventID``,
``recordTime``, ``errorDeclaration`` and ``certificationInfo`` do not take part.

An ID is only useful if a partner computes the same one, so the field order is the one of GS1's
reference implementation (``epcis-event-hash-generator`` 1.9.3), which differs from the table in
the standard: ``parentID`` before ``epcList``; ``bizTransactionList``, ``sourceList``,
``destinationList`` and ``ilmd`` sorted in with the user extensions at the end; ``type`` before
the identifier in a transaction, source or destination. We part from the reference where it is
lossy or depends on the input's spelling: exact decimals, ``true``/``false``, half-up rounding of
timestamps, ``type`` first whatever the JSON key order, ``gs1:``/``cbv:``/``epcis:`` CURIEs
always expanded, percent-encoded Digital Link URIs and 12-digit-prefix GRAIs still converted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Container, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cimaise.core.errors import InvalidInput

Names = Mapping[str, str]
#: Renders one field (name, JSON value, namespaces) to its pre-hash substring, "" to leave it out.
Renderer = Callable[[str, Any, Names], str]

HASH_ALGORITHM = "sha-256"
CBV_VERSION = "CBV2.0"

_STANDARD_PREFIXES = {
    "gs1": "https://gs1.org/voc/",
    "cbv": "https://ref.gs1.org/cbv/",
    "epcis": "https://ref.gs1.org/epcis/",
}
_BIZ_STEP = "https://ref.gs1.org/cbv/BizStep-"
_DISPOSITION = "https://ref.gs1.org/cbv/Disp-"
_TRANSACTION_TYPE = "https://ref.gs1.org/cbv/BTT-"
_PARTY_TYPE = "https://ref.gs1.org/cbv/SDT-"
_COMPONENT = "https://ref.gs1.org/cbv/Comp-"
_GS1_VOC = _STANDARD_PREFIXES["gs1"]
_CBV_URNS = {
    "urn:epcglobal:cbv:bizstep:": _BIZ_STEP,
    "urn:epcglobal:cbv:disp:": _DISPOSITION,
    "urn:epcglobal:cbv:btt:": _TRANSACTION_TYPE,
    "urn:epcglobal:cbv:sdt:": _PARTY_TYPE,
    "urn:epcglobal:cbv:er:": "https://ref.gs1.org/cbv/ER-",
}
_EVENT_IGNORED = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "certificationInfo"})
_SKIPPED = frozenset({"@context", "#text", "rdfs:comment", "comment"})

_BARE_TERM = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CURIE = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*):(.*)", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))?", re.ASCII
)


class EventHashError(InvalidInput):
    """The event cannot be hashed: not an object, no ``type``, or a field of the wrong shape."""

    code = "event_hash_invalid"


def event_hash(event: Mapping[str, Any], *, context: Mapping[str, str] | None = None) -> str:
    """The CBV 2.0 event hash ID of one EPCIS 2.0 event (a parsed JSON-LD object).

    ``context`` maps the namespace prefixes declared in the document's ``@context`` to their IRIs;
    user extension names and CURIE values are expanded with it.
    """
    text = prehash_string(event, context=context)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"ni:///{HASH_ALGORITHM};{digest}?ver={CBV_VERSION}"


def prehash_string(event: Mapping[str, Any], *, context: Mapping[str, str] | None = None) -> str:
    """The canonical pre-hash string that :func:`event_hash` digests."""
    if not isinstance(event, Mapping):
        raise EventHashError("an EPCIS event must be a JSON object")
    kind = event.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise EventHashError("an EPCIS event needs a type", field="type")
    names = _namespaces(context, event.get("@context"))
    ordered = (render(name, event[name], names) for name, render in _EVENT_FIELDS.items() if name in event)
    rest = [
        entry
        for key, value in event.items()
        if key not in _EVENT_FIELDS and key not in _EVENT_IGNORED and not _skipped(key)
        for entry in _tail_entries(key, value, names)
    ]
    return f"eventType={kind.strip()}" + "".join(ordered) + "".join(sorted(rest))


def _namespaces(context: Mapping[str, str] | None, embedded: Any) -> dict[str, str]:
    """Prefixes of the document, of the event's own ``@context``, and the protected standard ones."""
    declared: dict[str, str] = dict(context or {})
    for entry in embedded if isinstance(embedded, list) else [embedded]:
        if isinstance(entry, Mapping):
            declared.update({k: v for k, v in entry.items() if isinstance(k, str) and isinstance(v, str)})
    return declared | _STANDARD_PREFIXES


def _skipped(key: str) -> bool:
    """JSON-LD and comment keys, which are no event data."""
    return key in _SKIPPED or key.startswith("@xmlns")


def _tail_entries(key: str, value: Any, names: Names) -> list[str]:
    special = _TAIL_FIELDS.get(key)
    if special is None:
        return _generic(_expand_key(key, names), value, names)
    text = special(key, value, names)
    return [text] if text else []


# Values ------------------------------------------------------------------------------------------


def _value(raw: Any, names: Names, vocabulary: str = "") -> str:
    """The canonical text of a leaf value, "" for an empty one (null counts as empty)."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return _number(Decimal(raw))
    if isinstance(raw, float):
        return _number(Decimal(repr(raw)))
    if not isinstance(raw, str):
        raise EventHashError(f"expected a string or a number, got {type(raw).__name__}")
    text = _expand_curie(raw.strip(), names)
    if vocabulary and _BARE_TERM.fullmatch(text):
        text = vocabulary + text
    text = _cbv_web_uri(text)
    if _NUMBER.fullmatch(text):
        return _number(Decimal(text))
    return _digital_link(text) or text


def _number(value: Decimal) -> str:
    """Plain decimal notation without trailing zeros: 26.0 → 26, 0.34340 → 0.3434, 1e-5 → 0.00001."""
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _expand_curie(text: str, names: Names) -> str:
    match = _CURIE.fullmatch(text)
    if match is None or match[1] not in names:
        return text
    return names[match[1]] + match[2]


def _expand_key(key: str, names: Names) -> str:
    """``example:myField`` → ``{http://ns.example.com/epcis/}myField`` when the prefix is declared."""
    prefix, sep, local = key.partition(":")
    return f"{{{names[prefix]}}}{local}" if sep and prefix in names else key


def _cbv_web_uri(text: str) -> str:
    """``urn:epcglobal:cbv:bizstep:shipping`` → ``https://ref.gs1.org/cbv/BizStep-shipping``."""
    for urn, web in _CBV_URNS.items():
        if text.startswith(urn):
            return web + text[len(urn) :]
    return text


def _timestamp(raw: Any, names: Names) -> str:
    """UTC at millisecond precision, half-up rounded; a value that is no timestamp stays as written."""
    if not isinstance(raw, str):
        return _value(raw, names)
    text = raw.strip()
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return text
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    millis = (Decimal("0." + (match[7] or "0")) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    try:
        moment = dt.datetime(year, month, day, hour, minute, second, tzinfo=_zone(match))
        utc = (moment + dt.timedelta(milliseconds=int(millis))).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return text
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _zone(match: re.Match[str]) -> dt.tzinfo:
    """The written offset; none written counts as UTC (the reference would use the host's zone)."""
    if not match[9]:
        return dt.UTC
    offset = dt.timedelta(hours=int(match[10]), minutes=int(match[11]))
    return dt.timezone(-offset if match[9] == "-" else offset)


# GS1 keys: EPC URIs and GS1 Digital Link URIs to constrained canonical Digital Link ------------

_DL_ROOT = "https://id.gs1.org"
_CHAR = r"(?:%[0-9A-Fa-f]{2}|[!'()*+,\-.0-9:;=A-Z_a-z])"  # one character of an EPC URI component
_DL_CHAR = r"(?:%[0-9A-Fa-f]{2}|[\"'\-.0-9;<=>A-Z_a-z])"  # of a GS1 key in a Digital Link path
_CPI_CHAR = r"(?:%2[3Ff]|[0-9A-Z-])"
_EPC = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.+)", re.DOTALL)
_DL = re.compile(r"https?://[^/?#]+(/[^?#]*)(?:\?[^#]*)?(?:#.*)?", re.DOTALL)
_KEY_NAMES = {
    "gtin": "01", "itip": "8006", "cpid": "8010", "gln": "414", "party": "417", "gsrnp": "8017",
    "gsrn": "8018", "gcn": "255", "sscc": "00", "gdti": "253", "ginc": "401", "gsin": "402",
    "grai": "8003", "giai": "8004", "cpv": "22", "lot": "10", "ser": "21", "tpx": "235",
    "glnx": "254", "cpsn": "8011",
}  # fmt: skip
_PRIMARY_KEYS = {
    "00": r"\d{18}", "01": r"\d{14}", "253": rf"\d{{13}}{_DL_CHAR}{{0,17}}", "255": r"\d{13,25}",
    "401": rf"\d{{4}}{_DL_CHAR}{{1,26}}", "402": r"\d{17}", "414": r"\d{13}", "417": r"\d{13}",
    "8003": rf"\d{{14}}{_DL_CHAR}{{0,16}}", "8004": rf"\d{{4}}{_DL_CHAR}{{1,26}}", "8006": r"\d{18}",
    "8010": rf"\d{{4}}{_CPI_CHAR}{{1,26}}", "8017": r"\d{18}", "8018": r"\d{18}",
}  # fmt: skip
#: The qualifiers a constrained canonical URI keeps, finest first: a serial beats a lot.
_QUALIFIERS = {"01": ("21", "10", "235"), "8006": ("21", "10"), "8010": ("8011",), "414": ("254",)}
_QUALIFIER_VALUES = {"21": 20, "10": 20, "235": 28, "254": 20}


def _digital_link(text: str) -> str | None:
    """The constrained canonical GS1 Digital Link URI of a GS1 key, or None for anything else."""
    if text.startswith("urn:epc:"):
        return _from_epc(text)
    match = _DL.fullmatch(text)
    return _constrain(match[1]) if match else None


def _fits(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text, re.ASCII) is not None


def _check_digit(digits: str) -> str:
    """GS1 mod-10 check digit: weights 3, 1, 3, … from the rightmost digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def _keyed(company: str, reference: str, length: int, *, indicator_first: bool = False) -> str | None:
    """Company prefix + reference (6–12 digit prefix, ``length`` digits in all) with its check digit."""
    if not (6 <= len(company) <= 12 and len(company) + len(reference) == length):
        return None
    if not _fits(r"[0-9]+", company + reference):
        return None
    body = reference[:1] + company + reference[1:] if indicator_first else company + reference
    return body + _check_digit(body)


def _component(text: str, longest: int, *, shortest: int = 1) -> str | None:
    """An EPC URI component, percent-encoding what GS1 Digital Link wants encoded."""
    if not _fits(rf"{_CHAR}{{{shortest},{longest}}}", text):
        return None
    return text.translate({ord(c): f"%{ord(c):02X}" for c in "!()*+,:"})


def _link(*parts: str | None) -> str | None:
    return None if any(p is None for p in parts) else "".join([_DL_ROOT, *(p for p in parts if p)])


def _from_epc(uri: str) -> str | None:
    match = _EPC.fullmatch(uri)
    if match is None:
        return None
    convert = _EPC_SCHEMES.get(f"{match[1]}:{match[2]}")
    if convert is None:
        return None
    arity, build = convert
    parts = match[3].split(".", arity - 1)
    return build(parts) if len(parts) == arity else None


def _gtin(parts: list[str]) -> str | None:
    return _keyed(parts[0], parts[1], 13, indicator_first=True)


def _asset(parts: list[str]) -> str | None:
    """A GRAI's first 14 digits: a zero, then prefix and asset type with their check digit."""
    key = _keyed(parts[0], parts[1], 12)
    return "0" + key if key else None


def _gcp_ref(parts: list[str], longest: int) -> str | None:
    """Company prefix + free-text reference (GIAI, GINC): up to ``longest`` characters in all."""
    if not _fits(r"[0-9]{6,12}", parts[0]):
        return None
    return _component(parts[0] + parts[1], longest, shortest=len(parts[0]) + 1)


def _cpi(parts: list[str]) -> str | None:
    if not _fits(r"[0-9]{6,12}", parts[0]) or len(parts[0] + parts[1]) > 30:
        return None
    return parts[0] + parts[1] if _fits(rf"{_CPI_CHAR}+", parts[1]) else None


def _digits(text: str, longest: int) -> str | None:
    return text if _fits(rf"[0-9]{{1,{longest}}}", text) else None


def _itip(parts: list[str]) -> str | None:
    """An ITIP's 18 digits: the GTIN, then piece and total."""
    gtin, pieces = _gtin(parts), parts[2] + parts[3]
    return gtin + pieces if gtin and _fits(r"[0-9]{4}", pieces) else None


_Build = Callable[[list[str]], str | None]


def _pattern(build: _Build) -> _Build:
    """An EPC pattern URI whose last component is ``*``: the class it denotes."""
    return lambda parts: build(parts[:-1]) if parts[-1] == "*" else None


_EPC_SCHEMES: dict[str, tuple[int, _Build]] = {
    "id:sgtin": (3, lambda p: _link("/01/", _gtin(p), "/21/", _component(p[2], 20))),
    "id:sscc": (2, lambda p: _link("/00/", _keyed(p[0], p[1], 17, indicator_first=True))),
    "id:sgln": (3, lambda p: _link("/414/", _keyed(p[0], p[1], 12), *_extension(p[2]))),
    "id:grai": (3, lambda p: _link("/8003/", _asset(p), _component(p[2], 16))),
    "id:giai": (2, lambda p: _link("/8004/", _gcp_ref(p, 30))),
    "id:gsrn": (2, lambda p: _link("/8018/", _keyed(p[0], p[1], 17))),
    "id:gsrnp": (2, lambda p: _link("/8017/", _keyed(p[0], p[1], 17))),
    "id:gdti": (3, lambda p: _link("/253/", _keyed(p[0], p[1], 12), _component(p[2], 17, shortest=0))),
    "id:cpi": (3, lambda p: _link("/8010/", _cpi(p), "/8011/", _digits(p[2], 12))),
    "id:sgcn": (3, lambda p: _link("/255/", _keyed(p[0], p[1], 12), _digits(p[2], 12))),
    "id:ginc": (2, lambda p: _link("/401/", _gcp_ref(p, 30))),
    "id:gsin": (2, lambda p: _link("/402/", _keyed(p[0], p[1], 16))),
    "id:itip": (5, lambda p: _link("/8006/", _itip(p), "/21/", _component(p[4], 20))),
    "id:upui": (3, lambda p: _link("/01/", _gtin(p), "/235/", _component(p[2], 28))),
    "id:pgln": (2, lambda p: _link("/417/", _keyed(p[0], p[1], 12))),
    "class:lgtin": (3, lambda p: _link("/01/", _gtin(p), "/10/", _component(p[2], 20))),
    "idpat:sgtin": (3, _pattern(lambda p: _link("/01/", _gtin(p)))),
    "idpat:grai": (3, _pattern(lambda p: _link("/8003/", _asset(p)))),
    "idpat:gdti": (3, _pattern(lambda p: _link("/253/", _keyed(p[0], p[1], 12)))),
    "idpat:sgcn": (3, _pattern(lambda p: _link("/255/", _keyed(p[0], p[1], 12)))),
    "idpat:cpi": (3, _pattern(lambda p: _link("/8010/", _cpi(p)))),
    "idpat:itip": (5, _pattern(lambda p: _link("/8006/", _itip(p)))),
    "idpat:upui": (3, _pattern(lambda p: _link("/01/", _gtin(p)))),
}


def _extension(text: str) -> tuple[str, ...] | tuple[None]:
    """A GLN extension: none when it is ``0``, else ``/254/…``."""
    if text == "0":
        return ()
    encoded = _component(text, 20)
    return ("/254/", encoded) if encoded else (None,)


def _constrain(path: str) -> str | None:
    """The GS1 key of a Digital Link path, on id.gs1.org, with its finest qualifier only."""
    segments = path.split("/")[1:]
    if segments and not segments[-1]:
        segments.pop()
    for start, segment in enumerate(segments):
        key = _KEY_NAMES.get(segment, segment)
        if key in _PRIMARY_KEYS and (len(segments) - start) % 2 == 0:
            return _canonical_key(key, segments[start + 1], segments[start + 2 :])
    return None


def _canonical_key(key: str, value: str, rest: list[str]) -> str | None:
    if key == "01" and _fits(r"[0-9]{8}|[0-9]{12,13}", value):
        value = value.zfill(14)
    if not _fits(_PRIMARY_KEYS[key], value):
        return None
    qualifiers = {_KEY_NAMES.get(rest[i], rest[i]): rest[i + 1] for i in range(0, len(rest), 2)}
    for qualifier in _QUALIFIERS.get(key, ()):
        if qualifier in qualifiers:
            return _qualified(f"{_DL_ROOT}/{key}/{value}", qualifier, qualifiers[qualifier])
    return f"{_DL_ROOT}/{key}/{value}"


def _qualified(base: str, qualifier: str, value: str) -> str | None:
    pattern = r"\d{1,12}" if qualifier == "8011" else rf"{_DL_CHAR}{{1,{_QUALIFIER_VALUES[qualifier]}}}"
    return f"{base}/{qualifier}/{value}" if _fits(pattern, value) else None


# Fields ------------------------------------------------------------------------------------------


def _members(value: Any) -> Iterable[Any]:
    if value is None:
        return ()
    return value if isinstance(value, list) else (value,)


def _scalar(vocabulary: str = "") -> Renderer:
    """``name=value``; ``vocabulary`` prefixes a bare CBV term (``shipping`` → ``…BizStep-shipping``)."""

    def render(name: str, value: Any, names: Names) -> str:
        if isinstance(value, Mapping | list):
            raise EventHashError(f"{name} must be a single value", field=name)
        text = _value(value, names, vocabulary)
        return f"{name}={text}" if text else ""

    return render


def _time(name: str, value: Any, names: Names) -> str:
    text = _timestamp(value, names)
    return f"{name}={text}" if text else ""


def _repeated(render: Renderer) -> Renderer:
    """A JSON list whose members each render under ``name``, in lexical order."""
    return lambda name, value, names: "".join(sorted(render(name, item, names) for item in _members(value)))


def _wrapped(member: str, render: Renderer) -> Renderer:
    """A list field whose members have their own name: ``epcList`` of ``epc``, ``quantityElement``…"""

    def wrap(name: str, value: Any, names: Names) -> str:
        body = _repeated(render)(member, value, names)
        return name + body if body else ""

    return wrap


def _record(fields: Mapping[str, Renderer]) -> Renderer:
    """An object: its standard fields in order, then its user extensions in lexical order."""

    def render(name: str, value: Any, names: Names) -> str:
        if isinstance(value, list):
            return _repeated(render)(name, value, names)
        if not isinstance(value, Mapping):
            return _scalar()(name, value, names)
        known = "".join(field(key, value[key], names) for key, field in fields.items() if key in value)
        body = known + "".join(sorted(_extensions(value, fields, names)))
        return name + body if body else ""

    return render


def _extensions(value: Mapping[str, Any], known: Container[str], names: Names) -> list[str]:
    return [
        entry
        for key, item in value.items()
        if key not in known and not _skipped(key)
        for entry in _generic(_expand_key(key, names), item, names)
    ]


def _generic(name: str, value: Any, names: Names) -> list[str]:
    """Entries of a field outside the canonical order (ilmd, user extensions), children sorted.

    A JSON list becomes one entry per member; under a name ending in ``List`` the members are
    wrapped and renamed as in XML (``fooList`` of ``foo``).
    """
    if name.endswith("List") and len(name) > 4:
        members = [entry for item in _members(value) for entry in _generic(name[:-4], item, names)]
        return [name + "".join(sorted(members))] if members else []
    if isinstance(value, list):
        return [entry for item in value for entry in _generic(name, item, names)]
    if isinstance(value, Mapping):
        text = _value(value.get("#text"), names)
        children = "".join(sorted(_extensions(value, (), names)))
        return [name + (f"={text}" if text else "") + children]
    text = _value(value, names)
    return [name + (f"={text}" if text else "")]


def _typed(member: str, vocabulary: str) -> Renderer:
    """A business transaction, source or destination: ``type=…`` then ``member=…``."""
    fields = {"type": _scalar(vocabulary), member: _scalar()}
    return lambda _name, value, names: _record(fields)("", value, names)


_PLAIN = _scalar()
_QUANTITY = _record({"epcClass": _PLAIN, "quantity": _PLAIN, "uom": _PLAIN})
_SENSOR_METADATA = _record(
    {"time": _time, "startTime": _time, "endTime": _time}
    | dict.fromkeys(("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"), _PLAIN)
)
_SENSOR_REPORT = _record(
    {"type": _scalar(_GS1_VOC), "exception": _scalar(_GS1_VOC)}
    | dict.fromkeys(("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod"), _PLAIN)
    | {"time": _time, "microorganism": _PLAIN, "chemicalSubstance": _PLAIN, "value": _PLAIN}
    | {"component": _scalar(_COMPONENT)}
    | dict.fromkeys(("stringValue", "booleanValue", "hexBinaryValue", "uriValue", "minValue"), _PLAIN)
    | dict.fromkeys(("maxValue", "meanValue", "sDev", "percRank", "percValue", "uom"), _PLAIN)
    | {"coordinateReferenceSystem": _PLAIN}
)
_SENSOR_ELEMENT = _record({"sensorMetadata": _SENSOR_METADATA, "sensorReport": _repeated(_SENSOR_REPORT)})
_LOCATION = _record({"id": _PLAIN})
_EPCS = _wrapped("epc", _PLAIN)
_QUANTITIES = _wrapped("quantityElement", _QUANTITY)
_DISPOSITIONS = _repeated(_scalar(_DISPOSITION))

#: The canonical property order, as the reference implementation applies it.
_EVENT_FIELDS: dict[str, Renderer] = {
    "eventTime": _time,
    "eventTimeZoneOffset": _PLAIN,
    "parentID": _PLAIN,
    "epcList": _EPCS,
    "inputEPCList": _EPCS,
    "childEPCs": _EPCS,
    "quantityList": _QUANTITIES,
    "childQuantityList": _QUANTITIES,
    "inputQuantityList": _QUANTITIES,
    "outputEPCList": _EPCS,
    "outputQuantityList": _QUANTITIES,
    "action": _PLAIN,
    "transformationID": _PLAIN,
    "bizStep": _scalar(_BIZ_STEP),
    "disposition": _scalar(_DISPOSITION),
    "persistentDisposition": _record({"set": _DISPOSITIONS, "unset": _DISPOSITIONS}),
    "readPoint": _LOCATION,
    "bizLocation": _LOCATION,
    "sensorElementList": _wrapped("sensorElement", _SENSOR_ELEMENT),
}
#: Standard fields that are sorted in with the user extensions at the end.
_TAIL_FIELDS: dict[str, Renderer] = {
    "bizTransactionList": _wrapped("", _typed("bizTransaction", _TRANSACTION_TYPE)),
    "sourceList": _wrapped("", _typed("source", _PARTY_TYPE)),
    "destinationList": _wrapped("", _typed("destination", _PARTY_TYPE)),
}
