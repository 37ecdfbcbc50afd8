"""EPCIS/CBV 2.0 vocabulary: the standard's bizStep and disposition values, in their three
spellings (bare, ``https://ref.gs1.org/cbv/…``, ``urn:epcglobal:cbv:…``), plus our own URIs."""

from __future__ import annotations

BIZ_STEPS = frozenset(
    """accepting arriving assembling collecting commissioning consigning creating_class_instance
    cycle_counting decommissioning departing destroying disassembling dispensing encoding
    entering_exiting holding inspecting installing killing loading other packing picking receiving
    removing repackaging repairing replacing reserving retail_selling sampling sensor_reporting
    shipping staging_outbound stock_taking stocking storing transporting unloading unpacking
    void_shipping""".split()
)
DISPOSITIONS = frozenset(
    """active available completeness_inferred completeness_verified conformant container_closed
    container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit
    inactive mismatch_class mismatch_instance mismatch_quantity needs_replacement no_pedigree_match
    non_conformant non_sellable_other partially_dispensed recalled reserved retail_sold returned
    sellable_accessible sellable_not_accessible stolen unavailable unknown""".split()
)

#: Our own bizSteps: the acclimatisation of crates on arrival (a kind of ``holding``); sealing and
#: unsealing a truck (the seal numbers ride in ``cimaise:seals``); closing a convoy.
ACCLIMATISING = "urn:cimaise:bizstep:acclimatising"
SEALING = "urn:cimaise:bizstep:sealing"
UNSEALING = "urn:cimaise:bizstep:unsealing"
CONVOY_CLOSING = "urn:cimaise:bizstep:convoy_closing"
OWN_BIZ_STEPS = frozenset({ACCLIMATISING, SEALING, UNSEALING, CONVOY_CLOSING})
#: The JSON-LD prefix of our extension fields.
OWN_CONTEXT = {"cimaise": "urn:cimaise:epcis:"}

_PREFIXES = {
    "bizStep": ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": ("https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
}
_VALUES = {"bizStep": BIZ_STEPS, "disposition": DISPOSITIONS}


class VocabularyError(ValueError):
    """A value that is neither in the CBV nor a URI of another vocabulary."""


def is_uri(value: str) -> bool:
    scheme, sep, rest = value.partition(":")
    return bool(sep and rest and scheme.isascii() and scheme.replace("-", "").isalnum() and " " not in value)


def normalise(field: str, value: str) -> str:
    """The bare CBV name for a standard value, the URI itself for another vocabulary."""
    for prefix in _PREFIXES[field]:
        if value.startswith(prefix):
            bare = value[len(prefix) :]
            if bare in _VALUES[field]:
                return bare
            raise VocabularyError(f"{value!r} is not a CBV {field}")
    if value in _VALUES[field]:
        return value
    if is_uri(value):
        return value
    raise VocabularyError(f"{value!r} is neither a CBV {field} nor a vocabulary URI")


def web_uri(field: str, value: str) -> str:
    """The GS1 web URI of a bare CBV value (other values are URIs already)."""
    return f"{_PREFIXES[field][0]}{value}" if value in _VALUES[field] else value
